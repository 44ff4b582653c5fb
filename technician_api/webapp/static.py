"""Serving the built technician app: `/app/` is the page, `/app/sw.js` its service worker, the rest hashed files.

The app is built from `app/` (npm + Vite, packages from its package-lock.json) into
`technician_api/webapp/static/` by `make app` (part of `make demo` and `make test`); when the build is
missing the route says how to make it.

Caching: the page, the worker and the manifest are `no-cache` (the phone revalidates them, so a new build
reaches it on the next start); the hashed assets are immutable. Once installed, the service worker answers
all of them from its own cache, so the app opens without a network.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from dispatch.core.i18n import tag

STATIC_DIR = Path(__file__).resolve().parent / "static"

_MISSING = """<!doctype html><meta charset="utf-8"><title>Onsite24 app not built</title>
<h1>The technician app has not been built</h1><p>Run <code>make app</code> (npm ci &amp;&amp; npm run build in
<code>app/</code>), then reload.</p>"""

#: Files at the top of the build, served as they are (everything else is under /app/assets/).
_TOP_FILES = {
    "sw.js": "text/javascript",
    "manifest.webmanifest": "application/manifest+json",
    "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png",
    "icon-512.png": "image/png",
}
_SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def install_app(app: FastAPI, static_dir: Path = STATIC_DIR) -> None:
    index = static_dir / "index.html"

    @app.get("/app", include_in_schema=False)
    def app_root() -> RedirectResponse:
        # The service worker's scope is /app/; the page must live inside it.
        return RedirectResponse("/app/", status_code=308)

    @app.get("/app/", include_in_schema=False, response_model=None)
    def app_page() -> HTMLResponse:
        if not index.is_file():
            return HTMLResponse(_MISSING, status_code=503)
        default = tag(app.state.settings.default_locale)
        page = index.read_text(encoding="utf-8").replace(
            '<html lang="en">', f'<html lang="{default}" data-default-lang="{default}">', 1
        )
        return HTMLResponse(page, headers={"Cache-Control": "no-cache", **_SECURITY})

    def top_file(name: str, media_type: str) -> None:
        path = static_dir / name

        def serve() -> Response:
            if not path.is_file():
                return Response(status_code=404)
            headers = {"Cache-Control": "no-cache", **_SECURITY}
            if name == "sw.js":
                headers["Service-Worker-Allowed"] = "/app/"
            return FileResponse(path, media_type=media_type, headers=headers)

        app.add_api_route(f"/app/{name}", serve, methods=["GET"], include_in_schema=False)

    for name, media_type in _TOP_FILES.items():
        top_file(name, media_type)

    app.mount(
        "/app/assets", _ImmutableFiles(directory=static_dir / "assets", check_dir=False), name="technician-app-assets"
    )


class _ImmutableFiles(StaticFiles):
    """Hashed build files: a new build has new names, so a phone may keep these for a year."""

    def file_response(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
