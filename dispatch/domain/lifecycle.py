"""Ticket and visit lifecycles as transition tables (issue 4 "Lifecycle"; issue 6 technician events).

A table `{(state, action): new_state}` is the whole rule; `transition()` looks it up and raises
`IllegalTransition` (409, listing the allowed actions) otherwise. The services lock the row, call
`transition()` and write the audit record in the same commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

from dispatch.core.errors import IllegalTransition


class TicketState(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    CLOSED = "closed"
    REOPENED = "reopened"
    CANCELLED = "cancelled"
    INVALID = "invalid"


class TicketAction(StrEnum):
    ASSIGN = "assign"  # also re-assign to another technician before travel
    UNASSIGN = "unassign"
    ACCEPT = "accept"
    DECLINE = "decline"  # the technician declines: back to new for re-planning
    START_TRAVEL = "start_travel"
    ARRIVE = "arrive"
    COMPLETE = "complete"
    CONFIRM = "confirm"  # the customer signed a satisfied confirmation
    CLOSE = "close"
    REOPEN = "reopen"  # unsatisfied confirmation, failed return visit or verification
    CANCEL = "cancel"
    MARK_INVALID = "mark_invalid"  # nature "invalid": closed with an explanation, never deleted
    AUTO_RESOLVE = "auto_resolve"  # the device alarm cleared before any technician left


S, A = TicketState, TicketAction

#: Ticket lifecycle. `close` from `resolved` covers the matters that get no customer signature
#: (auto-recovered alarms, a recorded refusal to sign); the service checks which case applies.
TICKET_TRANSITIONS: Mapping[tuple[TicketState, TicketAction], TicketState] = {
    (S.NEW, A.ASSIGN): S.ASSIGNED,
    (S.NEW, A.CANCEL): S.CANCELLED,
    (S.NEW, A.MARK_INVALID): S.INVALID,
    (S.NEW, A.AUTO_RESOLVE): S.RESOLVED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.UNASSIGN): S.NEW,
    (S.ASSIGNED, A.ACCEPT): S.ACCEPTED,
    (S.ASSIGNED, A.DECLINE): S.NEW,
    (S.ASSIGNED, A.CANCEL): S.CANCELLED,
    (S.ASSIGNED, A.MARK_INVALID): S.INVALID,
    (S.ASSIGNED, A.AUTO_RESOLVE): S.RESOLVED,
    (S.ACCEPTED, A.ASSIGN): S.ASSIGNED,
    (S.ACCEPTED, A.UNASSIGN): S.NEW,
    (S.ACCEPTED, A.DECLINE): S.NEW,
    (S.ACCEPTED, A.START_TRAVEL): S.EN_ROUTE,
    (S.ACCEPTED, A.CANCEL): S.CANCELLED,
    (S.ACCEPTED, A.MARK_INVALID): S.INVALID,
    (S.ACCEPTED, A.AUTO_RESOLVE): S.RESOLVED,
    (S.EN_ROUTE, A.ASSIGN): S.ASSIGNED,
    (S.EN_ROUTE, A.UNASSIGN): S.NEW,
    (S.EN_ROUTE, A.ARRIVE): S.ON_SITE,
    (S.EN_ROUTE, A.CANCEL): S.CANCELLED,
    (S.ON_SITE, A.COMPLETE): S.RESOLVED,
    (S.ON_SITE, A.UNASSIGN): S.NEW,  # work stopped unfinished (e.g. parts): another visit is needed
    (S.RESOLVED, A.CONFIRM): S.CONFIRMED,
    (S.RESOLVED, A.REOPEN): S.REOPENED,
    (S.RESOLVED, A.CLOSE): S.CLOSED,
    (S.CONFIRMED, A.CLOSE): S.CLOSED,
    (S.CONFIRMED, A.REOPEN): S.REOPENED,
    (S.REOPENED, A.ASSIGN): S.ASSIGNED,
    (S.REOPENED, A.CANCEL): S.CANCELLED,
    (S.REOPENED, A.MARK_INVALID): S.INVALID,
    (S.REOPENED, A.AUTO_RESOLVE): S.RESOLVED,
}

#: States with no way out. A complaint about a closed matter opens a new ticket linked to it.
TICKET_TERMINAL: frozenset[TicketState] = frozenset({S.CLOSED, S.CANCELLED, S.INVALID})

#: States in which a ticket counts as open (for dedup/linking and the board).
TICKET_OPEN: frozenset[TicketState] = frozenset(set(TicketState) - TICKET_TERMINAL - {S.RESOLVED, S.CONFIRMED})


class VisitState(StrEnum):
    PLANNED = "planned"  # proposed by the optimiser / dispatcher, not yet committed to a technician
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    PAUSED = "paused"  # e.g. waiting for parts
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REASSIGNED = "reassigned"  # this technician's visit ends; a new visit is created for the other


class VisitAction(StrEnum):
    """Technician events of issue 6 (plus the dispatcher's assign/cancel/reassign)."""

    ASSIGN = "assign"
    ACCEPT = "accept"
    DECLINE = "decline"
    EN_ROUTE = "en_route"
    ARRIVED = "arrived"
    PAUSED = "paused"
    RESUMED = "resumed"
    COMPLETED = "completed"
    CANNOT_MEET_TIME = "cannot_meet_time"  # starts the 2 h notice; state unchanged
    POSITION = "position"  # periodic location; state unchanged
    CANCEL = "cancel"
    REASSIGN = "reassign"


V, E = VisitState, VisitAction

_BEFORE_ARRIVAL = (V.ASSIGNED, V.ACCEPTED, V.EN_ROUTE)
_LIVE = (V.PLANNED, V.ASSIGNED, V.ACCEPTED, V.EN_ROUTE, V.ON_SITE, V.PAUSED)

VISIT_TRANSITIONS: Mapping[tuple[VisitState, VisitAction], VisitState] = {
    (V.PLANNED, E.ASSIGN): V.ASSIGNED,
    (V.PLANNED, E.ACCEPT): V.ACCEPTED,
    (V.ASSIGNED, E.ACCEPT): V.ACCEPTED,
    (V.PLANNED, E.DECLINE): V.DECLINED,
    (V.ASSIGNED, E.DECLINE): V.DECLINED,
    (V.ACCEPTED, E.DECLINE): V.DECLINED,
    (V.ACCEPTED, E.EN_ROUTE): V.EN_ROUTE,
    (V.EN_ROUTE, E.ARRIVED): V.ON_SITE,
    (V.ON_SITE, E.PAUSED): V.PAUSED,
    (V.PAUSED, E.RESUMED): V.ON_SITE,
    (V.ON_SITE, E.COMPLETED): V.COMPLETED,
    **{(s, E.CANNOT_MEET_TIME): s for s in _BEFORE_ARRIVAL},
    **{(s, E.POSITION): s for s in (V.ACCEPTED, V.EN_ROUTE, V.ON_SITE, V.PAUSED)},
    **{(s, E.CANCEL): V.CANCELLED for s in _LIVE},
    **{(s, E.REASSIGN): V.REASSIGNED for s in (V.PLANNED, *_BEFORE_ARRIVAL, V.PAUSED)},
}

VISIT_TERMINAL: frozenset[VisitState] = frozenset({V.COMPLETED, V.DECLINED, V.CANCELLED, V.REASSIGNED})

_St = TypeVar("_St", TicketState, VisitState)
_Ac = TypeVar("_Ac", TicketAction, VisitAction)


def _allowed(table: Mapping[tuple[_St, _Ac], _St], state: _St) -> list[str]:
    return [action.value for (from_state, action) in table if from_state == state]


def allowed_actions(state: TicketState | str) -> list[str]:
    """Actions the ticket's state allows, in table order (empty for terminal states)."""
    return _allowed(TICKET_TRANSITIONS, TicketState(state))


def transition(state: TicketState | str, action: TicketAction | str) -> TicketState:
    """The ticket's next state, or `IllegalTransition` naming the allowed actions (HTTP 409)."""
    current = TicketState(state)
    try:
        return TICKET_TRANSITIONS[(current, TicketAction(action))]
    except (KeyError, ValueError):
        raise IllegalTransition(current.value, str(action), allowed_actions(current)) from None


def visit_allowed_actions(state: VisitState | str) -> list[str]:
    """Events the visit's state allows, in table order (empty for terminal states)."""
    return _allowed(VISIT_TRANSITIONS, VisitState(state))


def visit_transition(state: VisitState | str, action: VisitAction | str) -> VisitState:
    """The visit's next state (unchanged for `cannot_meet_time`/`position`), or `IllegalTransition`."""
    current = VisitState(state)
    try:
        return VISIT_TRANSITIONS[(current, VisitAction(action))]
    except (KeyError, ValueError):
        raise IllegalTransition(current.value, str(action), visit_allowed_actions(current)) from None


#: How a technician's visit event moves the ticket (service applies both in one commit); events not
#: listed leave the ticket alone. A declined or reassigned visit sends the ticket back to `new`.
TICKET_ACTION_FOR_VISIT_EVENT: Mapping[VisitAction, TicketAction] = {
    E.ACCEPT: A.ACCEPT,
    E.DECLINE: A.DECLINE,
    E.EN_ROUTE: A.START_TRAVEL,
    E.ARRIVED: A.ARRIVE,
    E.COMPLETED: A.COMPLETE,
}
