"""Board tests: a real uvicorn serving the app on the committed (`live_db`) test database, and Debian's Chromium.

The server runs in a thread of the test process; the browser is driven by Playwright with the system
Chromium (`/usr/bin/chromium`), never a downloaded one. Screenshots go to `test-artifacts/board/`.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dispatch.app import create_app
from dispatch.board.static import STATIC_DIR
from dispatch.core.db import make_sessionmaker
from dispatch.core.settings import Settings
from tests.harness.browser import launch_chromium, on_product_clock
from tests.harness.net import free_port
from tests.harness.wait import wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "board"


@dataclass
class LiveServer:
    url: str
    settings: Settings
    app: Any


@pytest.fixture
def board_settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(environment="test", database_url=database_url, upload_dir=tmp_path / "uploads")


@pytest.fixture
def live_session(live_db: Engine) -> Iterator[Session]:
    """A session whose commits are real (other threads and the server see them); tables are emptied after."""
    with make_sessionmaker(live_db, autoflush=True)() as s:
        yield s


@pytest.fixture
def live_server(board_settings: Settings, live_db: Engine) -> Iterator[LiveServer]:
    """uvicorn serving the real app on a free port, in a thread; stopped (streams cut) after the test."""
    app = create_app(board_settings)
    app.state.sse_heartbeat_seconds = 1.0
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60, what="uvicorn to start")
    try:
        yield LiveServer(url=url, settings=board_settings, app=app)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def built_board() -> Path:
    """The built page; skipped with the command to run when `make board` has not been run."""
    if not (STATIC_DIR / "index.html").is_file():
        if shutil.which("npm") is None:
            pytest.skip("the board is not built and npm is missing")
        pytest.fail("the board is not built: run `make board` (npm ci && npm run build in board/)")
    return STATIC_DIR


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope: Playwright's sync API owns the thread's event loop while it runs, so it must be closed
    # before other modules (e.g. the confirmation page's browser test) start their own.
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as p:
        b = launch_chromium(p, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, built_board: Path) -> Iterator[Any]:
    context = on_product_clock(browser.new_context(viewport={"width": 1440, "height": 900}))
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    context.close()


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)
