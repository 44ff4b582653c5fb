"""Notices raised by technician work: department head, dispatcher, and the customer's confirmation link.

INTERIM: rows go to `technician_notices`, which the board and the tests read. At merge the lead routes
`notify()` through `dispatch.notifications.notify(session, audience=..., kind=..., ...)` (in-app + webhook,
SMS/e-mail channels); the signature of this function matches it so only the body changes.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from technician_api.jobs.models import TechnicianNotice


def notify(
    session: Session,
    *,
    audience: str,
    kind: str,
    subject: str,
    body: str,
    ticket_id: int | None = None,
    recipient: str | None = None,
    channel: str = "in_app",
) -> TechnicianNotice:
    """Record a notice in the caller's transaction (the caller's single commit sends it)."""
    notice = TechnicianNotice(
        audience=audience,
        recipient=recipient,
        channel=channel,
        kind=kind,
        subject=subject[:300],
        body=body,
        ticket_id=ticket_id,
    )
    session.add(notice)
    return notice
