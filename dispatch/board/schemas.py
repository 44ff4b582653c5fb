"""Response shapes of the board's read models (the queue item follows issue 4's TicketOut contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dispatch.core.types import Category, Channel, DepotKind, Grade, Nature, TicketStatus, VisitStatus
from dispatch.tickets.schemas import NextClockOut


class Ref(BaseModel):
    id: int
    name: str


class SiteRef(BaseModel):
    id: int
    name: str
    region: str | None
    lat: float
    lon: float
    address: str | None


class EquipmentRef(BaseModel):
    id: int
    equipment_type: str
    model: str
    serial_number: str


class QueueItem(BaseModel):
    id: int
    status: TicketStatus
    grade: Grade
    grade_reasons: list[dict[str, Any]]
    category: Category
    nature: Nature
    channel: Channel
    symptom: str
    customer: Ref | None
    site: SiteRef | None
    equipment: EquipmentRef | None
    reported_at: datetime
    due_on_site_at: datetime
    deadlines: dict[str, Any]
    next_clock: NextClockOut | None = Field(description="The earliest clock still to meet (as GET /tickets says)")
    at_risk: bool
    eta: datetime | None
    technician: Ref | None
    alarm_count: int
    related_ticket_id: int | None


class QueuePage(BaseModel):
    items: list[QueueItem]
    total: int
    limit: int
    offset: int
    counts: dict[str, int]
    now: datetime


class GroupPage(BaseModel):
    items: list[QueueItem]
    total: int
    limit: int
    offset: int


class QueueGroups(BaseModel):
    groups: dict[str, GroupPage]
    counts: dict[str, int]
    now: datetime


class Block(BaseModel):
    visit_id: int
    ticket_id: int
    grade: Grade
    status: VisitStatus
    site_name: str | None
    pinned: bool
    travel_from: datetime | None
    reasons: list[str] = []
    start: datetime | None
    end: datetime | None
    eta: datetime | None
    due_at: datetime
    late: bool
    in_progress: bool


class ShiftBlock(BaseModel):
    start: datetime
    end: datetime
    on_call: bool


class HomeBlock(BaseModel):
    """The drive home after a shift's last visit (the live plan's route end)."""

    start: datetime
    end: datetime
    kind: str  # home / service centre / partner point


class GanttRow(BaseModel):
    technician: Ref
    skills: list[str]
    depot_id: int
    shifts: list[ShiftBlock]
    visits: list[Block]
    home: list[HomeBlock] = []


class SideItem(BaseModel):
    ticket_id: int
    visit_id: int | None
    grade: Grade
    site_name: str | None
    due_at: datetime
    reason: str


class Schedule(BaseModel):
    start: datetime
    end: datetime
    rows: list[GanttRow]
    total_technicians: int
    limit: int
    offset: int
    unassigned: list[SideItem]
    late: list[SideItem]
    source: str


class MapSite(BaseModel):
    site_id: int
    name: str
    lat: float
    lon: float
    grade: Grade
    tickets: int
    ticket_ids: list[int]


class MapTechnician(BaseModel):
    id: int
    name: str
    lat: float
    lon: float
    at: datetime | None
    route: list[list[float]]
    route_on_roads: bool = False  # the route's line follows imported roads (otherwise straight legs)


class MapDepot(BaseModel):
    id: int
    name: str
    kind: DepotKind
    lat: float
    lon: float


class MapData(BaseModel):
    sites: list[MapSite]
    technicians: list[MapTechnician]
    depots: list[MapDepot]
    truncated: bool


class BoardConfig(BaseModel):
    tile_url: str
    tile_attribution: str
    events_url: str
    timezone: str
    user: Ref
    role: str
    locale: str | None = None
    default_locale: str = "en"
    effective_locale: str = "en"
