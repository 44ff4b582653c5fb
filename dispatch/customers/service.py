"""The registry at intake: find the machine, customer or site the caller means; register what is new on the call;
record the site of a ticket opened for a machine the registry did not know, so that it can be planned.

Queries never commit; each register command commits once (the ticket's change with its audit row).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dispatch.audit.service import record_event
from dispatch.core.errors import Conflict, FieldError, NotFound, Unprocessable
from dispatch.core.geo import latlon
from dispatch.core.types import OPEN_TICKET_STATUSES
from dispatch.customers.models import Customer, Equipment, Site
from dispatch.customers.schemas import (
    CustomerIn,
    CustomerOut,
    EquipmentIn,
    EquipmentOut,
    RegistrySearch,
    SiteIn,
    SiteOut,
    TicketSiteIn,
)
from dispatch.plans.requests import request_replan
from dispatch.tickets.models import Ticket

MIN_PHONE_DIGITS = 3


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _digits(text: str) -> str | None:
    digits = re.sub(r"[^0-9]", "", text)
    return digits if len(digits) >= MIN_PHONE_DIGITS and len(digits) >= len(text.strip()) // 2 else None


def _phone_digits(column: Any) -> Any:
    """SQL: the digits of a phone number column (a column or a column expression; compares like one)."""
    return func.regexp_replace(column, "[^0-9]", "", "g")


def site_out(site: Site, customer: Customer) -> SiteOut:
    point = latlon(site.location) or {"lat": 0.0, "lon": 0.0}
    return SiteOut(
        id=site.id,
        customer_id=customer.id,
        customer_name=customer.name,
        name=site.name,
        address=site.address,
        region=site.region,
        lat=point["lat"],
        lon=point["lon"],
        timezone=site.timezone,
        access_hours=site.access_hours or {},
        contact_name=site.contact_name,
        contact_phone=site.contact_phone,
        contact_email=site.contact_email,
    )


def _equipment_out(unit: Equipment, site: Site, customer: Customer, open_ticket_id: int | None) -> EquipmentOut:
    return EquipmentOut(
        id=unit.id,
        equipment_type=unit.equipment_type,
        model=unit.model,
        serial_number=unit.serial_number,
        manufacture_date=unit.manufacture_date,
        device_id=unit.device_id,
        site_id=site.id,
        site_name=site.name,
        site_address=site.address,
        customer_id=customer.id,
        customer_name=customer.name,
        customer_phone=customer.phone,
        open_ticket_id=open_ticket_id,
    )


def search(session: Session, *, q: str, limit: int) -> RegistrySearch:
    """Machines by serial number, model, owner's name or phone; customers by name or phone; sites by name, address
    or contact phone. Case-insensitive substrings; phone numbers match by their digits whatever the punctuation."""
    text = q.strip()
    like = _like(text)
    digits = _digits(text)

    unit_match = [
        Equipment.serial_number.ilike(like, escape="\\"),
        Equipment.model.ilike(like, escape="\\"),
        Customer.name.ilike(like, escape="\\"),
    ]
    customer_match = [Customer.name.ilike(like, escape="\\")]
    site_match = [Site.name.ilike(like, escape="\\"), Site.address.ilike(like, escape="\\")]
    if digits:
        unit_match.append(_phone_digits(Customer.phone).contains(digits))
        unit_match.append(_phone_digits(Site.contact_phone).contains(digits))
        customer_match.append(_phone_digits(Customer.phone).contains(digits))
        site_match.append(_phone_digits(Site.contact_phone).contains(digits))
    # An exact serial first, then the rest by serial.
    exact = func.upper(Equipment.serial_number) == text.upper()
    units = session.execute(
        select(Equipment, Site, Customer)
        .join(Site, Site.id == Equipment.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .where(or_(*unit_match))
        .order_by(exact.desc(), Equipment.serial_number)
        .limit(limit)
    ).all()
    open_tickets: dict[int, int] = {}
    if units:
        for ticket_id, equipment_id in session.execute(
            select(func.min(Ticket.id), Ticket.equipment_id)
            .where(Ticket.equipment_id.in_([u.id for u, _s, _c in units]), Ticket.status.in_(OPEN_TICKET_STATUSES))
            .group_by(Ticket.equipment_id)
        ):
            open_tickets[equipment_id] = ticket_id
    sites_count = (
        select(func.count(Site.id)).where(Site.customer_id == Customer.id).correlate(Customer).scalar_subquery()
    )
    customers = session.execute(
        select(Customer, sites_count).where(or_(*customer_match)).order_by(Customer.name, Customer.id).limit(limit)
    ).all()
    sites = session.execute(
        select(Site, Customer)
        .join(Customer, Customer.id == Site.customer_id)
        .where(or_(*site_match, Customer.name.ilike(like, escape="\\")))
        .order_by(Site.name, Site.id)
        .limit(limit)
    ).all()
    return RegistrySearch(
        q=text,
        equipment=[_equipment_out(u, s, c, open_tickets.get(u.id)) for u, s, c in units],
        customers=[
            CustomerOut(id=c.id, name=c.name, phone=c.phone, email=c.email, site_count=n or 0) for c, n in customers
        ],
        sites=[site_out(s, c) for s, c in sites],
    )


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise Unprocessable(
            f"Customer {customer_id} does not exist.",
            errors=[FieldError("/customer_id", "no such customer", key="field.no-such-customer")],
            key="error.customer.not-found",
            params={"customer_id": customer_id},
        )
    return customer


def register_customer(session: Session, *, body: CustomerIn, default_language: str) -> CustomerOut:
    customer = Customer(name=body.name, phone=body.phone, email=body.email, language=body.language or default_language)
    session.add(customer)
    session.commit()
    return CustomerOut(id=customer.id, name=customer.name, phone=customer.phone, email=customer.email)


def register_site(session: Session, *, body: SiteIn, default_timezone: str, default_language: str) -> SiteOut:
    """A new site (and, when asked, its new owner) in one transaction."""
    if body.customer_id is not None:
        customer = _customer(session, body.customer_id)
    else:
        assert body.customer is not None
        customer = Customer(
            name=body.customer.name,
            phone=body.customer.phone,
            email=body.customer.email,
            language=body.customer.language or default_language,
        )
        session.add(customer)
        session.flush()
    site = Site(
        customer_id=customer.id,
        name=body.name,
        address=body.address,
        region=body.region,
        location=f"SRID=4326;POINT({body.position.lon} {body.position.lat})",
        timezone=body.timezone or default_timezone,
        access_hours=body.access_hours,
        contact_name=body.contact_name,
        contact_phone=body.contact_phone,
        contact_email=body.contact_email,
    )
    session.add(site)
    session.commit()
    session.refresh(site)
    return site_out(site, customer)


def register_equipment(session: Session, *, body: EquipmentIn) -> EquipmentOut:
    """A new machine at a registered site; a serial number (or device id) already registered is 409."""
    site = session.get(Site, body.site_id)
    if site is None:
        raise Unprocessable(
            f"Site {body.site_id} does not exist.",
            errors=[FieldError("/site_id", "no such site", key="field.no-such-site")],
            key="error.site.not-found",
            params={"site_id": body.site_id},
        )
    taken = session.scalar(
        select(Equipment.id).where(func.upper(Equipment.serial_number) == body.serial_number.upper())
    )
    if taken is not None:
        raise Conflict(
            f"Serial number {body.serial_number} is already registered (equipment {taken}).",
            key="error.equipment.serial-taken",
            params={"serial": body.serial_number, "equipment_id": taken},
        )
    unit = Equipment(
        site_id=site.id,
        equipment_type=body.equipment_type,
        model=body.model,
        serial_number=body.serial_number,
        manufacture_date=body.manufacture_date,
        device_id=body.device_id or None,
    )
    session.add(unit)
    try:
        session.flush()
    except IntegrityError as exc:  # a device id already in use (or a racing registration of the same serial)
        session.rollback()
        raise Conflict(
            "This serial number or device id is already registered.",
            key="error.equipment.duplicate",
        ) from exc
    customer = session.get(Customer, site.customer_id)
    assert customer is not None
    session.commit()
    return _equipment_out(unit, site, customer, None)


def record_ticket_site(
    session: Session, *, ticket_id: int, body: TicketSiteIn, actor: str, actor_user_id: int, now: datetime
) -> Ticket:
    """Say where the ticket's machine stands (and which registered machine it is): the owner follows from the site
    when the ticket has none, the change is audited, and the planner is asked to plan it."""
    ticket = session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    if ticket is None:
        raise NotFound(
            f"Ticket {ticket_id} does not exist.", key="error.ticket.not-found", params={"ticket_id": ticket_id}
        )
    if ticket.status not in OPEN_TICKET_STATUSES:
        raise Conflict(
            f"Ticket {ticket_id} is {ticket.status.value}; only an open ticket's site can be recorded.",
            key="error.ticket.not-open",
            params={"ticket_id": ticket_id, "state": ticket.status.value},
        )
    site = session.get(Site, body.site_id)
    if site is None:
        raise Unprocessable(
            f"Site {body.site_id} does not exist.",
            errors=[FieldError("/site_id", "no such site", key="field.no-such-site")],
            key="error.site.not-found",
            params={"site_id": body.site_id},
        )
    unit = None
    if body.equipment_id is not None:
        unit = session.get(Equipment, body.equipment_id)
        if unit is None:
            raise Unprocessable(
                f"Equipment {body.equipment_id} does not exist.",
                errors=[FieldError("/equipment_id", "no such equipment", key="field.no-such-equipment")],
                key="error.equipment.not-found",
                params={"equipment_id": body.equipment_id},
            )
        if unit.site_id != site.id:
            raise Unprocessable(
                f"Equipment {unit.id} stands at site {unit.site_id}, not at site {site.id}.",
                errors=[FieldError("/equipment_id", "not at this site", key="field.equipment-not-at-site")],
                key="error.equipment.other-site",
                params={"equipment_id": unit.id, "site_id": site.id},
            )
    before = {"site_id": ticket.site_id, "equipment_id": ticket.equipment_id, "customer_id": ticket.customer_id}
    ticket.site_id = site.id
    if ticket.customer_id is None:
        ticket.customer_id = site.customer_id
    if unit is not None:
        ticket.equipment_id = unit.id
        ticket.reported_serial = ticket.reported_model = None
        ticket.reported_equipment_type = None
        ticket.reported_manufacture_date = None
    record_event(
        session,
        ticket,
        action="site_recorded",
        actor=actor,
        actor_user_id=actor_user_id,
        at=now,
        reason=f"{site.name}, {site.address}",
        data={
            "from": before,
            "to": {"site_id": site.id, "equipment_id": ticket.equipment_id, "customer_id": ticket.customer_id},
        },
    )
    request_replan(session, reason="site recorded", ticket_id=ticket.id)
    session.commit()
    return ticket
