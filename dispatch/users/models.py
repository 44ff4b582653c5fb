from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, func
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
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class LoginFailure(Base):
    """A failed login, kept briefly so brute force is slowed per account and per address across API replicas."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(200), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)
