"""Every portal page in every shipped language, rendered by Chromium: no key left untranslated, the right
`lang`, and the reader's language chosen by the switcher sticks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core import i18n
from dispatch.core.clock import utcnow
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.core.types import Category, Channel
from dispatch.portal.service import print_sign_in_link
from dispatch.portal.tracking import issue_tracking_link
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import open_complaint
from tests.harness.browser import launch_chromium, on_product_clock
from tests.portal.conftest import make_account
from tests.technician_api.live import start_api, stop_api

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
# A symbolic key that escaped translation shows as e.g. "portal.ticket.eta" (see dispatch/core/i18n.py).
RAW_KEY = re.compile(r"\b(?:portal|language)\.[a-z_]+(?:\.[a-z_]+)*\b")
# One word per language that must appear on the home page (the catalogue's own name for the language).
NAMES = {loc: i18n.gettext("portal.nav.home", loc) for loc in i18n.LOCALES}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make provision installs it)")
def test_each_portal_page_in_each_language_has_no_untranslated_key(live_db, database_url, tmp_path):
    """Sign-in, home, complaint form, ticket, tracking, settings and error pages read fully in zh-CN, en and ko."""
    settings = Settings(environment="test", database_url=database_url)
    factory = sessionmaker(bind=live_db, expire_on_commit=False)
    with factory() as s:
        account = make_account(s)
        result = open_complaint(
            s,
            policy=policy_for(settings),
            now=utcnow(),
            actor="test",
            actor_user_id=None,
            channel=Channel.web,
            category=Category.EQUIPMENT,
            symptom="noise",
            impact=Impact(degraded=True),
            equipment_id=account.equipment.id,
        )
        ticket_id = result.ticket.id
        track = issue_tracking_link(s, result.ticket)
        s.commit()
    api = start_api(database_url, tmp_path / "uploads")
    try:
        with factory() as s:
            link = print_sign_in_link(
                s, settings=settings, customer_id=account.customer.id, now=utcnow(), base_url=api.base_url
            )
        _check_pages(api.base_url, link, ticket_id, track)
    finally:
        stop_api(api)


def _check_pages(base: str, link: str, ticket_id: int, track: str) -> None:
    with playwright.sync_playwright() as p:
        browser = launch_chromium(p, args=ARGS)
        try:
            page = on_product_clock(browser.new_context(locale="en-US")).new_page()
            page.goto(link)
            page.click("#sign-in")
            page.wait_for_url(f"{base}/portal")
            pages = [
                "/portal/sign-in",
                "/portal",
                "/portal/complaint",
                f"/portal/tickets/{ticket_id}",
                f"/t/{track}",
                "/portal/settings",
                "/portal/tickets/999999",
                "/t/not-a-token",
            ]
            for locale in i18n.LOCALES:
                tag = i18n.tag(locale)
                page.goto(f"{base}/portal?lang={tag}")  # the switcher: remembered for the following pages
                assert NAMES[locale] in page.inner_text("body")
                for path in pages:
                    page.goto(base + path)
                    text = page.inner_text("body")
                    assert page.get_attribute("html", "lang") == tag, (path, tag)
                    leaked = RAW_KEY.findall(text)
                    assert not leaked, f"{tag} {path}: untranslated {leaked}"
                    if locale != "en":
                        # Nothing of the English catalogue on a zh-CN or ko page (names and numbers aside).
                        assert "Ticket" not in text and "Sign in" not in text, (tag, path)
        finally:
            browser.close()


def test_pages_name_their_language_for_screen_readers_and_search(client, db_session: Session, settings):
    """Without a browser: each language's sign-in page says its language in <html lang> and Content-Language."""
    for locale in i18n.LOCALES:
        r = client.get(f"/portal/sign-in?lang={i18n.tag(locale)}")
        assert r.status_code == 200
        assert f'<html lang="{i18n.tag(locale)}">' in r.text
        assert r.headers["content-language"] == i18n.tag(locale)
        assert not RAW_KEY.findall(re.sub(r"<[^>]+>", " ", r.text))
