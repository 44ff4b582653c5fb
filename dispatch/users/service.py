"""Users: creation with hashed passwords, login, and the account commands that end sessions (audited)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from dispatch.core.auth import Principal, hash_password, verify_password, verify_unknown_user
from dispatch.core.clock import utcnow
from dispatch.core.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    TooManyRequests,
    Unauthorized,
    Unprocessable,
)
from dispatch.core.settings import Settings
from dispatch.core.types import Role
from dispatch.events import publish
from dispatch.users.models import AccountEvent, LoginFailure, RevokedToken, User
from dispatch.workforce.models import Technician


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Your account no longer exists.", key="error.user.gone")
    return user


def set_locale(session: Session, *, user_id: int, locale: str | None) -> User:
    """Save the user's screen language (zh-CN, en, ko) or clear it to follow the browser.

    A personal preference, not a ticket event: the ticket audit log does not record it."""
    user = session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound("Your account no longer exists.", key="error.user.gone")
    user.locale = locale
    session.commit()
    return user


def _check_technician(session: Session, technician_id: int | None) -> None:
    if technician_id is None:
        raise Unprocessable(
            "A technician account needs the technician it belongs to.",
            errors=[FieldError("/technician_id", "required for role technician", key="field.required")],
            key="error.user.technician-needed",
        )
    if session.get(Technician, technician_id) is None:
        raise Unprocessable(
            f"Technician {technician_id} does not exist.",
            errors=[FieldError("/technician_id", "no such technician", key="field.no-such-technician")],
            key="error.technician.not-found",
            params={"technician_id": technician_id},
        )


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    password: str,
    role: Role,
    technician_id: int | None = None,
    email: str | None = None,
    language: str = "zh-CN",
    locale: str | None = None,
) -> User:
    """Create a login; a technician account must point at its technician record."""
    if role is Role.technician or technician_id is not None:
        _check_technician(session, technician_id)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username '{username}' is taken.", key="error.user.taken", params={"username": username})
    if role is Role.technician:
        holder = session.scalar(select(User.username).where(User.technician_id == technician_id))
        if holder is not None:
            # One login per technician (a unique column): say so instead of a database error (issue 19).
            raise Conflict(
                f"The technician already has a login ({holder}).",
                errors=[FieldError("/technician_id", "already has a login", key="field.technician-has-login")],
                key="error.user.technician-has-login",
                params={"username": holder},
            )
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        technician_id=technician_id if role is Role.technician else None,
        email=email,
        language=language,
        locale=locale,
    )
    session.add(user)
    session.commit()
    return user


def authenticate(
    session: Session,
    *,
    username: str,
    password: str,
    settings: Settings,
    address: str = "unknown",
    now: datetime | None = None,
) -> Principal:
    """The principal for valid credentials; one vague error for every failure so names are not probed.

    Too many recent failures for the account or the address answer 429 before the password is even checked.
    """
    now = now or utcnow()
    since = now - timedelta(minutes=settings.login_failure_window_minutes)
    by_account = session.scalar(
        select(func.count()).where(LoginFailure.username == username[:200], LoginFailure.at >= since)
    )
    by_address = session.scalar(
        select(func.count()).where(LoginFailure.address == address[:64], LoginFailure.at >= since)
    )
    if by_account >= settings.login_failures_per_account or by_address >= settings.login_failures_per_address:
        raise TooManyRequests(
            f"Too many failed logins; try again in {settings.login_failure_window_minutes} minutes.",
            extra={"retry_after": settings.login_failure_window_minutes * 60},
            key="error.auth.locked",
            params={"minutes": settings.login_failure_window_minutes},
        )
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        verify_unknown_user(password)
    if user is None or not verify_password(user.password_hash, password) or not user.is_active:
        session.add(LoginFailure(username=username[:200], address=address[:64], at=now))
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(days=1)))
        session.commit()
        raise Unauthorized("Wrong username or password.", key="error.auth.wrong-password")
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    session.commit()
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        technician_id=user.technician_id,
        session_epoch=user.session_epoch,
    )


# ---- ending sessions -------------------------------------------------------------------------------------------
# Every API process hears "session.ended" (dispatch.board.hub): an open event stream of that user ends at once.
SESSION_ENDED = "session.ended"


def find_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"There is no user '{username}'.", key="error.user.not-found", params={"username": username})
    return user


def _locked_user(session: Session, user_id: int, *, lock: bool = True) -> User:
    user = session.get(User, user_id, with_for_update=lock)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.", key="error.user.no-such-id", params={"user_id": user_id})
    return user


def account_events(session: Session, *, user_id: int, limit: int = 100) -> list[AccountEvent]:
    """The account's audit, newest first."""
    _locked_user(session, user_id, lock=False)
    query = select(AccountEvent).where(AccountEvent.user_id == user_id).order_by(AccountEvent.id.desc()).limit(limit)
    return list(session.scalars(query))


def _record(
    session: Session,
    user: User,
    action: str,
    *,
    actor: str,
    actor_user_id: int | None,
    reason: str | None,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        AccountEvent(
            user_id=user.id,
            at=now,
            actor=actor,
            actor_user_id=actor_user_id,
            action=action,
            reason=reason,
            data=data or {},
        )
    )


def _end_all_sessions(session: Session, user: User) -> None:
    # Tokens carry the epoch they were issued under: the next request with any older one is refused.
    user.session_epoch += 1
    publish(session, SESSION_ENDED, {"user_id": user.id})


def _refuse_self(actor_user_id: int | None, user: User, what: str) -> None:
    # An admin who locks themselves out needs the command line to get back in: refuse it here.
    if actor_user_id is not None and actor_user_id == user.id:
        raise Forbidden(f"You cannot {what} your own account.", key="error.user.not-yourself")


def deactivate_user(
    session: Session,
    *,
    user_id: int,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> User:
    """Deactivate an account and end every session of it (tokens, event streams); audited; commits.

    Deactivating an inactive account changes and records nothing."""
    user = _locked_user(session, user_id)
    _refuse_self(actor_user_id, user, "deactivate")
    if user.is_active:
        user.is_active = False
        _end_all_sessions(session, user)
        _record(
            session, user, "deactivate", actor=actor, actor_user_id=actor_user_id, reason=reason, now=now or utcnow()
        )
    session.commit()
    return user


def activate_user(
    session: Session,
    *,
    user_id: int,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> User:
    """Let a deactivated account sign in again (the tokens it had stay void); audited; commits."""
    user = _locked_user(session, user_id)
    if not user.is_active:
        user.is_active = True
        _record(session, user, "activate", actor=actor, actor_user_id=actor_user_id, reason=reason, now=now or utcnow())
    session.commit()
    return user


def end_sessions(
    session: Session,
    *,
    user_id: int,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> User:
    """End every session of the account (a lost phone, a shared password) without deactivating it; audited."""
    user = _locked_user(session, user_id)
    _end_all_sessions(session, user)
    _record(session, user, "end-sessions", actor=actor, actor_user_id=actor_user_id, reason=reason, now=now or utcnow())
    session.commit()
    return user


def change_role(
    session: Session,
    *,
    user_id: int,
    role: Role,
    technician_id: int | None = None,
    actor: str,
    actor_user_id: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> User:
    """Give the account another role (and technician link); audited; commits.

    Its sessions end: every screen it had open was drawn for the old role, so it signs in again."""
    user = _locked_user(session, user_id)
    _refuse_self(actor_user_id, user, "change the role of")
    if role is Role.technician:
        _check_technician(session, technician_id)
    else:
        technician_id = None
    if (user.role, user.technician_id) != (role, technician_id):
        before = {"role": str(user.role), "technician_id": user.technician_id}
        user.role, user.technician_id = role, technician_id
        _end_all_sessions(session, user)
        _record(
            session,
            user,
            "change-role",
            actor=actor,
            actor_user_id=actor_user_id,
            reason=reason,
            now=now or utcnow(),
            data={"from": before, "to": {"role": str(role), "technician_id": technician_id}},
        )
    session.commit()
    return user


def sign_out(session: Session, principal: Principal, *, everywhere: bool = False, now: datetime | None = None) -> None:
    """End the caller's own sign-in; commits.

    This token: its `jti` goes on the denylist until it would have expired anyway. With `everywhere`: every
    session of the account (audited, like an admin's "end sessions")."""
    now = now or utcnow()
    if everywhere:
        user = _locked_user(session, principal.user_id)
        _end_all_sessions(session, user)
        _record(
            session, user, "sign-out-everywhere", actor=principal.actor, actor_user_id=user.id, reason=None, now=now
        )
    elif principal.token_id:
        session.execute(
            insert(RevokedToken)
            .values(
                jti=principal.token_id,
                user_id=principal.user_id,
                expires_at=principal.expires_at or now,
                revoked_at=now,
            )
            .on_conflict_do_nothing(index_elements=["jti"])
        )
        publish(session, SESSION_ENDED, {"user_id": principal.user_id, "token_id": principal.token_id})
        session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    session.commit()
