"""Portal commands and queries. Every query is scoped to the signed-in customer: another customer's id is
simply not found (404), never "forbidden", so ids cannot be probed.

Commands commit once (sign-in request, sign-in, web complaint, preferences); queries never commit.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.core import i18n
from dispatch.core.errors import DomainError, FieldError, NotFound, TooManyRequests, Unprocessable
from dispatch.core.settings import Settings
from dispatch.core.types import Category, Channel, EquipmentType, TicketStatus
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.domain.policy import Policy
from dispatch.notifications import customer as customer_notices
from dispatch.notifications.models import Notification
from dispatch.portal.models import PortalLoginLink, PortalLoginRequest, PortalSession, TicketPhoto
from dispatch.portal.tokens import new_token, token_hash
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import IntakeResult, open_complaint
from dispatch.workforce.models import Technician

MAX_CONTACT_LENGTH = 200
# Statuses after the repair: the confirmation link and the PDF report are offered then.
DONE = frozenset({TicketStatus.resolved, TicketStatus.confirmed, TicketStatus.closed})


class SignInLinkInvalid(DomainError):
    code = "portal-sign-in-link-invalid"
    title = "This sign-in link is not valid"
    status = 410


# ---- signing in --------------------------------------------------------------------------------------------------


def normalise_contact(contact: str) -> str:
    """E-mail in lower case; a phone number as its digits (and a leading +), so '138 0000 0001' matches."""
    contact = contact.strip()[:MAX_CONTACT_LENGTH]
    if "@" in contact:
        return contact.lower()
    return ("+" if contact.startswith("+") else "") + "".join(ch for ch in contact if ch.isdigit())


def contact_hash(settings: Settings, contact: str) -> str:
    """Keyed hash: the request log counts per contact without storing phone numbers or addresses."""
    key = settings.secret_key.get_secret_value().encode()
    return hmac.new(key, b"portal-contact:" + contact.encode(), hashlib.sha256).hexdigest()


def _digits(column: Any) -> Any:
    # Literals, not bound parameters: only then does PostgreSQL match the expression index of migration 0008.
    return func.regexp_replace(column, literal_column("'[^0-9+]'"), literal_column("''"), literal_column("'g'"))


def _customers_for_contact(session: Session, contact: str) -> list[Customer]:
    if "@" in contact:
        by_customer = select(Customer.id).where(func.lower(Customer.email) == contact)
        by_site = select(Site.customer_id).where(func.lower(Site.contact_email) == contact)
    else:
        if len(contact.lstrip("+")) < 5:
            return []
        # Stored numbers carry spaces and dashes as people typed them ("0731-5000001"): compare digits only.
        by_customer = select(Customer.id).where(_digits(Customer.phone) == contact)
        by_site = select(Site.customer_id).where(_digits(Site.contact_phone) == contact)
    ids = set(session.scalars(by_customer)) | set(session.scalars(by_site))
    return list(session.scalars(select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id))) if ids else []


def issue_sign_in_link(
    session: Session,
    *,
    settings: Settings,
    customer_id: int,
    now: datetime,
    minutes: int | None = None,
    base_url: str | None = None,
    contact_hash: str | None = None,
) -> str:
    """A one-time sign-in link for the customer (caller commits); the token is stored only hashed."""
    token = new_token()
    session.add(
        PortalLoginLink(
            customer_id=customer_id,
            token_hash=token_hash(token),
            expires_at=now + timedelta(minutes=minutes or settings.portal_link_minutes),
            contact_hash=contact_hash,
        )
    )
    return f"{(base_url or settings.public_base_url).rstrip('/')}/portal/sign-in/{token}"


def print_sign_in_link(
    session: Session,
    *,
    settings: Settings,
    customer_id: int,
    now: datetime,
    minutes: int | None = None,
    base_url: str | None = None,
) -> str:
    """For support and the demo: a sign-in link for an existing customer; commits."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"Customer {customer_id} does not exist.")
    url = issue_sign_in_link(
        session, settings=settings, customer_id=customer_id, now=now, minutes=minutes, base_url=base_url
    )
    session.commit()
    return url


def request_sign_in(session: Session, *, settings: Settings, contact: str, client_address: str, now: datetime) -> None:
    """Send a sign-in link to a known phone or e-mail; commits.

    The caller answers the same whether or not the contact is known. Limits that hand nobody a lock-out:
    requests are counted per contact *from one client address* and per client address (known contacts or
    not, so the limit itself reveals nothing); over either raises TooManyRequests. A flood for someone else's
    contact from many addresses is not refused, but sends nothing new once a few unused links are out to that
    contact (`portal_links_outstanding_per_contact`): those links still sign its owner in.
    """
    normalised = normalise_contact(contact)
    if not normalised:
        raise Unprocessable("Give a phone number or an e-mail address.", errors=[FieldError("/contact", "required")])
    hashed = contact_hash(settings, normalised)
    address = client_address[:64]
    since = now - timedelta(minutes=settings.portal_link_window_minutes)
    recent = select(func.count()).select_from(PortalLoginRequest).where(PortalLoginRequest.requested_at >= since)
    from_here = recent.where(PortalLoginRequest.client_address == address)
    per_pair = session.scalar(from_here.where(PortalLoginRequest.contact_hash == hashed)) or 0
    per_address = session.scalar(from_here) or 0
    if (
        per_pair >= settings.portal_link_requests_per_contact_and_address
        or per_address >= settings.portal_link_requests_per_address
    ):
        raise TooManyRequests("Too many sign-in requests; try again in a few minutes.")
    session.add(PortalLoginRequest(contact_hash=hashed, client_address=address, requested_at=now))
    channel = "email" if "@" in normalised else "sms"
    for customer in _customers_for_contact(session, normalised):
        if _links_out(session, customer.id, hashed, now) >= settings.portal_links_outstanding_per_contact:
            continue  # enough valid links are on their way to this contact already
        url = issue_sign_in_link(session, settings=settings, customer_id=customer.id, now=now, contact_hash=hashed)
        customer_notices.queue(
            session,
            kind="sign_in",
            now=now,
            recipients={channel: contact.strip() if channel == "email" else normalised},
            channels=[channel],
            locale=i18n.normalize(customer.language) or "zh_CN",
            params={"link": url, "minutes": settings.portal_link_minutes},
            redact_after_delivery=True,
        )
    session.commit()


def _links_out(session: Session, customer_id: int, hashed_contact: str, now: datetime) -> int:
    """Unused, unexpired sign-in links sent to this contact for this customer."""
    return (
        session.scalar(
            select(func.count())
            .select_from(PortalLoginLink)
            .where(
                PortalLoginLink.customer_id == customer_id,
                PortalLoginLink.contact_hash == hashed_contact,
                PortalLoginLink.used_at.is_(None),
                PortalLoginLink.expires_at > now,
            )
        )
        or 0
    )


def redeem_sign_in(session: Session, *, settings: Settings, token: str, now: datetime) -> tuple[Customer, str]:
    """Use a sign-in link once and start a session; commits. Returns the customer and the session's token
    (for the cookie). Unknown, used and expired links are all simply 'not valid'."""
    if not token or len(token) > 64:
        raise SignInLinkInvalid("This sign-in link is not valid.")
    link = session.scalar(
        select(PortalLoginLink).where(PortalLoginLink.token_hash == token_hash(token)).with_for_update()
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise SignInLinkInvalid("This sign-in link is not valid any more. Ask for a new one.")
    link.used_at = now
    customer = session.get(Customer, link.customer_id)
    assert customer is not None
    session_token = new_token()
    session.add(
        PortalSession(
            customer_id=customer.id,
            token_hash=token_hash(session_token),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.portal_session_minutes),
        )
    )
    # Sessions past their end are of no use to anyone: they go as new ones start.
    session.execute(delete(PortalSession).where(PortalSession.expires_at < now - timedelta(days=1)))
    session.commit()
    return customer, session_token


def customer_of_session(session: Session, session_token: str | None, now: datetime) -> Customer | None:
    """The customer signed in with this cookie: one query, by the token's hash; None when it is unknown,
    signed out, ended or expired."""
    if not session_token or len(session_token) > 64:
        return None
    return session.scalar(
        select(Customer)
        .join(PortalSession, PortalSession.customer_id == Customer.id)
        .where(
            PortalSession.token_hash == token_hash(session_token),
            PortalSession.revoked_at.is_(None),
            PortalSession.expires_at > now,
        )
    )


def end_session(session: Session, session_token: str | None, now: datetime) -> None:
    """Sign out: the cookie's session is revoked on the server (a replayed cookie signs in no more); commits."""
    if session_token and len(session_token) <= 64:
        session.execute(
            update(PortalSession)
            .where(PortalSession.token_hash == token_hash(session_token), PortalSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    session.commit()


def end_customer_sessions(session: Session, *, customer_id: int, now: datetime) -> int:
    """Sign a customer out on every browser (support: a contact left the company); commits. How many ended."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"Customer {customer_id} does not exist.")
    ended = session.execute(
        update(PortalSession)
        .where(
            PortalSession.customer_id == customer_id,
            PortalSession.revoked_at.is_(None),
            PortalSession.expires_at > now,
        )
        .values(revoked_at=now)
    ).rowcount
    session.commit()
    return int(ended or 0)


def check_sign_in_link(session: Session, *, token: str, now: datetime) -> bool:
    if not token or len(token) > 64:
        return False
    link = session.scalar(select(PortalLoginLink).where(PortalLoginLink.token_hash == token_hash(token)))
    return link is not None and link.used_at is None and link.expires_at > now


# ---- what the customer owns ---------------------------------------------------------------------------------------


def customer_sites(session: Session, customer_id: int) -> list[Site]:
    return list(session.scalars(select(Site).where(Site.customer_id == customer_id).order_by(Site.name, Site.id)))


def customer_equipment(session: Session, customer_id: int) -> list[tuple[Equipment, Site]]:
    rows = session.execute(
        select(Equipment, Site)
        .join(Site, Site.id == Equipment.site_id)
        .where(Site.customer_id == customer_id)
        .order_by(Site.name, Equipment.model, Equipment.serial_number)
    ).all()
    return [(e, s) for e, s in rows]


def _owned_tickets(customer_id: int) -> ColumnElement[bool]:
    own_sites = select(Site.id).where(Site.customer_id == customer_id)
    return or_(Ticket.customer_id == customer_id, Ticket.site_id.in_(own_sites))


def customer_tickets(session: Session, customer_id: int, *, limit: int = 100) -> list[Ticket]:
    return list(
        session.scalars(
            select(Ticket).where(_owned_tickets(customer_id)).order_by(Ticket.reported_at.desc()).limit(limit)
        )
    )


def ticket_for_customer(session: Session, customer_id: int, ticket_id: int) -> Ticket:
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id, _owned_tickets(customer_id)))
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.")
    return ticket


def photo_for_customer(session: Session, customer_id: int, ticket_id: int, photo_id: str) -> TicketPhoto:
    ticket_for_customer(session, customer_id, ticket_id)
    photo = session.scalar(select(TicketPhoto).where(TicketPhoto.id == photo_id, TicketPhoto.ticket_id == ticket_id))
    if photo is None:
        raise NotFound("Photo not found.")
    return photo


def inbox(session: Session, customer_id: int, *, limit: int = 10) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(
                Notification.channel == "in_app",
                Notification.audience == customer_notices.AUDIENCE,
                Notification.recipient == customer_notices.customer_recipient(customer_id),
            )
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


# ---- the ticket as the customer sees it ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketView:
    ticket: Ticket
    site: Site | None
    equipment: Equipment | None
    technician: str | None
    timeline: list[tuple[datetime, str]]

    @property
    def tz(self) -> str:
        return self.site.timezone if self.site else "UTC"

    @property
    def done(self) -> bool:
        return self.ticket.status in DONE

    @property
    def late(self) -> bool:
        eta = self.ticket.eta_at
        return eta is not None and eta > self.ticket.due_on_site_at and self.ticket.on_site_at is None


def ticket_view(session: Session, ticket: Ticket) -> TicketView:
    site = session.get(Site, ticket.site_id) if ticket.site_id else None
    unit = session.get(Equipment, ticket.equipment_id) if ticket.equipment_id else None
    tech = session.get(Technician, ticket.assigned_technician_id) if ticket.assigned_technician_id else None
    rows = session.execute(
        select(AuditEntry.at, AuditEntry.from_status, AuditEntry.to_status)
        .where(AuditEntry.ticket_id == ticket.id)
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    # The customer's timeline is the status changes, not every internal event (regrades, escalations …).
    timeline = [(at, to) for at, frm, to in rows if frm != to]
    return TicketView(ticket, site, unit, tech.name if tech else None, timeline)


def status_json(view: TicketView, locale: str) -> dict[str, Any]:
    """The small live document the ticket page polls: this ticket's status and times only."""
    t = view.ticket
    fmt = i18n.format_datetime
    return {
        "ticket_id": t.id,
        "status": t.status.value,
        "status_label": status_label(t.status.value, locale),
        "technician": view.technician,
        "eta": t.eta_at.isoformat() if t.eta_at else None,
        "eta_text": fmt(t.eta_at, locale, view.tz, "short") if t.eta_at else None,
        "deadline": t.due_on_site_at.isoformat(),
        "deadline_text": fmt(t.due_on_site_at, locale, view.tz, "short"),
        "late": view.late,
        "done": view.done,
        "timeline": [
            {"at": fmt(at, locale, view.tz, "short"), "status": status_label(s, locale)} for at, s in view.timeline
        ],
    }


def status_label(status: str, locale: str) -> str:
    labels = {
        "new": i18n.gettext("portal.status.new", locale),
        "assigned": i18n.gettext("portal.status.assigned", locale),
        "accepted": i18n.gettext("portal.status.accepted", locale),
        "en_route": i18n.gettext("portal.status.en_route", locale),
        "on_site": i18n.gettext("portal.status.on_site", locale),
        "resolved": i18n.gettext("portal.status.resolved", locale),
        "confirmed": i18n.gettext("portal.status.confirmed", locale),
        "closed": i18n.gettext("portal.status.closed", locale),
        "reopened": i18n.gettext("portal.status.reopened", locale),
        "cancelled": i18n.gettext("portal.status.cancelled", locale),
        "invalid": i18n.gettext("portal.status.invalid", locale),
    }
    return labels.get(status, status)


def grade_label(grade: str, locale: str) -> str:
    labels = {
        "major": i18n.gettext("portal.grade.major", locale),
        "serious": i18n.gettext("portal.grade.serious", locale),
        "general": i18n.gettext("portal.grade.general", locale),
    }
    return labels.get(grade, grade)


# ---- web complaint and preferences ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebComplaint:
    """A customer's web complaint: one of their machines, or one not registered yet (serial, model, type, manufacture
    date, and where it stands: one of their sites, or an address the office turns into a site)."""

    equipment_id: int | None
    category: Category
    symptom: str
    location_detail: str | None
    working_condition: str | None
    impact: Impact
    special_request: str | None
    serial_number: str | None = None
    model: str | None = None
    equipment_type: EquipmentType | None = None
    manufacture_date: date | None = None
    site_id: int | None = None
    site_address: str | None = None


def submit_complaint(
    session: Session,
    *,
    customer: Customer,
    complaint: WebComplaint,
    photos: list[tuple[str, str, bytes]],
    store: Any,
    policy: Policy,
    settings: Settings,
    now: datetime,
) -> IntakeResult:
    """The same intake as a phone call (channel "web"); photos are stored first and recorded with the ticket.

    `photos` are (id, content type, bytes) already checked by the caller; `store` is the photo store.
    """
    units = customer_equipment(session, customer.id)
    owned = {e.id for e, _s in units}
    equipment_id = complaint.equipment_id
    site_id = None
    location_detail = complaint.location_detail
    if equipment_id is None:
        # A machine not in the list: the customer's own registered one by its serial, else recorded as reported.
        serial = (complaint.serial_number or "").strip()
        if not serial:
            raise Unprocessable("Choose a machine or give its serial number.", errors=[FieldError("/equipment_id", "")])
        registered = session.scalar(select(Equipment).where(func.upper(Equipment.serial_number) == serial.upper()))
        if registered is not None and registered.id not in owned:
            # Someone else's machine: never attach to (or tell about) another customer's ticket.
            raise Unprocessable("Choose one of your machines.", errors=[FieldError("/serial_number", "not yours")])
        if registered is not None:
            equipment_id = registered.id
        elif complaint.site_id is not None:
            own_sites = set(session.scalars(select(Site.id).where(Site.customer_id == customer.id)))
            if complaint.site_id not in own_sites:
                raise Unprocessable("Choose one of your sites.", errors=[FieldError("/site_id", "not your site")])
            site_id = complaint.site_id
        elif complaint.site_address:
            # No site yet: the address travels with the ticket; the office records the site so it can be planned.
            location_detail = "; ".join(x for x in (complaint.site_address, location_detail) if x)
    elif equipment_id not in owned:
        raise Unprocessable("Choose one of your machines.", errors=[FieldError("/equipment_id", "not your equipment")])
    keys = []
    for photo_id, content_type, data in photos:
        key = f"customer-photos/{photo_id[:2]}/{photo_id}"
        store.put(key, data, content_type)
        keys.append(key)
    try:
        result = open_complaint(
            session,
            policy=policy,
            now=now,
            actor=f"customer:{customer.id}",
            actor_user_id=None,
            channel=Channel.web,
            category=complaint.category,
            symptom=complaint.symptom,
            impact=complaint.impact,
            customer_id=customer.id,
            equipment_id=equipment_id,
            serial_number=complaint.serial_number if equipment_id is None else None,
            model=complaint.model if equipment_id is None else None,
            equipment_type=complaint.equipment_type if equipment_id is None else None,
            manufacture_date=complaint.manufacture_date,
            site_id=site_id,
            reporter_name=customer.name,
            reporter_phone=customer.phone,
            location_detail=location_detail,
            working_condition=complaint.working_condition,
            special_request=complaint.special_request,
            public_base_url=settings.public_base_url,
            commit=False,
        )
        for (photo_id, content_type, data), key in zip(photos, keys, strict=True):
            session.add(
                TicketPhoto(
                    id=photo_id,
                    ticket_id=result.ticket.id,
                    customer_id=customer.id,
                    content_type=content_type,
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    storage_key=key,
                )
            )
        session.commit()
    except Exception:
        session.rollback()
        for key in keys:
            store.delete(key)
        raise
    return result


def save_preferences(session: Session, *, customer_id: int, channels: list[str], language: str) -> Customer:
    """The customer's notice channels and language (used for every later notice); commits."""
    customer = session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())
    if customer is None:
        raise NotFound("Customer not found.")
    chosen = [c for c in customer_notices.CHANNELS if c in channels]
    if not chosen:
        raise Unprocessable("Choose at least one way to reach you.", errors=[FieldError("/channels", "empty")])
    locale = i18n.normalize(language)
    if locale is None:
        raise Unprocessable("Unknown language.", errors=[FieldError("/language", "not offered")])
    customer.notice_channels = chosen
    customer.language = i18n.tag(locale)
    session.commit()
    return customer
