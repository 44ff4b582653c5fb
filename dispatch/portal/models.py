"""Portal records: sign-in links and their requests (rate limits), sessions, tracking links, complaint photos.

Tokens are never stored: only their SHA-256, so a database dump does not hand out sign-ins or tracking links.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from dispatch.core.db import Base


class PortalLoginLink(Base):
    """A one-time sign-in link for a customer (sent on request, or printed by `onsite24 portal link`)."""

    __tablename__ = "portal_login_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # The keyed hash of the contact it was sent to (None: printed by support): at most a few links are out
    # per contact at once, so a flood of requests for someone else's phone sends them no more than that.
    contact_hash: Mapped[str | None] = mapped_column(String(64))


class PortalSession(Base):
    """A customer signed in on one browser: the cookie holds a random token, stored here only hashed.

    Signing out revokes the row, so a copied or replayed cookie signs in no more (a JWT alone would keep
    working for its 7 days)."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]


class PortalLoginRequest(Base):
    """One "send me a sign-in link" request, counted per contact (hashed) and per client address."""

    __tablename__ = "portal_login_requests"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    contact_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_address: Mapped[str] = mapped_column(String(64), index=True)
    requested_at: Mapped[datetime] = mapped_column(index=True)


class TrackingLink(Base):
    """`/t/{token}`: read-only status of one ticket for a customer without an account (until it closes)."""

    __tablename__ = "ticket_tracking_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TicketPhoto(Base):
    """A photo the customer attached to a web complaint; served only to that customer and to staff."""

    __tablename__ = "ticket_photos"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # random, never a guessable path
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
