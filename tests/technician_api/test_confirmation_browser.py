"""The customer's confirmation page in a real browser (headless Chromium through Playwright)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.confirmations.models import Confirmation
from dispatch.confirmations.service import PNG_MAGIC
from dispatch.core.settings import Settings
from dispatch.core.types import TicketStatus
from dispatch.tickets.models import Ticket
from tests.harness.browser import launch_chromium, on_product_clock
from tests.technician_api.conftest import ARTIFACTS, REPORT, SITE_LAT, SITE_LON, make_job
from tests.technician_api.live import start_api, stop_api

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (make provision installs it)")
def test_customer_signs_on_a_phone_and_sees_the_thank_you_page(live_db, database_url, tmp_path):
    """On a phone-sized screen the customer rates the job, draws a signature, submits and is thanked."""
    settings = Settings(environment="test", database_url=database_url)
    with Session(live_db, expire_on_commit=False) as s:
        job = make_job(s, settings)
    api = start_api(database_url, tmp_path / "uploads")
    try:
        events = f"{api.base_url}/api/v1/jobs/{job.visit.id}/events"
        for body in (
            {"kind": "accept"},
            {"kind": "en_route", "position": {"lat": SITE_LAT - 0.05, "lon": SITE_LON}},
            {"kind": "arrived", "position": {"lat": SITE_LAT, "lon": SITE_LON}},
            {"kind": "completed", "report": REPORT},
        ):
            r = httpx.post(events, json=body, headers=job.headers, timeout=30)
            assert r.status_code == 200, r.text
        url = r.json()["confirmation"]["url"]
        assert url.startswith(api.base_url)

        ARTIFACTS.mkdir(exist_ok=True)
        with playwright.sync_playwright() as p:
            browser = launch_chromium(p, args=ARGS)
            try:
                page = on_product_clock(
                    browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, has_touch=False)
                )
                console_errors: list[str] = []
                page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
                page.goto(url)
                assert "Replaced the hoist gearbox" in page.content()
                page.click('label:has(input[name="satisfied"][value="yes"])')
                for name, value in (
                    ("quality", 5),
                    ("speed", 4),
                    ("attitude", 5),
                    ("accurate_information", 4),
                    ("safety", 5),
                ):
                    page.click(f'label:has(input[name="{name}"][value="{value}"])')
                page.fill('textarea[name="comment"]', "Quick and careful work")
                page.fill('input[name="signer_name"]', "Zhang Min")
                page.fill('input[name="signer_role"]', "Site manager")
                # submitting without a signature is stopped in the page
                page.click("#submit")
                assert page.is_visible("#sigerr")
                canvas = page.locator("#sig")
                canvas.scroll_into_view_if_needed()
                box = canvas.bounding_box()
                assert box is not None
                page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
                page.mouse.down()
                for i in range(1, 15):
                    page.mouse.move(box["x"] + 20 + i * 20, box["y"] + box["height"] * (0.7 - 0.4 * (i % 2)), steps=4)
                page.mouse.up()
                page.screenshot(path=str(ARTIFACTS / "confirmation-form.png"), full_page=True)
                page.click("#submit")
                page.wait_for_selector("#thanks", timeout=15_000)
                assert "Thank you" in page.inner_text("#thanks")
                page.screenshot(path=str(ARTIFACTS / "confirmation-thanks.png"), full_page=True)
                assert console_errors == []
            finally:
                browser.close()
    finally:
        stop_api(api)

    with Session(live_db) as s:
        conf = s.scalars(select(Confirmation).where(Confirmation.ticket_id == job.ticket.id)).one()
        assert conf.signer_name == "Zhang Min" and conf.satisfied is True
        assert conf.ratings == {"quality": 5, "speed": 4, "attitude": 5, "accurate_information": 4, "safety": 5}
        assert conf.signature_png.startswith(PNG_MAGIC) and len(conf.signature_png) > 500
        assert "HeadlessChrome" in (conf.user_agent or "") and conf.ip == "127.0.0.1"
        assert s.get(Ticket, job.ticket.id).status is TicketStatus.confirmed
