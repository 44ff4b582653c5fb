"""Asking for a re-plan: a row the worker picks up, written in the caller's transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from dispatch.plans.models import ReplanRequest


def request_replan(session: Session, *, reason: str, ticket_id: int | None = None) -> None:
    """Queue a live re-plan; several requests before the worker runs are handled by one solve."""
    session.add(ReplanRequest(reason=reason[:200], ticket_id=ticket_id))
