"""The technician app in Chromium on a phone: sign in, today's route, the job, and the shell with no network."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.app.conftest import screenshot
from tests.app.phone import sign_in, wait_for_worker
from tests.app.world import make_day
from tests.board.conftest import LiveServer

pytestmark = pytest.mark.browser


def test_app_is_served_with_its_manifest_and_worker(live_server: LiveServer, built_app: Any) -> None:
    """/app/ is the page, /app/sw.js the worker (revalidated), assets immutable, the manifest installable."""
    page = httpx.get(f"{live_server.url}/app/")
    assert page.status_code == 200 and 'rel="manifest"' in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert httpx.get(f"{live_server.url}/app", follow_redirects=False).status_code == 308
    sw = httpx.get(f"{live_server.url}/app/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert "__SHELL__" not in sw.text and "__VERSION__" not in sw.text
    manifest = httpx.get(f"{live_server.url}/app/manifest.webmanifest").json()
    assert manifest["start_url"] == "/app/" and manifest["display"] == "standalone"
    assert {i["sizes"] for i in manifest["icons"]} >= {"192x192", "512x512"}
    asset = next(p for p in built_app.joinpath("assets").iterdir() if p.suffix == ".js")
    r = httpx.get(f"{live_server.url}/app/assets/{asset.name}")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]


def test_today_then_job_then_offline_restart(phone: Any, live_server: LiveServer, live_session: Session) -> None:
    """Sign in on a phone: the major job comes first, the route in order with ETAs and time left; the job screen
    has the intake answers, equipment, history, alarm, customer photo, hours, tap-to-call and navigation. With the
    network cut, the app starts again from its own cache and still shows the jobs."""
    day = make_day(live_session, live_server.settings)
    context = phone()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, day.user.username)

    urgent = page.locator("#jobs-urgent li.job")
    assert urgent.evaluate_all("els => els.map(e => Number(e.dataset.id))") == [day.visits[2].id]
    route = page.locator("#jobs li.job")
    assert route.evaluate_all("els => els.map(e => Number(e.dataset.id))") == [day.visits[0].id, day.visits[1].id]
    first = route.first
    assert "Riverside tower crane" in first.inner_text()
    assert "ETA" in first.inner_text() and "left" in first.locator(".left").inner_text()
    screenshot(page, "today-en")

    first.locator("a").click()
    page.wait_for_selector("#screen[data-screen='job']")
    text = page.locator("#screen").inner_text()
    for expected in (
        "Hoist gearbox gear broken",
        "Hoist gearbox, drum side",
        "Under load, lifting rebar",
        "Replace the gearbox",
        "ZJ5510",
        "Slewing brake noise",
        "HOIST_OVERLOAD",
        "07:00–19:00",
    ):
        assert expected in text, expected
    assert page.locator("#call").get_attribute("href") == "tel:+8613800000000"
    assert page.locator("#navigate").get_attribute("href").startswith("geo:28.2,112.95")
    page.wait_for_function("document.querySelector('#customer-photos img')?.naturalWidth > 0")
    assert page.locator("#actions [data-action='accept']").is_visible()
    screenshot(page, "job-en", full_page=True)

    # The service worker holds the shell: no network at all, a fresh start, the same jobs.
    wait_for_worker(page)
    context.set_offline(True)
    page.goto(f"{live_server.url}/app/")
    page.wait_for_selector("#screen[data-loaded='true']")
    assert page.locator("li.job").count() == 3
    assert page.locator("#net").get_attribute("data-state") == "offline"
    screenshot(page, "today-offline-en")
    assert not errors, errors
