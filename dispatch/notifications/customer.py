"""Notices to the customer, in the customer's language, on the channels the customer chose.

Each notice is one row per channel in `notifications` (audience "customer"): in-app rows are delivered when
recorded (the portal shows them), e-mail / SMS / webhook rows are queued for the worker's `deliver_pending`
(retries with backoff, failures recorded). All functions here write into the caller's transaction, so the
notice exists exactly when the change it tells of was committed.

The moments (domain.md): complaint received (deadline + tracking link), technician assigned (name, ETA),
technician on the way, the plan's arrival slipping past the on-site deadline ("if the promised time cannot be
met, say so within 2 h": told in the transaction that makes it so, once per slip), completed (confirmation
link), return-visit call scheduled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core import i18n
from dispatch.core.settings import Settings
from dispatch.core.types import TicketStatus
from dispatch.customers.models import Customer, Site
from dispatch.notifications.models import Notification
from dispatch.tickets.models import Ticket
from dispatch.workforce.models import Technician

AUDIENCE = "customer"
CHANNELS: tuple[str, ...] = ("sms", "email", "in_app", "webhook")
DEFAULT_CHANNELS: tuple[str, ...] = ("sms", "email", "in_app")
# Statuses in which the customer still waits for the technician (an ETA slip matters only then).
WAITING = frozenset(
    {TicketStatus.new, TicketStatus.assigned, TicketStatus.accepted, TicketStatus.en_route, TicketStatus.reopened}
)

# kind -> (subject key, body key); literal keys so the catalogue test sees them.
TEXTS: dict[str, tuple[str, str]] = {
    "received": ("portal.notice.received.subject", "portal.notice.received.body"),
    "assigned": ("portal.notice.assigned.subject", "portal.notice.assigned.body"),
    "on_the_way": ("portal.notice.on_the_way.subject", "portal.notice.on_the_way.body"),
    "late": ("portal.notice.late.subject", "portal.notice.late.body"),
    "late_unplanned": ("portal.notice.late.subject", "portal.notice.late_unplanned.body"),
    "completed": ("portal.notice.completed.subject", "portal.notice.completed.body"),
    "return_visit": ("portal.notice.return_visit.subject", "portal.notice.return_visit.body"),
    "sign_in": ("portal.notice.sign_in.subject", "portal.notice.sign_in.body"),
}


def customer_recipient(customer_id: int) -> str:
    return f"customer:{customer_id}"


def addresses(customer: Customer | None, site: Site | None, ticket: Ticket | None) -> dict[str, str]:
    """Where each channel reaches this customer: their own contact first, then the site contact, the reporter."""
    found: dict[str, str] = {}
    phone = (customer.phone if customer else None) or (site.contact_phone if site else None)
    phone = phone or (ticket.reporter_phone if ticket else None)
    email = (customer.email if customer else None) or (site.contact_email if site else None)
    if phone:
        found["sms"] = phone
    if email:
        found["email"] = email
    if customer is not None:
        found["in_app"] = customer_recipient(customer.id)
        found["webhook"] = customer_recipient(customer.id)
    return found


def render(kind: str, locale: str | None, **params: Any) -> tuple[str, str]:
    subject_key, body_key = TEXTS[kind]
    return i18n.gettext(subject_key, locale, **params), i18n.gettext(body_key, locale, **params)


def queue(
    session: Session,
    *,
    kind: str,
    now: datetime,
    recipients: dict[str, str],
    channels: list[str] | tuple[str, ...],
    locale: str,
    params: dict[str, Any],
    ticket_id: int | None = None,
    redact_after_delivery: bool = False,
) -> list[Notification]:
    """One row per chosen channel that has an address; in-app rows count as delivered at once.

    `redact_after_delivery`: the body holds a secret (a sign-in link); the worker blanks it once sent.
    """
    subject, body = render(kind, locale, **params)
    rows = []
    for channel in channels:
        recipient = recipients.get(channel)
        if channel not in CHANNELS or recipient is None:
            continue
        in_app = channel == "in_app"
        rows.append(
            Notification(
                channel=channel,
                audience=AUDIENCE,
                recipient=recipient,
                kind=f"customer.{kind}",
                subject=subject[:300],
                body=body,
                ticket_id=ticket_id,
                payload={
                    "locale": i18n.tag(locale),
                    **{k: str(v) for k, v in params.items() if k != "link"},
                    **({"redact_after_delivery": True} if redact_after_delivery else {}),
                },
                status="delivered" if in_app else "pending",
                delivered_at=now if in_app else None,
                next_attempt_at=None if in_app else now,
            )
        )
    session.add_all(rows)
    return rows


def _parties(session: Session, ticket: Ticket) -> tuple[Customer | None, Site | None]:
    site = session.get(Site, ticket.site_id) if ticket.site_id else None
    # A ticket opened by a device or an agent may name only the site; its owner is the customer then.
    customer_id = ticket.customer_id or (site.customer_id if site else None)
    customer = session.get(Customer, customer_id) if customer_id else None
    return customer, site


def notify_customer(session: Session, ticket: Ticket, kind: str, *, now: datetime, **params: Any) -> list[Notification]:
    """Tell the ticket's customer: `params` fill the texts; datetimes are written in the site's zone and language."""
    customer, site = _parties(session, ticket)
    locale = i18n.normalize(customer.language if customer else None) or "zh_CN"
    tz = site.timezone if site else "UTC"
    filled = {
        key: i18n.format_datetime(value, locale, tz, "short") if isinstance(value, datetime) else value
        for key, value in params.items()
    }
    filled.setdefault("ticket", ticket.id)
    filled.setdefault("deadline", i18n.format_datetime(ticket.due_on_site_at, locale, tz, "short"))
    channels = list(customer.notice_channels) if customer and customer.notice_channels else list(DEFAULT_CHANNELS)
    return queue(
        session,
        kind=kind,
        now=now,
        recipients=addresses(customer, site, ticket),
        channels=channels,
        locale=locale,
        params=filled,
        ticket_id=ticket.id,
    )


def technician_name(session: Session, technician_id: int | None) -> str:
    tech = session.get(Technician, technician_id) if technician_id else None
    return tech.name if tech else "-"


def complaint_received(session: Session, ticket: Ticket, *, now: datetime, track_url: str) -> None:
    notify_customer(session, ticket, "received", now=now, link=track_url)


def technician_assigned(session: Session, ticket: Ticket, *, technician_id: int, eta: datetime, now: datetime) -> None:
    notify_customer(session, ticket, "assigned", now=now, technician=technician_name(session, technician_id), eta=eta)


def on_the_way(session: Session, ticket: Ticket, *, technician_id: int | None, now: datetime) -> None:
    eta = ticket.eta_at or ticket.due_on_site_at
    notify_customer(session, ticket, "on_the_way", now=now, technician=technician_name(session, technician_id), eta=eta)


def eta_changed(
    session: Session, ticket: Ticket, *, now: datetime, reason: str | None = None, eta: datetime | None = None
) -> None:
    """After the ETA changed: tell the customer once when it now misses the deadline; re-arm when it recovers.

    Called in the transaction that changes the ETA (plan applied, technician reports a delay), so the notice
    is out within seconds of the plan knowing, well inside the 2-hour rule.
    """
    if ticket.status not in WAITING:
        return
    eta = eta or ticket.eta_at
    if eta is None:
        return  # nothing planned yet: the escalation worker's pre-breach check tells the customer in time
    if eta <= ticket.due_on_site_at:
        ticket.customer_late_notice_at = None  # back on time: a later slip is news again
        return
    if ticket.customer_late_notice_at is not None:
        return  # already told about this slip; re-plans that keep it late are not news
    customer, _site = _parties(session, ticket)
    locale = i18n.normalize(customer.language if customer else None) or "zh_CN"
    why = reason or i18n.gettext("portal.notice.reason.replan", locale)
    notify_customer(session, ticket, "late", now=now, eta=eta, reason=why)
    ticket.customer_late_notice_at = now


def unplanned_late(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """The deadline is near and no technician could be planned: say so (once) rather than stay silent."""
    if ticket.status not in WAITING or ticket.customer_late_notice_at is not None:
        return
    notify_customer(session, ticket, "late_unplanned", now=now)
    ticket.customer_late_notice_at = now


def completed(session: Session, ticket: Ticket, *, confirm_url: str, now: datetime) -> None:
    notify_customer(session, ticket, "completed", now=now, link=confirm_url)


def return_visit_scheduled(session: Session, ticket: Ticket, *, due_at: datetime, now: datetime) -> None:
    notify_customer(session, ticket, "return_visit", now=now, due=due_at)


def tell_late_customers(factory: sessionmaker[Session], settings: Settings, now: datetime, *, batch: int = 100) -> int:
    """Worker job, the safety net of the 2-hour rule: any waiting ticket whose ETA misses its deadline and whose
    customer was not told yet (an ETA written by a path that bypassed `eta_changed`) is told now.

    Rows are locked with SKIP LOCKED, so racing workers tell each customer once.
    """
    del settings  # the job signature; nothing configurable here
    with factory() as session:
        tickets = session.scalars(
            select(Ticket)
            .where(
                Ticket.status.in_(WAITING),
                Ticket.eta_at.is_not(None),
                Ticket.eta_at > Ticket.due_on_site_at,
                Ticket.customer_late_notice_at.is_(None),
            )
            .order_by(Ticket.due_on_site_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for ticket in tickets:
            eta_changed(session, ticket, now=now)
        session.commit()
        return len(tickets)
