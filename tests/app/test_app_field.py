"""The app in the field: the geofence answer, a refused event and why, a new major job, three languages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.core.types import Grade, TicketStatus
from dispatch.tickets.models import Visit
from tests.app.conftest import screenshot
from tests.app.phone import answer_sheet, outbox, sign_in, tap_action, wait_for_worker
from tests.app.world import SITE_LAT, SITE_LON, make_day
from tests.board.conftest import LiveServer
from tests.factories import make_site, make_technician, make_ticket, make_visit

pytestmark = pytest.mark.browser


def test_check_in_outside_the_geofence_shows_the_servers_answer(
    phone: Any, live_server: LiveServer, live_session: Session
) -> None:
    """GPS 2 km from the site: the check-in is recorded and the technician sees it was outside the fence."""
    day = make_day(live_session, live_server.settings)
    page = phone(geolocation={"latitude": SITE_LAT + 0.02, "longitude": SITE_LON}).new_page()
    sign_in(page, live_server, day.user.username)
    page.goto(f"{live_server.url}/app/#/job/{day.first.id}")
    page.wait_for_selector("#screen[data-screen='job']")
    for action, then in (("accept", "en_route"), ("en_route", "arrived"), ("arrived", "paused")):
        tap_action(page, action)
        page.wait_for_selector(f"#actions [data-action='{then}']")
    page.wait_for_selector("#geofence[data-answer='warn']")
    page.wait_for_function("document.querySelector('#geofence').textContent.startsWith('Checked in')")
    text = page.locator("#geofence").inner_text()
    assert "outside the 300 m geofence" in text and "2.2 km" in text, text
    live_session.expire_all()
    visit = live_session.get(Visit, day.first.id)
    assert visit.arrival_outside_geofence is True and 2100 < visit.arrival_distance_m < 2300
    screenshot(page, "geofence-outside-en")


def test_an_event_refused_by_the_server_is_shown_with_its_reason(
    phone: Any, live_server: LiveServer, live_session: Session
) -> None:
    """Accepted online, then offline en route; meanwhile the dispatcher gives the job to someone else. Back online
    the event is refused, and the technician reads why (in Chinese), instead of it vanishing or looping."""
    day = make_day(live_session, live_server.settings)
    context = phone(locale="zh-CN", geolocation={"latitude": SITE_LAT - 0.05, "longitude": SITE_LON})
    page = context.new_page()
    sign_in(page, live_server, day.user.username)
    wait_for_worker(page)
    page.goto(f"{live_server.url}/app/#/job/{day.first.id}")
    tap_action(page, "accept")
    page.wait_for_selector("#outbox-chip[data-waiting='0']")
    page.wait_for_selector("#actions [data-action='en_route']")
    context.set_offline(True)
    tap_action(page, "en_route")
    page.wait_for_selector("#outbox-chip[data-waiting='1']")

    other = make_technician(live_session)
    visit = live_session.get(Visit, day.first.id)
    visit.technician_id = other.id  # the dispatcher moved it while the phone had no signal
    live_session.commit()

    context.set_offline(False)
    page.wait_for_selector("#outbox-chip[data-refused='1']", timeout=20_000)
    rows = [r for r in outbox(page) if r["kind"] == "en_route"]
    assert rows[0]["state"] == "refused" and rows[0]["reason"] == "job_reassigned"
    page.click("#outbox-chip")
    page.wait_for_selector("#refused .row")
    assert "已改派给其他技师" in page.locator("#refused .row").inner_text()
    screenshot(page, "outbox-refused-zh-CN")
    page.click("#refused .dismiss")
    page.wait_for_selector("#refused", state="detached")


def test_a_new_major_job_alerts_with_a_banner_and_a_notification(
    phone: Any, live_server: LiveServer, live_session: Session
) -> None:
    """A major job assigned while the app is open arrives by the live stream and alerts the technician: a banner
    (and vibration) without notification permission, a system notification with it."""
    day = make_day(live_session, live_server.settings)
    quiet = phone().new_page()
    sign_in(quiet, live_server, day.user.username)
    loud = phone(permissions=["notifications"]).new_page()
    sign_in(loud, live_server, day.user.username)
    wait_for_worker(loud)
    for page in (quiet, loud):
        page.wait_for_selector("#net[data-state='live']")
        page.evaluate("() => { window.__vibrated = []; navigator.vibrate = (p) => (window.__vibrated.push(p), true); }")

    _site, lift = make_site(live_session, lat=SITE_LAT + 0.2, lon=SITE_LON)
    ticket = make_ticket(
        live_session, grade=Grade.MAJOR, equipment=lift, reported_at=utcnow(), status=TicketStatus.assigned
    )
    ticket.symptom = "People trapped in the lift car"
    visit = make_visit(
        live_session,
        ticket=ticket,
        technician=day.technician,
        sequence=0,
        planned_start_at=utcnow() + timedelta(minutes=20),
    )
    live_session.commit()

    quiet.wait_for_selector(f"#alert-{visit.id}", timeout=10_000)
    assert "People trapped" in quiet.locator(f"#alert-{visit.id}").inner_text()
    assert quiet.evaluate("window.__vibrated.length") == 1, (
        quiet.evaluate("window.__vibrated"),
        quiet.evaluate("[...document.querySelectorAll('.banner')].map((b) => b.id)"),
    )
    assert quiet.locator(f"#jobs-urgent li.job[data-id='{visit.id}']").count() == 1
    screenshot(quiet, "major-alert-en")
    loud.wait_for_selector(f"li.job[data-id='{visit.id}']", timeout=10_000)
    notes = loud.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
        ".then((n) => n.map((x) => x.title + '|' + x.tag))"
    )
    assert notes == [f"New MAJOR job assigned|job-{visit.id}"], notes


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("zh-CN", ("我的路线", "紧急", "剩余")),
        ("en", ("My route", "Urgent", "left")),
        ("ko", ("내 경로", "긴급", "남음")),
    ],
)
def test_screens_in_each_language(
    phone: Any, live_server: LiveServer, live_session: Session, locale: str, words: tuple[str, ...]
) -> None:
    """The phone's language picks the app's, and the server's words (states, actions) come in the same one."""
    day = make_day(live_session, live_server.settings)
    page = phone(locale=locale, geolocation={"latitude": SITE_LAT, "longitude": SITE_LON}).new_page()
    sign_in(page, live_server, day.user.username)
    assert page.evaluate("document.documentElement.lang") == locale
    text = page.locator("#screen").inner_text()
    for word in words:
        assert word in text, (locale, word)
    screenshot(page, f"today-{locale}")
    page.click(f"li.job[data-id='{day.first.id}'] a")
    page.wait_for_selector("#screen[data-screen='job']")
    accept = page.locator("#actions [data-action='accept']").inner_text()
    assert accept != "accept" or locale == "en", accept
    screenshot(page, f"job-{locale}", full_page=True)
    tap_action(page, "cannot_meet_time")
    screenshot(page, f"delay-sheet-{locale}")
    answer_sheet(page)
    page.goto(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector("#screen[data-screen='outbox']")
    assert "null" not in page.locator("#screen").inner_text()
    screenshot(page, f"outbox-{locale}")
