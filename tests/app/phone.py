"""Driving the app like a technician: taps, sheets, photos, the signature, and reading the phone's outbox."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.board.conftest import LiveServer
from tests.factories import PASSWORD

OUTBOX_JS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("onsite24-app");
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const q = open.result.transaction("outbox").objectStore("outbox").getAll();
    q.onsuccess = () => resolve(q.result.sort((a, b) => a.seq - b.seq).map((r) => ({
      key: r.key, type: r.type, kind: r.kind, job_id: r.job_id, device_at: r.device_at, state: r.state,
      reason: r.reason || null, detail: r.detail || null, result: r.result || null,
      body: r.type === "photo" ? null : r.body,
    })));
  };
})"""


def sign_in(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/app/")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("#screen[data-loaded='true']")


def wait_for_worker(page: Any) -> None:
    """The service worker controls the page (the shell is cached): from now on it starts with no network."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    if not page.evaluate("navigator.serviceWorker.controller !== null"):
        page.reload()
        page.wait_for_selector("#screen[data-loaded='true']")
    assert page.evaluate("navigator.serviceWorker.controller !== null")


def outbox(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(OUTBOX_JS)


def tap_action(page: Any, action: str) -> None:
    page.click(f"#actions [data-action='{action}']")


def answer_sheet(page: Any, **fields: str) -> None:
    for selector, value in fields.items():
        page.fill(f"dialog.sheet #{selector}", value)
    page.click("dialog.sheet button[type=submit]")
    page.wait_for_selector("dialog.sheet", state="detached")


def camera_jpeg(width: int = 4000, height: int = 3000) -> bytes:
    """A phone camera's picture: 12 megapixels of detail (noise), several megabytes as JPEG."""
    img = Image.effect_noise((width, height), 60).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=95)
    return out.getvalue()


def draw_signature(page: Any, selector: str = "#sig") -> None:
    canvas = page.locator(selector)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 0.1 * w, y + 0.7 * h)
    page.mouse.down()
    for fx, fy in ((0.25, 0.3), (0.4, 0.75), (0.55, 0.25), (0.7, 0.7), (0.9, 0.4)):
        page.mouse.move(x + fx * w, y + fy * h, steps=6)
    page.mouse.up()


def pick(page: Any, name: str, value: str) -> None:
    page.click(f"label.opt:has(input[name='{name}'][value='{value}'])")
