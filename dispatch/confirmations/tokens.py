"""The one-time confirmation link: an HS256 JWT bound to a ticket and visit, with an expiry and an id.

The signature stops tampering, `exp` stops old links, and the `confirmation_links` row (looked up by
`jti`) makes it single-use. The key is the app's secret; the audience keeps these tokens from ever
being accepted as access tokens (and the other way round).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from dispatch.core.errors import DomainError
from dispatch.core.settings import Settings

CONFIRM_AUDIENCE = "onsite24:confirm"
#: How long the customer may take to fill in the form. A deployment constant for now; the lead may
#: move it into policy.toml ([confirmation] link_hours) when the policy gains that table.
LINK_HOURS = 72


class LinkExpired(DomainError):
    code = "confirmation-link-expired"
    title = "This confirmation link has expired"
    status = 410


class LinkInvalid(DomainError):
    code = "confirmation-link-invalid"
    title = "This confirmation link is not valid"
    status = 404


class LinkUsed(DomainError):
    code = "confirmation-link-used"
    title = "This confirmation has already been submitted"
    status = 409


@dataclass(frozen=True)
class LinkClaims:
    jti: str
    ticket_id: int
    visit_id: int
    expires_at: datetime


def new_jti() -> str:
    return secrets.token_urlsafe(24)


def encode_link(
    settings: Settings, *, jti: str, ticket_id: int, visit_id: int, issued_at: datetime, expires_at: datetime
) -> str:
    claims = {
        "aud": CONFIRM_AUDIENCE,
        "jti": jti,
        "tkt": ticket_id,
        "vst": visit_id,
        "iat": issued_at,
        "exp": expires_at,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm="HS256")


def decode_link(settings: Settings, token: str, *, now: datetime) -> LinkClaims:
    """Claims of a genuine, unexpired link; `LinkExpired` or `LinkInvalid` otherwise."""
    try:
        # The expiry is checked below against the caller's `now` (a "link expired" answer of its own).
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=["HS256"],
            audience=CONFIRM_AUDIENCE,
            options={"require": ["exp", "jti", "aud", "tkt", "vst"], "verify_exp": False, "verify_iat": False},
        )
        expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=now.tzinfo)
        parsed = LinkClaims(str(claims["jti"]), int(claims["tkt"]), int(claims["vst"]), expires_at)
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError) as exc:
        raise LinkInvalid(
            "The link is damaged or was not issued by us. Ask the technician for a new one.", key="error.link.damaged"
        ) from exc
    if parsed.expires_at <= now:
        raise LinkExpired(
            "The link has expired. Ask the technician or our service line for a new one.", key="error.link.expired"
        )
    return parsed


def expiry(issued_at: datetime) -> datetime:
    return issued_at + timedelta(hours=LINK_HOURS)
