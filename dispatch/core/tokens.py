"""Signed tokens (JWT, HS256) read against the product's one clock.

PyJWT checks `exp`/`nbf`/`iat` against its own reading of the wall clock; every token in the product is
checked here against `dispatch.core.clock.utcnow` instead, so a token's life and the rest of the system agree
(and tests that set the clock see tokens expire when the product would).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jwt

from dispatch.core.clock import utcnow

ALGORITHM = "HS256"
# A token minted by another process of the deployment may be stamped a moment ahead of this one's clock.
CLOCK_LEEWAY_S = 5


def decode_token(
    token: str, key: str, *, audience: str, require: Sequence[str] = ("exp",), now: datetime | None = None
) -> dict[str, Any]:
    """The claims of a genuine token for `audience`; raises `jwt.ExpiredSignatureError` after `exp` and
    `jwt.InvalidTokenError` for anything else wrong (signature, audience, a missing claim, not yet valid)."""
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        audience=audience,
        options={"require": list(require), "verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    at = (now or utcnow()).timestamp()
    try:
        expires = float(claims["exp"])
        not_before = float(claims.get("nbf", claims.get("iat", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise jwt.InvalidTokenError("a time claim is not a number") from exc
    if at >= expires:
        raise jwt.ExpiredSignatureError("Signature has expired")
    if at < not_before - CLOCK_LEEWAY_S:
        raise jwt.ImmatureSignatureError("The token is not yet valid")
    return claims
