"""Technician app tests: the built app served by a real uvicorn on the committed test database, driven in
Debian's Chromium with phone emulation (360 × 740, touch, mobile user agent). Screenshots go to
`test-artifacts/app/`, for people to look at."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from technician_api.webapp.static import STATIC_DIR
from tests.board.conftest import (  # noqa: F401 (fixtures)
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    board_settings,
    live_server,
    live_session,
)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "app"
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "user_agent": (
        "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
    "timezone_id": "Asia/Shanghai",
}


@pytest.fixture(scope="session")
def built_app() -> Path:
    """The built app; fails with the command to run when `make app` has not been run."""
    if not (STATIC_DIR / "index.html").is_file():
        if shutil.which("npm") is None:
            pytest.skip("the technician app is not built and npm is missing")
        pytest.fail("the technician app is not built: run `make app` (npm ci && npm run build in app/)")
    return STATIC_DIR


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser: Any, built_app: Path) -> Iterator[Any]:
    """`phone(locale=..., geolocation=...)`: a fresh phone (its own storage, service worker and IndexedDB),
    closed after the test (also when it fails, so no stream outlives the server)."""
    contexts: list[Any] = []

    def make(*, locale: str = "en-US", geolocation: dict[str, float] | None = None, **extra: Any) -> Any:
        options: dict[str, Any] = {**PHONE, "locale": locale, **extra}
        if geolocation is not None:
            options["geolocation"] = geolocation
            options["permissions"] = ["geolocation"]
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, *, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
