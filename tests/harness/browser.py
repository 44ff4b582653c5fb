"""Debian's Chromium for the browser tests (Playwright with executable_path; `playwright install` is not used).

Under `make test-anydate` the test processes run on a moved clock (libfaketime, scripts/anydate/run.py), but
Chromium cannot run under libfaketime: it is started without it, and `on_product_clock` puts a page's clock
(`Date`) on the product's time, as a phone's clock agrees with the server's. On the real clock it does nothing.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_MOVED_CLOCK = ("LD_PRELOAD", "FAKETIME", "FAKETIME_FMT", "FAKETIME_DONT_FAKE_MONOTONIC")


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    """Debian's Chromium, headless, with the suite's flags, never under libfaketime."""
    env = {k: v for k, v in os.environ.items() if k not in _MOVED_CLOCK}
    kwargs.setdefault("args", CHROMIUM_ARGS)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, env=env, **kwargs)


def on_product_clock(target: Any) -> Any:
    """Set a browser context's or page's clock to this process's time when the clock is moved; returns target."""
    if os.environ.get("FAKETIME"):
        target.clock.set_system_time(datetime.now(UTC))
    return target
