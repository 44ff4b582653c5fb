from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dispatch.core.timestamps import Timestamp


class StopOut(BaseModel):
    ticket_id: int
    grade: str
    arrival: datetime
    start: datetime
    end: datetime
    deadline: datetime
    travel_minutes: float
    travel_km: float
    late_minutes: float
    committed: bool
    reasons: list[str]
    symptom: str | None = None
    site_name: str | None = None
    lat: float | None = None
    lon: float | None = None


class RouteOut(BaseModel):
    technician_id: int
    technician_name: str
    shift_index: int
    start_at: datetime
    start_kind: str
    stops: list[StopOut]
    end_kind: str | None = Field(
        default=None, description="Where the day ends: home, service centre or partner point; null: anywhere."
    )
    home_at: datetime | None = Field(default=None, description="ETA back at home base after the last stop.")
    home_travel_minutes: float = Field(default=0.0, description="The drive home after the last stop.")
    home_travel_km: float = 0.0


class UnassignedOut(BaseModel):
    ticket_id: int
    reason: str


class PlanOut(BaseModel):
    id: int
    kind: str
    status: str
    created_at: datetime
    computed_at: datetime | None
    based_on_plan_id: int | None
    reason: str | None
    fingerprint: str | None
    routes: list[RouteOut]
    unassigned: list[UnassignedOut]
    late: list[int]
    objective: dict[str, Any]
    stats: dict[str, Any]
    diff: dict[str, Any] | None
    error: str | None


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(default=None, max_length=500)
    time_limit_seconds: float | None = Field(default=None, gt=0, le=120)


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int = Field(ge=1)
    technician_id: int = Field(ge=1)
    start_at: Timestamp | None = Field(
        default=None, description="Dropped at a time on the board: the visit starts no earlier than this"
    )


class PinIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ticket_id: int = Field(ge=1)
    technician_id: int | None = Field(default=None, ge=1, description="None unpins")
    start_at: Timestamp | None = Field(
        default=None, description="Not before this time (needs a technician); None keeps only the technician"
    )


class MoveOut(BaseModel):
    feasible: bool
    reasons: list[str]
    eta: datetime | None = None
    deadline: datetime | None = None
    late_minutes: float | None = None
    late_visits_after: int | None = None
