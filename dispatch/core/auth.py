"""Authentication and authorisation: argon2 password hashes, short-lived JWT bearer tokens, role checks.

A token says who signed in; what they may do is read from their account on every request, in the one
primary-key query that also reads their language: a deactivated account, a role change, a signed-out token
(`jti` on the denylist) or ended sessions (the account's `session_epoch` moved past the token's `sep`) take
effect on the next request, not when the token expires. Role and ownership checks are reusable FastAPI
dependencies, so every router states who may call it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import LOCALE_STATE
from dispatch.core.errors import Forbidden, Unauthorized
from dispatch.core.settings import Settings
from dispatch.core.tokens import decode_token
from dispatch.core.types import Role
from dispatch.users.models import RevokedToken, User

_hasher = PasswordHasher()
JWT_ALGORITHM = "HS256"
ACCESS_AUDIENCE = "onsite24:access"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("onsite24-timing-equaliser")


def verify_unknown_user(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user with one role (technicians also carry their technician id)."""

    user_id: int
    username: str
    role: Role
    technician_id: int | None = None
    # When the sign-in behind this call ends (the token's expiry); long-lived streams stop then.
    expires_at: datetime | None = field(default=None, compare=False)
    # The token's id (for signing out this token) and the account's session epoch it was issued under.
    token_id: str | None = field(default=None, compare=False)
    session_epoch: int = field(default=0, compare=False)

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}"


def create_access_token(
    settings: Settings, principal: Principal, *, minutes: int | None = None, lifetime: timedelta | None = None
) -> str:
    """A signed bearer token for `principal`, valid for `lifetime` (or `minutes`, or the configured default)."""
    now = utcnow()
    lifetime = lifetime or timedelta(minutes=minutes or settings.access_token_minutes)
    claims = {
        "sub": str(principal.user_id),
        "usr": principal.username,
        "role": principal.role.value,
        "tech": principal.technician_id,
        "aud": ACCESS_AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
        "sep": principal.session_epoch,
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)


def decode_access_token(settings: Settings, token: str) -> Principal:
    try:
        claims = decode_token(
            token,
            settings.secret_key.get_secret_value(),
            audience=ACCESS_AUDIENCE,
            require=("exp", "sub", "role", "aud"),
        )
        return Principal(
            user_id=int(claims["sub"]),
            username=str(claims.get("usr", "")),
            role=Role(claims["role"]),
            technician_id=claims.get("tech"),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
            token_id=str(claims["jti"]) if claims.get("jti") else None,
            session_epoch=int(claims.get("sep", 0)),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The access token has expired; log in again.", key="error.auth.expired") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
        raise Unauthorized("The access token is invalid.", key="error.auth.invalid") from exc


async def get_app_settings(request: Request) -> Settings:
    return request.app.state.settings


AppSettings = Annotated[Settings, Depends(get_app_settings)]


def current_principal(
    request: Request,
    settings: AppSettings,
    session: DbSession,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    """The caller, from the bearer token; their saved language goes to the request for every text it renders."""
    if not token:
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.", key="error.auth.missing")
    principal, locale = live_principal(session, decode_access_token(settings, token))
    # Read per request rather than put in the token, so a changed setting applies at once on every device.
    if locale:
        setattr(request.state, LOCALE_STATE, locale)
    return principal


def live_principal(session: Session, claimed: Principal) -> tuple[Principal, str | None]:
    """The caller as their account stands now (role, technician), and their saved language.

    One query by primary key on the caller's session (shared with the endpoint, not a new one): the user's
    row and whether the token's `jti` is on the denylist. Refuses (401) a deleted or deactivated account, a
    signed-out token and a token from before the account's sessions were ended.
    """
    revoked = (
        select(RevokedToken.jti).where(RevokedToken.jti == claimed.token_id).exists()
        if claimed.token_id
        else literal(False)
    )
    row = session.execute(
        select(User.is_active, User.role, User.technician_id, User.locale, User.session_epoch, revoked).where(
            User.id == claimed.user_id
        )
    ).one_or_none()
    if row is None:
        raise Unauthorized("This account no longer exists.", key="error.auth.gone")
    is_active, role, technician_id, locale, epoch, is_revoked = row
    if not is_active:
        raise Unauthorized("This account has been deactivated.", key="error.auth.deactivated")
    if is_revoked or claimed.session_epoch != epoch:
        raise Unauthorized("This sign-in has ended; log in again.", key="error.auth.session-ended")
    return replace(claimed, role=Role(role), technician_id=technician_id), locale


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


STAFF_ROLES = (Role.admin, Role.agent, Role.dispatcher, Role.manager)
_STAFF_SET = frozenset({Role.agent, Role.dispatcher, Role.manager})


def require_roles(*roles: Role):  # type: ignore[no-untyped-def]
    """Dependency factory: the caller must hold one of `roles`; admin may act wherever office staff may."""
    allowed = frozenset(roles)

    async def _check(principal: CurrentPrincipal) -> Principal:  # no I/O: no thread hop
        admin_ok = principal.role is Role.admin and bool(allowed & _STAFF_SET)
        if principal.role not in allowed and not admin_ok:
            names = ", ".join(sorted(r.value for r in allowed))
            raise Forbidden(
                f"This action needs one of the roles: {names}.", key="error.auth.roles", params={"roles": names}
            )
        return principal

    _check.allowed_roles = allowed  # type: ignore[attr-defined]  # read by the role-matrix test
    return Depends(_check)
