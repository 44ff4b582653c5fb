"""`/t/{token}`: a tracking link for one ticket, for a customer without an account.

The token is random and stored hashed; it shows only that ticket's status, times and technician's name, and
stops working when the ticket closes (it travels in SMS and e-mail, so it should not outlive its purpose).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.portal.models import TrackingLink
from dispatch.portal.tokens import new_token, token_hash
from dispatch.tickets.models import Ticket

MAX_TOKEN_LENGTH = 64


def issue_tracking_link(session: Session, ticket: Ticket) -> str:
    """A new token for the ticket (caller commits); returned once, never stored in clear."""
    token = new_token()
    session.add(TrackingLink(ticket_id=ticket.id, token_hash=token_hash(token)))
    return token


def tracking_url(base_url: str | None, token: str) -> str:
    return f"{(base_url or '').rstrip('/')}/t/{token}"


def ticket_for_token(session: Session, token: str) -> Ticket | None:
    """The ticket behind a tracking token while it is open; None for unknown, malformed or closed."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    ticket = session.scalar(
        select(Ticket)
        .join(TrackingLink, TrackingLink.ticket_id == Ticket.id)
        .where(TrackingLink.token_hash == token_hash(token))
    )
    if ticket is None or ticket.closed_at is not None:
        return None
    return ticket
