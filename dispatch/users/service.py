"""Users: creation with hashed passwords, and login."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dispatch.core.auth import Principal, hash_password, verify_password, verify_unknown_user
from dispatch.core.clock import utcnow
from dispatch.core.errors import Conflict, FieldError, NotFound, TooManyRequests, Unauthorized, Unprocessable
from dispatch.core.settings import Settings
from dispatch.core.types import Role
from dispatch.users.models import LoginFailure, User
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
    if role is Role.technician and technician_id is None:
        raise Unprocessable(
            "A technician account needs the technician it belongs to.",
            errors=[FieldError("/technician_id", "required for role technician", key="field.required")],
            key="error.user.technician-needed",
        )
    if technician_id is not None and session.get(Technician, technician_id) is None:
        raise Unprocessable(
            f"Technician {technician_id} does not exist.",
            errors=[FieldError("/technician_id", "no such technician", key="field.no-such-technician")],
            key="error.technician.not-found",
            params={"technician_id": technician_id},
        )
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The username '{username}' is taken.", key="error.user.taken", params={"username": username})
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
    return Principal(user_id=user.id, username=user.username, role=user.role, technician_id=user.technician_id)
