from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base
from dispatch.core.types import Role, enum_column_type


class User(Base):
    """A person who logs in: agent, dispatcher, technician, manager or admin."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("locale IS NULL OR locale IN ('zh-CN', 'en', 'ko')", name="locale_supported"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_column_type(Role, "user_role"))
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("technicians.id"), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    # The language of messages sent to the user (notices); `locale` is the language of the screens they use.
    language: Mapped[str] = mapped_column(String(10), default="zh-CN")
    # Chosen on the board's settings (zh-CN, en, ko); NULL follows the browser's Accept-Language.
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Access tokens carry the epoch they were issued under; raising it ends every session of the user at once
    # (deactivation, a role change, "sign out everywhere"). Read with the user's row on every request.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RevokedToken(Base):
    """An access token signed out before its expiry (by its `jti`); kept only until it would have expired."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime]


class AccountEvent(Base):
    """One change to an account (deactivated, activated, sessions ended, role changed): who, when, why.

    Append-only, like the tickets' audit log (a database trigger refuses edits and deletions)."""

    __tablename__ = "account_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(120))  # "user:3", "cli:root"
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


class LoginFailure(Base):
    """A failed login, kept briefly so brute force is slowed per account and per address across API replicas."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
