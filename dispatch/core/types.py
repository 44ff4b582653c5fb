"""Vocabulary shared by models and schemas: the domain's words as string enums (stored as checked VARCHAR)."""

from enum import StrEnum

from geoalchemy2 import Geography
from sqlalchemy import Enum as SAEnum

# A complaint's grade and category are domain words: defined once, in the pure policy module, and named here
# for the models and schemas that store and show them.
from dispatch.domain.policy import Category, Grade

__all__ = [
    "OPEN_TICKET_STATUSES",
    "Category",
    "Channel",
    "DepotKind",
    "EquipmentType",
    "Grade",
    "Nature",
    "Role",
    "TicketStatus",
    "VisitStatus",
    "enum_column_type",
    "point_type",
    "polygon_type",
]


class Role(StrEnum):
    admin = "admin"
    agent = "agent"
    dispatcher = "dispatcher"
    technician = "technician"
    manager = "manager"


class EquipmentType(StrEnum):
    tower_crane = "tower_crane"
    construction_hoist = "construction_hoist"
    elevator = "elevator"
    base_station = "base_station"
    facility = "facility"


class Channel(StrEnum):
    phone = "phone"
    web = "web"
    app = "app"
    device = "device"


class Nature(StrEnum):
    effective = "effective"
    communication = "communication"
    invalid = "invalid"


class TicketStatus(StrEnum):
    new = "new"
    assigned = "assigned"
    accepted = "accepted"
    en_route = "en_route"
    on_site = "on_site"
    resolved = "resolved"
    confirmed = "confirmed"
    closed = "closed"
    reopened = "reopened"
    cancelled = "cancelled"
    invalid = "invalid"


OPEN_TICKET_STATUSES = frozenset(
    {
        TicketStatus.new,
        TicketStatus.assigned,
        TicketStatus.accepted,
        TicketStatus.en_route,
        TicketStatus.on_site,
        TicketStatus.reopened,
    }
)

#: A ticket in one of these is finished: no clock is pending and no escalation needs a person.
FINISHED_TICKET_STATUSES = frozenset({TicketStatus.closed, TicketStatus.cancelled, TicketStatus.invalid})


class VisitStatus(StrEnum):
    planned = "planned"
    assigned = "assigned"
    accepted = "accepted"
    en_route = "en_route"
    on_site = "on_site"
    paused = "paused"
    completed = "completed"
    declined = "declined"
    cancelled = "cancelled"
    reassigned = "reassigned"


class DepotKind(StrEnum):
    service_centre = "service_centre"
    partner_point = "partner_point"


def enum_column_type(enum: type[StrEnum], name: str) -> SAEnum:
    """A VARCHAR with a CHECK constraint: adding a value is a plain migration, unlike native PG enums."""
    return SAEnum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def point_type() -> Geography:
    return Geography(geometry_type="POINT", srid=4326, spatial_index=True)


def polygon_type() -> Geography:
    return Geography(geometry_type="POLYGON", srid=4326, spatial_index=True)
