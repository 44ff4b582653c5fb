"""The customer's session and CSRF protection for the portal's forms.

Session: a random 192-bit token in an HttpOnly, SameSite=Lax cookie (Secure on https), stored on the server
only as its SHA-256 (`portal_sessions`), so signing out revokes it there and a replayed cookie opens nothing.
It is no JWT, so it can never pass as a staff access token or a confirmation link. It names one customer;
every query is scoped to that customer.

CSRF: double submit. A random `onsite24_csrf` cookie (HttpOnly, SameSite=Strict) and, in every form, an HMAC
of it under the app's secret; a POST is accepted only when the two agree. SameSite already stops most
cross-site posts; the token also covers old browsers and same-site subdomains.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from dispatch.core.settings import Settings

SESSION_COOKIE = "onsite24_portal"
CSRF_COOKIE = "onsite24_csrf"


def _key(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE)


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=settings.portal_session_minutes * 60,
        httponly=True,
        samesite="lax",  # lax: the link in an e-mail or SMS opens the portal signed in
        secure=_secure(settings),
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(settings))


def csrf_seed(request: Request) -> tuple[str, bool]:
    """The browser's CSRF cookie value, or a new one (True = the response must set it)."""
    seed = request.cookies.get(CSRF_COOKIE)
    if seed and 16 <= len(seed) <= 64:
        return seed, False
    return secrets.token_urlsafe(24), True


def csrf_token(settings: Settings, seed: str) -> str:
    return hmac.new(_key(settings).encode(), b"portal-csrf:" + seed.encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, settings: Settings, submitted: str | None) -> bool:
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not submitted:
        return False
    return hmac.compare_digest(csrf_token(settings, seed), submitted)


def set_csrf_cookie(response: Response, settings: Settings, seed: str) -> None:
    response.set_cookie(CSRF_COOKIE, seed, httponly=True, samesite="strict", secure=_secure(settings), path="/")
