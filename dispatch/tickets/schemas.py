"""The complaint intake and ticket views as the API speaks them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.core.timestamps import Timestamp
from dispatch.core.types import Category, Channel, EquipmentType, Grade, Nature, TicketStatus
from dispatch.domain import impact

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerRef(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=40, pattern=r"^[0-9+() -]+$")


class EquipmentRef(BaseModel):
    """Intake question 1, what has the problem: model, serial number, manufacture date (and, for a machine the
    registry does not know yet, its type, so the grading rules and the skill match can use it)."""

    model_config = _STRICT
    serial_number: str = Field(min_length=1, max_length=100)
    model: str | None = Field(default=None, max_length=100)
    manufacture_date: date | None = Field(default=None, description="When it left the factory")
    equipment_type: EquipmentType | None = Field(default=None, description="For a machine not in the registry")


class Impact(impact.Impact):
    """Question 3, how big the impact is: the six facts the grading rules read, and the caller's own words."""

    model_config = _STRICT
    description: str | None = Field(default=None, max_length=2000)


class ComplaintIn(BaseModel):
    """A complaint as an agent records it: who, what equipment, the four intake questions."""

    model_config = _STRICT
    channel: Channel
    customer_id: int | None = Field(default=None, ge=1)
    customer: CustomerRef | None = None
    equipment_id: int | None = Field(default=None, ge=1)
    equipment: EquipmentRef | None = None
    site_id: int | None = Field(default=None, ge=1)
    reporter_name: str | None = Field(default=None, max_length=200)
    reporter_phone: str | None = Field(default=None, max_length=40)
    category: Category
    symptom: str = Field(min_length=1, max_length=2000, description="What the problem is")
    location_detail: str | None = Field(default=None, max_length=1000, description="Where on the equipment")
    working_condition: str | None = Field(default=None, max_length=1000, description="Under which condition")
    impact: Impact = Field(default_factory=Impact)
    special_request: str | None = Field(default=None, max_length=2000)
    reported_at: Timestamp | None = Field(default=None, description="When the customer reported (UTC offset)")

    @model_validator(mode="after")
    def _who_and_what(self) -> ComplaintIn:
        if (
            self.customer_id is None
            and self.customer is None
            and self.equipment_id is None
            and self.equipment is None
            and self.site_id is None
        ):
            raise ValueError(
                "give customer_id, customer {name, phone}, or the equipment (equipment_id or its serial number) "
                "or site_id whose owner is known"
            )
        if self.equipment_id is not None and self.equipment is not None:
            raise ValueError("give equipment_id or equipment {serial_number, model}, not both")
        return self


class GradeReasonOut(BaseModel):
    rule: str
    grade: Grade
    text: str


class NextClockOut(BaseModel):
    name: str
    due_at: datetime
    seconds_left: int
    breached: bool


class ClockOut(BaseModel):
    """One handling clock of the ticket: when it is due, and when and by whom it was met."""

    name: str = Field(description="on_site, department_notify, report_back, first_responder, …")
    due_at: datetime
    done_at: datetime | None
    done_by: str | None = Field(description="Who completed it (a person's name), when a person did")
    note: str | None
    breached: bool = Field(description="Met late, or still undone past its due time")
    completable: bool = Field(description="A person completes it: POST /tickets/{id}/clocks/{name}/complete")


class ClockCompleteIn(BaseModel):
    model_config = ConfigDict(
        **_STRICT, json_schema_extra={"examples": [{"note": "Told the site manager the gearbox was replaced."}]}
    )
    note: str | None = Field(default=None, max_length=2000, description="What was reported, to whom")


class PartyOut(BaseModel):
    id: int
    name: str


class SiteOut(BaseModel):
    id: int
    name: str
    region: str | None
    address: str
    lat: float
    lon: float


class EquipmentOut(BaseModel):
    id: int
    equipment_type: EquipmentType
    model: str
    serial_number: str
    manufacture_date: date | None = None


class TicketOut(BaseModel):
    id: int
    status: TicketStatus
    grade: Grade
    grade_reasons: list[GradeReasonOut]
    grade_overridden: bool
    category: Category
    nature: Nature
    channel: Channel
    symptom: str
    location_detail: str | None
    working_condition: str | None
    impact: dict[str, Any]
    special_request: str | None
    reported_serial: str | None
    reported_model: str | None = None
    reported_manufacture_date: date | None = None
    reported_equipment_type: EquipmentType | None = None
    customer: PartyOut | None
    site: SiteOut | None
    equipment: EquipmentOut | None
    reported_at: datetime
    due_on_site_at: datetime
    deadlines: dict[str, datetime | None]
    next_clock: NextClockOut | None
    clocks: list[ClockOut] = Field(default_factory=list)
    at_risk: bool
    eta: datetime | None
    technician: PartyOut | None
    first_responder: PartyOut | None
    alarm_count: int
    report_count: int
    related_ticket_id: int | None
    related_tickets: list[int]
    on_site_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    closure_note: str | None


class IntakeOut(BaseModel):
    linked: bool = Field(description="True when the complaint was attached to an already open ticket")
    message: str
    report_id: int


class ComplaintOut(TicketOut):
    intake: IntakeOut


class TicketPage(BaseModel):
    items: list[TicketOut]
    total: int
    limit: int
    offset: int


class RegradeIn(BaseModel):
    model_config = _STRICT
    grade: Grade
    reason: str = Field(min_length=3, max_length=1000)


class NatureIn(BaseModel):
    model_config = _STRICT
    nature: Nature
    explanation: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _invalid_needs_explanation(self) -> NatureIn:
        if self.nature is Nature.invalid and not self.explanation:
            raise ValueError("an invalid complaint is closed with an explanation for the customer")
        return self


class ReasonIn(BaseModel):
    model_config = _STRICT
    reason: str = Field(min_length=3, max_length=1000)


class TimelineEntry(BaseModel):
    at: datetime
    kind: str  # audit | report | alarm | escalation | notification | photo
    title: str
    detail: str | None = None
    actor: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
