"""The customer's whole journey in a real browser (headless Chromium), against a real API process:
sign in by link, report a fault in Chinese, watch the ETA change live, get the late notice by e-mail,
and after completion find the confirmation link and the PDF report."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.audit.service import apply_transition
from dispatch.core.clock import utcnow
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.core.types import Role, TicketStatus, VisitStatus
from dispatch.escalation.service import update_eta
from dispatch.notifications import customer as customer_notices
from dispatch.notifications.service import deliver_pending
from dispatch.portal.service import print_sign_in_link
from dispatch.tickets.models import Ticket, Visit
from tests.factories import auth_header, make_technician, make_user
from tests.harness.browser import launch_chromium, on_product_clock
from tests.portal.conftest import make_account
from tests.portal.mailservers import smtp_server
from tests.technician_api.conftest import ARTIFACTS, REPORT
from tests.technician_api.live import start_api, stop_api

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def plan(factory: sessionmaker[Session], settings: Settings, ticket_id: int, technician_id: int, eta: datetime) -> None:
    """What applying a plan does to one ticket (dispatch.plans.service.apply_plan): visit, assignment, ETA."""
    now = utcnow()
    with factory() as s:
        ticket = s.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
        assert ticket is not None
        visit = s.scalar(select(Visit).where(Visit.ticket_id == ticket_id))
        if visit is None:
            visit = Visit(ticket_id=ticket_id, status=VisitStatus.assigned, technician_id=technician_id)
            s.add(visit)
        visit.planned_arrival_at = visit.planned_start_at = eta
        visit.planned_end_at = eta + timedelta(minutes=90)
        if ticket.status is TicketStatus.new:
            apply_transition(s, ticket, "assign", actor="planner", at=now, data={"technician_id": technician_id})
            ticket.assigned_technician_id = technician_id
            customer_notices.technician_assigned(s, ticket, technician_id=technician_id, eta=eta, now=now)
        update_eta(s, ticket, eta, policy_for(settings), now)
        s.commit()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make provision installs it)")
def test_a_new_customer_reports_in_chinese_and_follows_the_repair_to_the_end(live_db, database_url, tmp_path):
    """Sign-in link → web report in Chinese → grade and deadline → live ETA → late e-mail → confirmation and PDF."""
    settings = Settings(environment="test", database_url=database_url)
    factory = sessionmaker(bind=live_db, expire_on_commit=False)
    with factory() as s:
        account = make_account(s, email="wang.gong@example.com")
        tech = make_technician(s)
        tech.name = "李师傅"
        user = make_user(s, role=Role.technician, technician=tech)
        s.commit()
        tech_id, headers = tech.id, auth_header(settings, user)
    api = start_api(database_url, tmp_path / "uploads")
    try:
        with factory() as s:
            link = print_sign_in_link(
                s, settings=settings, customer_id=account.customer.id, now=utcnow(), base_url=api.base_url
            )
        ARTIFACTS.mkdir(exist_ok=True)
        with playwright.sync_playwright() as p, smtp_server() as (smtp_port, inbox):
            browser = launch_chromium(p, args=ARGS)
            try:
                context = on_product_clock(browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}))
                page = context.new_page()
                console_errors: list[str] = []
                page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
                page.on("response", lambda r: console_errors.append(r.url) if r.status >= 400 else None)

                # Signs in with the link from the message.
                page.goto(link)
                page.click("#sign-in")
                page.wait_for_url(f"{api.base_url}/portal")
                assert "欢迎" in page.inner_text("h1")

                # Reports the fault in Chinese; the machine is pre-filled from the equipment list.
                page.click(f"a[href='/portal/complaint?equipment={account.equipment.id}']")
                assert page.input_value("#equipment_id") == str(account.equipment.id)
                page.fill("#symptom", "起升机构齿轮箱断齿，无法起吊")
                page.fill("#location_detail", "起升机构")
                page.fill("#working_condition", "满载起吊时")
                page.check("input[name=equipment_down]")
                page.fill("#special_request", "更换齿轮箱")
                page.click("#submit")
                page.wait_for_selector("#result")
                assert "严重" in page.inner_text("#grade")
                deadline_text = page.inner_text("#deadline")
                assert deadline_text
                page.screenshot(path=str(ARTIFACTS / "portal-complaint-result.png"), full_page=True)

                # Follows the ticket; nobody is planned yet.
                page.click("a.button")
                page.wait_for_selector("#live")
                assert page.inner_text("#technician") == "正在安排"
                ticket_id = int(page.url.rsplit("/", 1)[1])

                # The plan assigns 李师傅 in time: the page shows it without a reload.
                with factory() as s:
                    due = s.get(Ticket, ticket_id).due_on_site_at
                plan(factory, settings, ticket_id, tech_id, due - timedelta(hours=3))
                # Playwright's locator assertions, not wait_for_function: the page's CSP forbids eval.
                expect(page.locator("#technician")).to_have_text("李师傅", timeout=15000)
                first_eta = page.inner_text("#eta")
                assert page.is_hidden("#late")

                # The plan slips past the deadline: the ETA changes live and the late notice goes out by e-mail.
                plan(factory, settings, ticket_id, tech_id, due + timedelta(hours=2))
                expect(page.locator("#eta")).not_to_have_text(first_eta, timeout=15000)
                page.wait_for_selector("#late", state="visible", timeout=15000)
                mail_settings = settings.model_copy(
                    update={"smtp_host": "127.0.0.1", "smtp_port": smtp_port, "smtp_starttls": False}
                )
                deliver_pending(factory, mail_settings, utcnow() + timedelta(seconds=1), batch=50)
                late = [m for m in inbox.messages if "无法在承诺时间内到达现场" in m["Subject"]]
                assert len(late) == 1 and late[0]["To"] == "wang.gong@example.com"
                body = late[0].get_content()
                assert "非常抱歉" in body and "原因" in body
                page.screenshot(path=str(ARTIFACTS / "portal-ticket-late.png"), full_page=True)

                # The technician arrives and completes; the page shows the confirmation link and the report.
                events = f"{api.base_url}/api/v1/jobs/{_visit_id(factory, ticket_id)}/events"
                for event in (
                    {"kind": "accept"},
                    {"kind": "en_route", "position": {"lat": 28.15, "lon": 112.95}},
                    {"kind": "arrived", "position": {"lat": 28.20, "lon": 112.95}},
                    {"kind": "completed", "report": REPORT},
                ):
                    r = httpx.post(events, json=event, headers=headers, timeout=30)
                    assert r.status_code == 200, r.text
                page.wait_for_selector("#confirm-link", timeout=20000)
                assert page.get_attribute("#confirm-link", "href").startswith(f"{api.base_url}/confirm/")
                pdf = page.request.get(api.base_url + page.get_attribute("#report-link", "href"))
                assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
                assert pdf.body().startswith(b"%PDF")
                page.screenshot(path=str(ARTIFACTS / "portal-ticket-done.png"), full_page=True)
                assert not console_errors, console_errors
            finally:
                browser.close()
    finally:
        stop_api(api)


def _visit_id(factory: sessionmaker[Session], ticket_id: int) -> int:
    with factory() as s:
        visit_id = s.scalar(select(Visit.id).where(Visit.ticket_id == ticket_id))
    assert visit_id is not None
    return visit_id
