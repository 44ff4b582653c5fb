"""The customer's confirmation: one-time links and the signed feedback form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class ConfirmationLink(Base):
    """A one-time link issued on completion; `jti` is the id inside the signed token."""

    __tablename__ = "confirmation_links"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    refused_at: Mapped[datetime | None]
    refusal_reason: Mapped[str | None] = mapped_column(Text)


class Confirmation(Base):
    """A signed service-feedback form (domain.md "Closing"); `document_sha256` seals it against edits."""

    __tablename__ = "confirmations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    link_jti: Mapped[str] = mapped_column(ForeignKey("confirmation_links.jti"), unique=True)
    satisfied: Mapped[bool]
    # {"quality", "speed", "attitude", "accurate_information", "safety"} -> 1..5
    ratings: Mapped[dict[str, int]] = mapped_column(JSONB)
    comment: Mapped[str] = mapped_column(Text, default="")
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_role: Mapped[str] = mapped_column(String(200))
    signature_png: Mapped[bytes] = mapped_column(LargeBinary)
    signed_at: Mapped[datetime]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    # The work report as the customer saw it when signing.
    work_report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    outcome: Mapped[str] = mapped_column(String(20))  # confirmed | reopened
    document_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # Is the relationship kept, and what should improve: {"product", "process", "people"} -> the customer's words.
    relationship_kept: Mapped[bool | None]
    improvements: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, server_default=text("'{}'::jsonb"))
    # How it was signed: "link" (the customer's one-time link) or "device" (on the technician's phone, sent by
    # the app with its idempotency key, possibly long after; `signed_at` is then the phone's time).
    channel: Mapped[str] = mapped_column(String(20), default="link", server_default="link")
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    submitted_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
