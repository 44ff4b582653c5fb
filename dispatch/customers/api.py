"""The registry's HTTP surface for intake: search, register a customer, site or machine, record a ticket's site."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from dispatch.core.auth import AppSettings, Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import AppPolicy, DbId, Now, RequestLocale
from dispatch.core.i18n import tag
from dispatch.core.types import Role
from dispatch.customers import service
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
from dispatch.tickets.schemas import TicketOut
from dispatch.tickets.views import ticket_views

router = APIRouter(tags=["registry"])
Intake = Annotated[Principal, require_roles(Role.agent, Role.dispatcher)]
OfficeStaff = Annotated[Principal, require_roles(Role.agent, Role.dispatcher, Role.manager)]


@router.get("/registry/search", response_model=RegistrySearch, summary="Find a machine, customer or site")
def search_registry(
    session: DbSession,
    _who: OfficeStaff,
    q: Annotated[
        str,
        Query(
            min_length=2,
            max_length=100,
            description="Serial number, model, customer name or phone; site name, address or contact phone",
            examples=["ZJ5510", "138 0000 0001", "Riverside"],
        ),
    ],
    limit: Annotated[int, Query(ge=1, le=50, description="Per kind")] = 10,
) -> RegistrySearch:
    """What the caller may mean, in three lists: machines (with their site, owner and the open ticket a complaint
    would join), customers and sites. Phone numbers match by their digits, whatever the spaces and dashes."""
    return service.search(session, q=q, limit=limit)


@router.post("/customers", response_model=CustomerOut, status_code=201, summary="Register a customer")
def create_customer(body: CustomerIn, session: DbSession, _who: Intake, settings: AppSettings) -> CustomerOut:
    """A new customer (name, phone, e-mail, language) taken on the call; their language defaults to the site's."""
    return service.register_customer(session, body=body, default_language=tag(settings.default_locale))


@router.post("/sites", response_model=SiteOut, status_code=201, summary="Register a site on the call")
def create_site(body: SiteIn, session: DbSession, _who: Intake, settings: AppSettings, policy: AppPolicy) -> SiteOut:
    """Address, position (picked on the map or typed coordinates), access hours in site-local time and a contact;
    the owner is an existing customer or a new one given here. The time zone defaults to the policy's."""
    return service.register_site(
        session,
        body=body,
        default_timezone=policy.calendar.timezone,
        default_language=tag(settings.default_locale),
    )


@router.post("/equipment", response_model=EquipmentOut, status_code=201, summary="Register a machine on the call")
def create_equipment(body: EquipmentIn, session: DbSession, _who: Intake) -> EquipmentOut:
    """Type, model, serial number and manufacture date at a registered site; 409 when the serial is registered."""
    return service.register_equipment(session, body=body)


@router.put("/tickets/{ticket_id}/site", response_model=TicketOut, summary="Record where the ticket's machine is")
def record_ticket_site(
    ticket_id: DbId,
    body: TicketSiteIn,
    session: DbSession,
    now: Now,
    who: Intake,
    policy: AppPolicy,
    locale: RequestLocale,
) -> TicketOut:
    """For a ticket opened with an unknown serial (no site, so it cannot be planned): the site (and the registered
    machine, if known) is recorded on the ticket, the owner follows from the site, and the planner plans it."""
    ticket = service.record_ticket_site(
        session, ticket_id=ticket_id, body=body, actor=who.actor, actor_user_id=who.user_id, now=now
    )
    return ticket_views(session, [ticket], now, locale=locale, policy=policy)[0]
