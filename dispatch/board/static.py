"""Serving the built board page: `/board` is the single-page app, `/board/assets/*` its hashed files.

The page is built from `board/` (npm + Vite) into `dispatch/board/static/` by `make board` (part of
`make demo` and `make test`); when the build is missing the route says how to make it.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from dispatch.core.i18n import tag

STATIC_DIR = Path(__file__).resolve().parent / "static"

_MISSING = """<!doctype html><meta charset="utf-8"><title>Onsite24 board not built</title>
<h1>The board has not been built</h1><p>Run <code>make board</code> (npm ci &amp;&amp; npm run build in
<code>board/</code>), then reload.</p>"""


def install_board(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    index = static_dir / "index.html"

    @app.get("/board", include_in_schema=False, response_model=None)
    @app.get("/board/", include_in_schema=False, response_model=None)
    def board_page() -> HTMLResponse:
        if not index.is_file():
            return HTMLResponse(_MISSING, status_code=503)
        # The site's default language goes into the page, for visitors whose browser asks for none we ship
        # (the login page is drawn before anything is known about the user).
        default = tag(app.state.settings.default_locale)
        page = index.read_text(encoding="utf-8").replace(
            '<html lang="en">', f'<html lang="{default}" data-default-lang="{default}">', 1
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    assets = static_dir / "assets"
    app.mount("/board/assets", StaticFiles(directory=assets, check_dir=False), name="board-assets")
