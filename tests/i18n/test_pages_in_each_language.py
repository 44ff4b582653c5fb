"""Every page people read, rendered by headless Chromium in zh-CN, en and ko: no message key shows, and the
page is really in that language (its <html lang> and the catalogues' words for it).

The portal adds its pages with the same helper (tests/i18n/pages.py: `assert_in_language`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from dispatch.core import i18n
from dispatch.core.clock import utcnow
from dispatch.core.types import Grade, Role
from tests.board.conftest import LiveServer, screenshot
from tests.factories import make_site, make_technician, make_ticket, make_user, token_for
from tests.i18n.pages import assert_in_language, board_texts
from tests.technician_api.conftest import REPORT, SITE_LAT, SITE_LON, make_job, signature_data_url, token_of
from tests.technician_api.test_confirmation import GOOD

pytestmark = pytest.mark.browser


def _open_board(page: Any, server: LiveServer, token: str, view: str) -> None:
    page.context.add_init_script(
        f"sessionStorage.setItem('onsite24.token', '{token}'); sessionStorage.setItem('onsite24.role', 'dispatcher');"
    )
    page.goto(f"{server.url}/board#{view}")
    page.wait_for_selector(f"#view-{view}[data-loaded='true']")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_board_login_page_follows_the_language_chosen_on_this_browser(
    page: Any, live_server: LiveServer, locale: str
) -> None:
    """Before anyone logs in, the language picked on the login page (kept in this browser) is used."""
    page.context.add_init_script(f"localStorage.setItem('onsite24.lang', '{i18n.tag(locale)}')")
    page.goto(f"{live_server.url}/board")
    page.wait_for_selector("form.login")
    texts = board_texts(locale)
    assert_in_language(page, locale, expected=[texts["board.login.submit"], texts["board.login.intro"]], name="login")


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_every_board_view_is_in_the_users_language(
    page: Any, live_server: LiveServer, live_session: Session, locale: str
) -> None:
    """A dispatcher whose setting is `locale` sees the queue, a ticket, the schedule, the map and the reports in it."""
    user = make_user(live_session, role=Role.dispatcher)
    user.locale = i18n.tag(locale)
    make_technician(live_session)
    _site, unit = make_site(live_session)
    ticket = make_ticket(live_session, grade=Grade.MAJOR, equipment=unit, reported_at=utcnow() - timedelta(hours=1))
    live_session.commit()
    texts = board_texts(locale)
    # The browser asks for another language: the saved setting must win.
    page.context.set_extra_http_headers({"Accept-Language": "en" if locale != "en" else "ko"})
    _open_board(page, live_server, token_for(live_server.settings, user), "queue")
    assert_in_language(
        page,
        locale,
        expected=[texts["board.views.queue"], texts["board.queue.filter.all-status"], texts["grade.major"]],
        name="queue",
    )
    screenshot(page, f"i18n-queue-{i18n.tag(locale)}")

    page.locator(f"li.ticket[data-id='{ticket.id}']").click()
    page.wait_for_selector("#timeline")
    assert_in_language(
        page, locale, expected=[texts["board.drawer.timeline"], texts["board.drawer.regrade"]], name="drawer"
    )
    page.keyboard.press("Escape")

    for view, words in (
        ("gantt", ["board.gantt.technician"]),
        ("map", ["board.map.technician"]),
        ("reports", ["board.reports.on-time", "board.reports.satisfaction"]),
    ):
        page.goto(f"{live_server.url}/board#{view}")
        page.wait_for_selector(f"#view-{view}[data-loaded='true']")
        assert_in_language(page, locale, expected=[texts[k] for k in words], name=view)
        screenshot(page, f"i18n-{view}-{i18n.tag(locale)}")


def _confirmation_url(server: LiveServer, session: Session) -> str:
    """A completed job's confirmation link, made the way a technician's phone makes it."""
    job = make_job(session, server.settings)
    events = f"{server.url}/api/v1/jobs/{job.visit.id}/events"
    for body in (
        {"kind": "accept"},
        {"kind": "en_route", "position": {"lat": SITE_LAT - 0.05, "lon": SITE_LON}},
        {"kind": "arrived", "position": {"lat": SITE_LAT, "lon": SITE_LON}},
        {"kind": "completed", "report": REPORT},
    ):
        r = httpx.post(events, json=body, headers=job.headers, timeout=30)
        assert r.status_code == 200, r.text
    # The link names the configured public address; the test server listens elsewhere.
    return f"{server.url}/confirm/{token_of(r.json()['confirmation']['url'])}"


# Fills the form as a customer would and submits it (the canvas drawing is replaced by a tiny PNG).
_SIGN_JS = """(values) => {
  const form = document.getElementById('form');
  for (const [name, value] of Object.entries(values)) {
    const fields = form.querySelectorAll(`[name="${name}"]`);
    fields.forEach((f) => { if (f.type === 'radio') f.checked = f.value === value; else f.value = value; });
  }
  document.getElementById('signature').value = values.__signature;
  HTMLFormElement.prototype.submit.call(form); // the button named 'submit' hides form.submit
}"""


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_confirmation_pages_are_in_the_chosen_language(
    page: Any, live_server: LiveServer, live_session: Session, locale: str
) -> None:
    """The customer's form, thank-you page and error pages, switched to `locale` with ?lang=, stay in it."""
    url = _confirmation_url(live_server, live_session)
    tag = i18n.tag(locale)
    page.goto(f"{url}?lang={tag}")
    assert_in_language(
        page,
        locale,
        expected=[i18n.gettext("confirm.title", locale), i18n.gettext("confirm.dimension.attitude", locale)],
        name="confirmation form",
    )
    screenshot(page, f"i18n-confirm-{tag}")

    page.evaluate(_SIGN_JS, {**GOOD, "__signature": signature_data_url()})
    page.wait_for_selector("#thanks")
    assert_in_language(page, locale, expected=[i18n.gettext("confirm.thanks.title", locale)], name="thank-you page")

    # The language chosen on the form is remembered (cookie): the used link's error page is in it too.
    page.goto(url)
    assert_in_language(
        page, locale, expected=[i18n.gettext("error.confirmation-link-used.title", locale)], name="used-link page"
    )
    page.goto(f"{live_server.url}/confirm/not-a-real-token?lang={tag}")
    assert_in_language(
        page, locale, expected=[i18n.gettext("error.confirmation-link-invalid.title", locale)], name="invalid-link page"
    )
