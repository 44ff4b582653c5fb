"""The customer's session and CSRF protection for the portal's forms.

Session: an HS256 JWT in an HttpOnly, SameSite=Lax cookie (Secure on https), audience `onsite24:portal`, so
it can never pass as a staff access token or a confirmation link. It names one customer; every query is
scoped to that customer.

CSRF: double submit. A random `onsite24_csrf` cookie (HttpOnly, SameSite=Strict) and, in every form, an HMAC
of it under the app's secret; a POST is accepted only when the two agree. SameSite already stops most
cross-site posts; the token also covers old browsers and same-site subdomains.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import jwt
from fastapi import Request, Response

from dispatch.core.settings import Settings
from dispatch.core.tokens import decode_token

PORTAL_AUDIENCE = "onsite24:portal"
SESSION_COOKIE = "onsite24_portal"
CSRF_COOKIE = "onsite24_csrf"


def _key(settings: Settings) -> str:
    return settings.secret_key.get_secret_value()


def encode_session(settings: Settings, customer_id: int, now: datetime) -> str:
    claims = {
        "aud": PORTAL_AUDIENCE,
        "sub": str(customer_id),
        "iat": now,
        "exp": now + timedelta(minutes=settings.portal_session_minutes),
        "jti": secrets.token_urlsafe(12),
    }
    return jwt.encode(claims, _key(settings), algorithm="HS256")


def decode_session(settings: Settings, token: str | None) -> int | None:
    """The customer id of a genuine, unexpired session cookie; None otherwise."""
    if not token or len(token) > 2000:
        return None
    try:
        claims = decode_token(token, _key(settings), audience=PORTAL_AUDIENCE, require=("exp", "sub"))
        return int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError):
        return None


def _secure(settings: Settings) -> bool:
    return settings.public_base_url.startswith("https://")


def set_session_cookie(response: Response, settings: Settings, customer_id: int, now: datetime) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        encode_session(settings, customer_id, now),
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
