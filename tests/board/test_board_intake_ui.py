"""Intake on the board in a real browser: find the machine, register a new site and machine, record the complaint;
complete a handling clock from the ticket drawer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.core.types import Grade, Role, TicketStatus
from dispatch.customers.models import Equipment, Site
from dispatch.tickets.models import Ticket
from tests.board.conftest import LiveServer, screenshot
from tests.board.test_board_ui import open_board
from tests.factories import make_site, make_ticket, make_user, token_for

pytestmark = pytest.mark.browser


def test_agent_call_for_a_registered_machine_found_by_serial(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """Search by serial, pick the machine, say what is wrong: the ticket opens in the drawer with its site."""
    user = make_user(live_session, role=Role.dispatcher)
    site, crane = make_site(live_session)
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user))
    page.click("#intake-button")
    page.fill("#intake-search", crane.serial_number)
    page.locator(f"#intake-results button[data-kind='equipment'][data-id='{crane.id}']").click()
    assert crane.serial_number in page.locator("#intake-chosen").inner_text()
    page.fill("#intake-symptom", "Slewing brake does not release")
    page.locator("#intake-form .impact:has(input[value='equipment_down']) input").check()
    screenshot(page, "intake-registered")
    page.locator("dialog button.primary").click()
    page.wait_for_selector("#drawer:not([hidden]) #clocks")
    live_session.expire_all()
    ticket = live_session.scalars(select(Ticket).where(Ticket.equipment_id == crane.id)).one()
    assert ticket.site_id == site.id and ticket.customer_id == site.customer_id
    assert f"#{ticket.id}" in page.locator("#drawer h2").inner_text()


def test_unknown_machine_gets_a_new_site_typed_in_and_is_registered(
    page: Any, live_server: LiveServer, live_session: Session
) -> None:
    """Nothing found: the agent registers the site (typed coordinates) and the machine, and the ticket is plannable."""
    user = make_user(live_session, role=Role.dispatcher)
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user))
    page.click("#intake-button")
    page.fill("#intake-search", "ZX-NEVER-SEEN")
    page.wait_for_selector("#intake-results p.muted")
    page.fill("#intake-serial", "ZX-NEVER-SEEN")
    page.fill("#intake-model", "SC200")
    page.select_option("#intake-equipment-type", "construction_hoist")
    page.fill("#intake-manufacture-date", "2024-02-05")
    page.locator("#intake-new-site summary").click()
    page.fill("#intake-site-customer-name", "Xiangjiang Builders")
    page.fill("#intake-site-customer-phone", "13912345678")
    page.fill("#intake-site-name", "Riverside block 3")
    page.fill("#intake-site-address", "18 Riverside Road")
    page.fill("#intake-lat", "28.21")
    page.fill("#intake-lon", "112.97")
    page.fill("#intake-contact-name", "Foreman Li")
    page.click("#intake-register-site")
    page.wait_for_selector("#toasts .toast:has-text('Riverside block 3')")
    page.fill("#intake-symptom", "Hoist will not start")
    screenshot(page, "intake-new-site")
    page.locator("dialog button.primary").click()
    page.wait_for_selector("#drawer:not([hidden]) #clocks")
    live_session.expire_all()
    site = live_session.scalars(select(Site).where(Site.name == "Riverside block 3")).one()
    unit = live_session.scalars(select(Equipment).where(Equipment.serial_number == "ZX-NEVER-SEEN")).one()
    assert unit.site_id == site.id and unit.manufacture_date.isoformat() == "2024-02-05"
    ticket = live_session.scalars(select(Ticket).where(Ticket.equipment_id == unit.id)).one()
    assert ticket.site_id == site.id and site.contact_name == "Foreman Li"


def test_report_back_is_marked_done_from_the_drawer(page: Any, live_server: LiveServer, live_session: Session) -> None:
    """A resolved ticket's report-back clock is completed with a note from the drawer."""
    user = make_user(live_session, role=Role.dispatcher)
    done = utcnow() - timedelta(minutes=30)
    # On site (open, so it is in the queue), with the completion clocks the technician API starts.
    ticket = make_ticket(
        live_session, grade=Grade.GENERAL, reported_at=done - timedelta(hours=3), status=TicketStatus.on_site
    )
    ticket.on_site_at = done - timedelta(hours=1)
    ticket.deadlines = {
        "completed_at": done.isoformat(),
        "report_back_due_at": (done + timedelta(hours=2)).isoformat(),
    }
    live_session.commit()
    open_board(page, live_server, token_for(live_server.settings, user))
    page.locator(f"li.ticket[data-id='{ticket.id}']").click()
    clock = page.locator("#clocks li[data-clock='report_back']")
    clock.locator("input.clock-note").fill("Told the site manager")
    clock.locator("button").click()
    page.wait_for_selector("#clocks li[data-clock='report_back'].met")
    live_session.expire_all()
    assert live_session.get(Ticket, ticket.id).deadlines.get("report_back_due_at")
    assert live_session.get(Ticket, ticket.id).deadlines.get("report_back_done_at")
