"""Lifecycles: every allowed ticket/visit transition, and illegal ones answer with what is allowed."""

from __future__ import annotations

import itertools

import pytest

from dispatch.core.errors import IllegalTransition
from dispatch.domain.lifecycle import (
    TICKET_ACTION_FOR_VISIT_EVENT,
    TICKET_OPEN,
    TICKET_TERMINAL,
    TICKET_TRANSITIONS,
    VISIT_TERMINAL,
    VISIT_TRANSITIONS,
    TicketAction,
    TicketState,
    VisitAction,
    VisitState,
    allowed_actions,
    transition,
    visit_allowed_actions,
    visit_transition,
)

S, A, V, E = TicketState, TicketAction, VisitState, VisitAction


@pytest.mark.parametrize(("key", "target"), list(TICKET_TRANSITIONS.items()), ids=lambda x: str(x))
def test_every_ticket_transition(key: tuple[TicketState, TicketAction], target: TicketState) -> None:
    """Each row of the ticket table is applied exactly as written, also from plain strings."""
    state, action = key
    assert transition(state, action) is target
    assert transition(state.value, action.value) is target


ILLEGAL_TICKET = [k for k in itertools.product(S, A) if k not in TICKET_TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), ILLEGAL_TICKET, ids=lambda x: str(x))
def test_every_illegal_ticket_transition_lists_allowed(state: TicketState, action: TicketAction) -> None:
    """Anything not in the table is a 409 that tells the caller what the state allows."""
    with pytest.raises(IllegalTransition) as info:
        transition(state, action)
    assert info.value.status == 409
    assert info.value.allowed == allowed_actions(state)
    assert info.value.state == state.value and info.value.action == action.value


def test_happy_path_to_closed() -> None:
    """A ticket runs new → assigned → accepted → en_route → on_site → resolved → confirmed → closed."""
    state = S.NEW
    for action in ("assign", "accept", "start_travel", "arrive", "complete", "confirm", "close"):
        state = transition(state, action)
    assert state is S.CLOSED


def test_illegal_message_names_the_allowed_actions() -> None:
    """Completing a ticket nobody reached explains what can be done instead."""
    with pytest.raises(IllegalTransition) as info:
        transition("new", "complete")
    assert info.value.allowed == ["assign", "cancel", "mark_invalid", "auto_resolve"]
    assert "Allowed: assign, cancel, mark_invalid, auto_resolve." in info.value.detail


def test_unknown_action_is_illegal_not_a_crash() -> None:
    """An action name the API does not know answers 409 like any other illegal action."""
    with pytest.raises(IllegalTransition) as info:
        transition(S.ASSIGNED, "teleport")
    assert info.value.action == "teleport"


def test_terminal_states_allow_nothing() -> None:
    """Closed, cancelled and invalid tickets are final; a new complaint opens a new ticket."""
    assert {S.CLOSED, S.CANCELLED, S.INVALID} == TICKET_TERMINAL
    for state in TICKET_TERMINAL:
        assert allowed_actions(state) == []
    assert S.RESOLVED not in TICKET_OPEN and S.REOPENED in TICKET_OPEN


def test_auto_resolve_only_before_anyone_left() -> None:
    """A cleared alarm resolves the ticket only while no technician is on the way."""
    assert transition(S.ACCEPTED, A.AUTO_RESOLVE) is S.RESOLVED
    with pytest.raises(IllegalTransition):
        transition(S.EN_ROUTE, A.AUTO_RESOLVE)


def test_unsatisfied_confirmation_reopens() -> None:
    """An unsatisfied customer reopens the matter, which can be assigned again."""
    assert transition(S.RESOLVED, A.REOPEN) is S.REOPENED
    assert transition(S.REOPENED, A.ASSIGN) is S.ASSIGNED


@pytest.mark.parametrize(("key", "target"), list(VISIT_TRANSITIONS.items()), ids=lambda x: str(x))
def test_every_visit_transition(key: tuple[VisitState, VisitAction], target: VisitState) -> None:
    """Each row of the visit table is applied exactly as written."""
    assert visit_transition(*key) is target


ILLEGAL_VISIT = [k for k in itertools.product(V, E) if k not in VISIT_TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), ILLEGAL_VISIT, ids=lambda x: str(x))
def test_every_illegal_visit_event_lists_allowed(state: VisitState, action: VisitAction) -> None:
    """A technician event the job's state does not allow is a 409 with the allowed events."""
    with pytest.raises(IllegalTransition) as info:
        visit_transition(state, action)
    assert info.value.allowed == visit_allowed_actions(state)


def test_technician_job_flow_with_pause() -> None:
    """A job runs accept → en_route → arrived → paused ⇄ resumed → completed; position keeps the state."""
    state = V.ASSIGNED
    for event in ("accept", "position", "en_route", "cannot_meet_time", "position", "arrived", "paused"):
        state = visit_transition(state, event)
    assert state is V.PAUSED
    state = visit_transition(visit_transition(state, "resumed"), "completed")
    assert state is V.COMPLETED
    assert visit_allowed_actions(V.COMPLETED) == []


def test_cannot_meet_time_only_before_arrival() -> None:
    """'Cannot meet the time' makes sense before arrival and leaves the state unchanged."""
    assert visit_transition(V.EN_ROUTE, E.CANNOT_MEET_TIME) is V.EN_ROUTE
    with pytest.raises(IllegalTransition):
        visit_transition(V.ON_SITE, E.CANNOT_MEET_TIME)


def test_visit_terminal_states() -> None:
    """Completed, declined, cancelled and reassigned visits accept no more events."""
    for state in VISIT_TERMINAL:
        assert visit_allowed_actions(state) == []


def test_visit_events_map_to_legal_ticket_actions() -> None:
    """Every visit event that moves the ticket maps to a ticket action legal where the visit can be."""
    ticket_state_for_visit = {
        V.ASSIGNED: S.ASSIGNED,
        V.ACCEPTED: S.ACCEPTED,
        V.EN_ROUTE: S.EN_ROUTE,
        V.ON_SITE: S.ON_SITE,
    }
    for (visit_state, event), _ in VISIT_TRANSITIONS.items():
        ticket_action = TICKET_ACTION_FOR_VISIT_EVENT.get(event)
        if ticket_action is None or visit_state not in ticket_state_for_visit:
            continue
        transition(ticket_state_for_visit[visit_state], ticket_action)  # raises if the tables disagree
