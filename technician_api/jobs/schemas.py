"""What the technician app sends and receives (small payloads: a phone on a poor signal reads them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.core.timestamps import Timestamp

EventKind = Literal[
    "accept",
    "decline",
    "en_route",
    "arrived",
    "paused",
    "resumed",
    "completed",
    "cannot_meet_time",
    "position",
    "signature_refused",
]

#: What each kind must carry; checked before anything is applied.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "decline": ("reason",),
    "en_route": ("position",),
    "arrived": ("position",),
    "paused": ("reason",),
    "completed": ("report",),
    "cannot_meet_time": ("new_eta",),
    "position": ("position",),
    "signature_refused": ("reason",),
}


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Position(_In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class PartUsed(_In):
    part_id: int = Field(gt=0)
    quantity: float = Field(gt=0, le=10_000)


class WorkReportIn(_In):
    """The work report the technician files with `completed`."""

    cause_found: str = Field(min_length=1, max_length=4000)
    work_done: str = Field(min_length=1, max_length=4000)
    parts_used: list[PartUsed] = Field(default_factory=list, max_length=50)
    minutes_spent: int = Field(ge=0, le=7 * 24 * 60)
    follow_up_needed: bool = False
    follow_up_note: str | None = Field(default=None, max_length=2000)
    photo_ids: list[str] = Field(default_factory=list, max_length=30)


class JobEventIn(_In):
    """One technician event. `device_at` is when it happened on the phone (defaults to receipt)."""

    kind: EventKind
    device_at: Timestamp | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=1000)
    position: Position | None = None
    new_eta: Timestamp | None = None
    report: WorkReportIn | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> JobEventIn:
        missing = [f for f in REQUIRED_FIELDS.get(self.kind, ()) if getattr(self, f) is None]
        if missing:
            raise ValueError(f"'{self.kind}' needs: {', '.join(missing)}")
        return self


class ArrivalOut(BaseModel):
    at: datetime
    source: Literal["device", "server"]
    reason: str | None = None
    distance_m: float | None = None
    outside_geofence: bool
    radius_m: float


class ConfirmationLinkOut(BaseModel):
    url: str
    expires_at: datetime
    qr_svg: str = Field(description="SVG of a QR code for the link, to show on the technician's screen")


class EventResult(BaseModel):
    job_id: int
    kind: str
    job_status: str
    ticket_status: str
    applied_at: datetime
    allowed_actions: list[str]
    # The codes above in words, in the reader's language (their setting, else Accept-Language).
    job_status_text: str = ""
    ticket_status_text: str = ""
    action_texts: dict[str, str] = Field(default_factory=dict)
    arrival: ArrivalOut | None = None
    confirmation: ConfirmationLinkOut | None = None
    notice_due_at: datetime | None = None


class SiteOut(BaseModel):
    id: int
    name: str
    address: str
    lat: float
    lon: float
    timezone: str
    access_hours: dict[str, Any]


class ContactOut(BaseModel):
    name: str | None
    phone: str | None


class PastTicketOut(BaseModel):
    id: int
    reported_at: datetime
    grade: str
    status: str
    symptom: str
    resolved_at: datetime | None


class AlarmOut(BaseModel):
    id: int
    code: str
    severity: str
    message: str | None
    device_at: datetime | None
    received_at: datetime


class EquipmentOut(BaseModel):
    id: int
    equipment_type: str
    model: str
    serial_number: str
    manufacture_date: Any | None
    history: list[PastTicketOut]
    open_alarms: list[AlarmOut]


class JobOut(BaseModel):
    """A visit as the technician sees it: where, when, what, who to call, what happened before."""

    id: int
    ticket_id: int
    status: str
    ticket_status: str
    grade: str
    # The codes in words, in the reader's language; `action_texts` names every action the app may offer.
    status_text: str
    ticket_status_text: str
    grade_text: str
    action_texts: dict[str, str]
    sequence: int | None
    eta: datetime | None
    planned_start_at: datetime | None
    planned_end_at: datetime | None
    due_on_site_at: datetime
    symptom: str
    working_condition: str | None
    special_request: str | None
    # The rest of the intake's four answers: where on the machine, the impact facts, what the caller read off
    # the nameplate (when the equipment is not registered), and the customer's own photos from the portal.
    location_detail: str | None = None
    impact: dict[str, Any] = Field(default_factory=dict)
    reported_model: str | None = None
    reported_serial: str | None = None
    customer_photos: list[str] = Field(default_factory=list, description="URLs, for the job's technician only")
    site: SiteOut | None
    contact: ContactOut
    equipment: EquipmentOut | None
    arrival_outside_geofence: bool
    arrival_distance_m: float | None
    allowed_actions: list[str]


class JobPage(BaseModel):
    items: list[JobOut]
    total: int
    limit: int
    offset: int


class PartOut(BaseModel):
    id: int
    code: str
    name: str
    unit: str
    equipment_type: str | None


class PhotoOut(BaseModel):
    id: str
    job_id: int
    content_type: str
    size_bytes: int
    url: str
    taken_at: datetime | None = Field(default=None, description="The phone's time of the picture, when sent")
