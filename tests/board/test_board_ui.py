"""The board in a real browser (Debian's Chromium via Playwright) against uvicorn on the committed test DB."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.clock import utcnow
from dispatch.core.types import EquipmentType, Grade, Role, VisitStatus
from dispatch.escalation.models import EscalationEvent, TicketEscalation
from dispatch.plans.service import run_drafts
from dispatch.tickets.models import Ticket, Visit
from dispatch.workforce.models import TechnicianShift
from tests.board.conftest import LiveServer, screenshot
from tests.factories import PASSWORD, make_depot, make_site, make_technician, make_ticket, make_user, token_for

pytestmark = pytest.mark.browser


def open_board(page: Any, server: LiveServer, token: str, view: str = "queue") -> None:
    """Open the board already logged in (token in sessionStorage, as after the login form)."""
    page.context.add_init_script(
        f"sessionStorage.setItem('onsite24.token', '{token}'); sessionStorage.setItem('onsite24.role', 'dispatcher');"
    )
    page.goto(f"{server.url}/board#{view}")
    page.wait_for_selector(f"#view-{view}[data-loaded='true']")


def test_dispatcher_logs_in_and_queue_orders_by_time_left_with_countdown(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """A dispatcher logs in and sees each grade's tickets, least time left first, counting down."""
    user = make_user(live_session, role=Role.dispatcher)
    now = utcnow()
    later = make_ticket(live_session, grade=Grade.GENERAL, reported_at=now - timedelta(hours=1))
    sooner = make_ticket(live_session, grade=Grade.GENERAL, reported_at=now - timedelta(hours=20))
    major = make_ticket(live_session, grade=Grade.MAJOR, reported_at=now - timedelta(hours=5))  # breached
    live_session.commit()

    page.goto(f"{live_server.url}/board")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#view-queue[data-loaded='true']")

    general = page.locator(".group.grade-general li.ticket")
    assert general.evaluate_all("rows => rows.map(r => Number(r.dataset.id))") == [sooner.id, later.id]
    first = general.first.locator(".cd")
    before = first.inner_text()
    # 4 h left, counted down by the second; within the first second of the page it still reads 4:00:00.
    assert re.fullmatch(r"4:00:00|3:59:\d\d", before), before
    page.wait_for_function(
        "(t) => document.querySelector('.grade-general li.ticket .cd').textContent !== t", arg=before
    )
    breached = page.locator(f".grade-major li.ticket[data-id='{major.id}']")
    assert "breached" in breached.get_attribute("class") and breached.locator(".cd").inner_text().startswith("overdue")
    assert page.locator(".grade-major h2 .count").inner_text() == "1"
    page.locator(".grade-general li.ticket").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#drawer:not([hidden])")
    assert f"#{sooner.id}" in page.locator("#drawer h2").inner_text()
    page.keyboard.press("Escape")
    screenshot(page, "queue")
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet held upright
    assert page.locator(".grade-general li.ticket .cd").first.is_visible()
    screenshot(page, "queue-tablet")


def test_major_ticket_from_intake_appears_live_without_reload(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """A "people trapped" complaint recorded by an agent shows up as major in the open board, no reload."""
    user = make_user(live_session, role=Role.dispatcher)
    agent = make_user(live_session, role=Role.agent)
    make_ticket(live_session, grade=Grade.GENERAL)
    _site, lift = make_site(live_session, equipment_type=EquipmentType.elevator)
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user))
    page.wait_for_selector("#live-state[data-state='live']")
    page.evaluate("window.__notReloaded = true")

    answer = httpx.post(
        f"{live_server.url}/api/v1/complaints",
        headers={"Authorization": f"Bearer {token_for(live_server.settings, agent)}"},
        json={
            "channel": "phone",
            "equipment_id": lift.id,
            "category": "emergency",
            "symptom": "Car stuck between floors 7 and 8",
            "impact": {"people_trapped": True},
        },
    )
    assert answer.status_code == 201, answer.text
    ticket_id = answer.json()["id"]

    page.wait_for_selector(f".grade-major li.ticket[data-id='{ticket_id}']", timeout=3000)
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "queue-live")


def test_technician_cannot_open_the_board(page: Any, live_server: LiveServer, live_session: Session) -> None:
    """A technician's login is turned away with a message, and a technician token gets no board data."""
    tech = make_user(live_session, role=Role.technician)
    page.goto(f"{live_server.url}/board")
    page.fill("#username", tech.username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("text=The board is for dispatchers and managers")
    assert page.locator("#view-queue").count() == 0
    # Even with a technician token planted in the page, the server refuses and the page returns to login.
    open_token = token_for(live_server.settings, tech)
    page.evaluate(f"sessionStorage.setItem('onsite24.token', '{open_token}')")
    page.reload()
    page.wait_for_selector("text=The board is for dispatchers and managers")
    assert page.evaluate("sessionStorage.getItem('onsite24.token')") is None


def test_map_renders_points_and_routes_without_a_tile_server(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """With no tile server the map still shows sites, technicians, routes and depots on a plain background."""
    user = make_user(live_session, role=Role.dispatcher)
    tech = make_technician(live_session)
    for lat in (28.1, 28.3):
        _site, unit = make_site(live_session, lat=lat, lon=112.9)
        ticket = make_ticket(live_session, grade=Grade.MAJOR, equipment=unit, reported_at=utcnow())
        live_session.add(
            Visit(ticket_id=ticket.id, technician_id=tech.id, status=VisitStatus.assigned, planned_start_at=utcnow())
        )
    live_session.commit()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    open_board(page, live_server, token_for(live_server.settings, user), view="map")
    assert page.locator("#view-map").get_attribute("data-sites") == "2"
    assert page.locator(".map-canvas.no-tiles").count() == 1
    assert page.locator(".leaflet-marker-icon.pin.tech").count() == 1
    assert page.locator(".leaflet-marker-icon.pin.depot").count() >= 1
    assert "no tile server configured" in page.locator(".map-note").inner_text()
    assert all(u.startswith(live_server.url) for u in requests), [
        u for u in requests if not u.startswith(live_server.url)
    ]
    screenshot(page, "map")


def _shift(session: Session, tech_id: int, now: datetime) -> None:
    session.add(
        TechnicianShift(technician_id=tech_id, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=9))
    )


def _assigned_visit(session: Session, ticket_id: int, tech_id: int, now: datetime, *, arrive_in: timedelta) -> None:
    """A planned, assigned visit: leaves in 20 min, arrives after `arrive_in`, works for an hour."""
    session.add(
        Visit(
            ticket_id=ticket_id,
            technician_id=tech_id,
            status=VisitStatus.assigned,
            planned_departure_at=now + timedelta(minutes=20),
            planned_arrival_at=now + arrive_in,
            planned_start_at=now + arrive_in,
            planned_end_at=now + arrive_in + timedelta(hours=1),
        )
    )


def test_schedule_shows_blocks_and_a_dragged_visit_is_refused_or_pinned(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """Moving a visit (by drag or keyboard) asks the router: a technician without the skill is refused with the
    reason, a skilled one gets it pinned."""
    user = make_user(live_session, role=Role.dispatcher)
    now = utcnow().replace(microsecond=0)
    depot = make_depot(live_session)
    alice = make_technician(live_session, skills=["tower_crane"], depot=depot)
    bob = make_technician(live_session, skills=["tower_crane"], depot=depot)
    lifts_only = make_technician(live_session, skills=["elevator"], depot=depot)
    for t in (alice, bob, lifts_only):
        _shift(live_session, t.id, now)
    ticket = make_ticket(live_session, grade=Grade.MAJOR, reported_at=now - timedelta(hours=3))
    _assigned_visit(live_session, ticket.id, alice.id, now, arrive_in=timedelta(hours=2))
    unplanned = make_ticket(live_session, grade=Grade.SERIOUS)
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user), view="gantt")
    row = page.locator(f".row[data-technician='{alice.id}']")
    assert row.locator(".shift").count() == 1 and row.locator(".travel").count() == 1
    block = row.locator(f".work[data-ticket='{ticket.id}']")
    assert "late" in block.get_attribute("class")
    assert page.locator(f".side .late li:has-text('#{ticket.id}')").count() == 1
    assert page.locator(f".side .unassigned li:has-text('#{unplanned.id}')").count() == 1
    screenshot(page, "gantt")

    block.drag_to(page.locator(f".row[data-technician='{lifts_only.id}'] .track"))
    page.wait_for_selector("dialog.modal >> text=Move refused")
    assert "lacks the skill for tower_crane" in page.locator("dialog.modal").inner_text()
    page.locator("dialog.modal button.primary").click()

    # The same with the keyboard: focus the visit, M, choose the technician, check.
    block.focus()
    page.keyboard.press("m")
    page.select_option("#move-technician", str(bob.id))
    page.locator("dialog.modal button.primary").click()
    page.wait_for_selector(f"dialog.modal >> text=to {bob.name}?")
    screenshot(page, "gantt-move")
    page.locator("dialog.modal button.primary").click()
    # The toast, not the router's reasons in the dialog (which may also say "pinned to …").
    page.wait_for_selector(f"#toasts .toast:has-text('pinned to {bob.name}')")
    live_session.expire_all()
    visit = live_session.scalars(select(Visit).where(Visit.ticket_id == ticket.id)).one()
    assert (visit.technician_id, visit.pinned) == (bob.id, True)


def test_a_visit_dropped_at_a_time_is_pinned_to_start_no_earlier(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """Dropping a visit on a later point of another technician's row pins it to them from that time."""
    user = make_user(live_session, role=Role.dispatcher)
    now = utcnow().replace(microsecond=0)
    depot = make_depot(live_session)
    alice = make_technician(live_session, skills=["tower_crane"], depot=depot)
    bob = make_technician(live_session, skills=["tower_crane"], depot=depot)
    for t in (alice, bob):
        _shift(live_session, t.id, now)
    ticket = make_ticket(live_session, grade=Grade.GENERAL, reported_at=now - timedelta(minutes=30))
    _assigned_visit(live_session, ticket.id, alice.id, now, arrive_in=timedelta(hours=1))
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user), view="gantt")
    block = page.locator(f".row[data-technician='{alice.id}'] .work[data-ticket='{ticket.id}']")
    shift = page.locator(f".row[data-technician='{bob.id}'] .shift")
    box = shift.bounding_box()
    # Bob's shift runs from an hour ago for ten hours: 60 % of it is about five hours from now.
    block.drag_to(shift, target_position={"x": box["width"] * 0.6, "y": box["height"] / 2})
    page.wait_for_selector(f"dialog.modal >> text={bob.name}")
    assert "no earlier than" in page.locator("dialog.modal").inner_text()
    page.locator("dialog.modal button.primary").click()
    page.wait_for_selector(f"#toasts .toast:has-text('pinned to {bob.name} from')")
    live_session.expire_all()
    visit = live_session.scalars(select(Visit).where(Visit.ticket_id == ticket.id)).one()
    assert (visit.technician_id, visit.pinned) == (bob.id, True)
    chosen = now - timedelta(hours=1) + timedelta(hours=10) * 0.6
    assert visit.pinned_start_at is not None
    assert abs((visit.pinned_start_at - chosen).total_seconds()) <= 40 * 60  # a quarter-hour grid, pixel rounding


def test_optimise_previews_a_draft_and_apply_changes_the_gantt(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """Optimise shows the draft's diff first; applying it puts the unplanned ticket on a technician's row."""
    user = make_user(live_session, role=Role.dispatcher)
    now = utcnow().replace(microsecond=0)
    tech = make_technician(live_session, skills=["tower_crane"])
    _shift(live_session, tech.id, now)
    ticket = make_ticket(live_session, grade=Grade.SERIOUS, reported_at=now - timedelta(hours=1))
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user), view="gantt")
    assert page.locator(f".row[data-technician='{tech.id}'] .work").count() == 0

    page.keyboard.press("o")  # the Optimise shortcut
    page.wait_for_selector("text=The optimiser is computing a draft plan")
    # This test plays the worker: compute the pending draft (with a short search).
    live_session.execute(text("UPDATE plans SET time_limit_seconds = 1 WHERE status = 'pending'"))
    live_session.commit()
    factory = sessionmaker(bind=live_session.get_bind(), expire_on_commit=False)
    assert run_drafts(factory, live_server.settings, utcnow()) == 1

    page.wait_for_selector("#draft-preview")
    preview = page.locator("#draft-preview").inner_text()
    # Who, and when against the deadline (not ids and counts only).
    assert f"#{ticket.id}: unassigned → {tech.name}, ETA – → " in preview and ", due " in preview
    screenshot(page, "optimise-preview")
    page.locator("dialog.modal button.primary").click()  # Apply
    page.wait_for_selector(f".row[data-technician='{tech.id}'] .work[data-ticket='{ticket.id}']")


def test_dispatcher_acknowledges_an_escalation_reads_the_timeline_and_regrades(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """An escalated major ticket is acknowledged from the board, its timeline read, its grade overridden."""
    user = make_user(live_session, role=Role.dispatcher)
    now = utcnow()
    ticket = make_ticket(live_session, grade=Grade.MAJOR, reported_at=now - timedelta(minutes=10))
    live_session.add(TicketEscalation(ticket_id=ticket.id, started_at=now, fired_keys=["notify_department"]))
    live_session.add(
        EscalationEvent(
            ticket_id=ticket.id,
            step_key="notify_department",
            audience="department",
            kind="notify",
            message="Major ticket: notify the service department",
            due_at=now,
            fired_by="worker",
        )
    )
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user))
    page.wait_for_selector("#escalations-button.alert")
    page.keyboard.press("e")
    item = page.locator(f".escalations li[data-ticket='{ticket.id}']")
    assert "notify the service department" in item.inner_text()
    screenshot(page, "escalations")
    item.locator("button.ack").click()
    page.wait_for_selector(f"#toasts .toast:has-text('Escalation on #{ticket.id} acknowledged')")
    live_session.expire_all()
    state = live_session.scalars(select(TicketEscalation).where(TicketEscalation.ticket_id == ticket.id)).one()
    assert state.acknowledged_at is not None
    page.keyboard.press("Escape")

    page.locator(f"li.ticket[data-id='{ticket.id}']").click()
    page.wait_for_selector("#timeline li")
    timeline = page.locator("#timeline").inner_text()
    assert "notify the service department" in timeline or "escalation" in timeline.lower()
    screenshot(page, "timeline")

    page.select_option("#drawer form.regrade select", "serious")
    page.fill("#drawer form.regrade input", "Lift already evacuated; no one trapped")
    page.locator("#drawer form.regrade button").click()
    page.wait_for_selector(f"#toasts .toast:has-text('Ticket #{ticket.id} regraded to serious')")
    live_session.expire_all()
    assert live_session.get(Ticket, ticket.id).grade is Grade.SERIOUS


def test_reports_show_numbers_that_match_the_database(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """The on-time rate and the top-complaint counts on screen are what the database says."""
    user = make_user(live_session, role=Role.dispatcher)
    now = utcnow()
    for i, hours_to_site in enumerate([2, 3, 6]):  # major: 4 h promise → two on time, one late
        t = make_ticket(live_session, grade=Grade.MAJOR, reported_at=now - timedelta(days=3, hours=i))
        t.on_site_at = t.reported_at + timedelta(hours=hours_to_site)
    _s, lift = make_site(live_session, equipment_type=EquipmentType.elevator)
    make_ticket(live_session, grade=Grade.GENERAL, equipment=lift, reported_at=now - timedelta(hours=2))
    live_session.commit()
    on_time, decided = live_session.execute(
        text(
            "SELECT count(*) FILTER (WHERE on_site_at <= due_on_site_at), count(*) FROM tickets "
            "WHERE on_site_at IS NOT NULL OR due_on_site_at < now()"
        )
    ).one()
    open_board(page, live_server, token_for(live_server.settings, user), view="reports")
    assert page.locator("#on-time-overall").inner_text() == f"{on_time / decided * 100:.1f} %"
    page.select_option("#report-by", "equipment_type")
    page.wait_for_selector("#report-breakdown td[data-col='key']:has-text('elevator')")
    counts = dict(
        live_session.execute(
            text(
                "SELECT e.equipment_type, count(*) FROM tickets t JOIN equipment e ON e.id = t.equipment_id GROUP BY 1"
            )
        ).all()
    )
    shown = page.locator("#report-breakdown tbody tr").evaluate_all(
        # The first cell shows the category in the reader's language; its code is kept in data-value.
        "rows => rows.map(r => [r.cells[0].dataset.value, Number(r.cells[1].textContent)])"
    )
    assert dict(shown) == counts
    assert "No confirmations were signed in this period" in page.locator("#report-satisfaction").inner_text()
    with page.expect_download() as download:
        page.locator("#report-on-time button.csv").click()
    assert download.value.suggested_filename == "onsite24-on-time.csv"
    screenshot(page, "reports")
