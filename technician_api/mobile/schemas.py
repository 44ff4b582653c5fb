"""The phone app's configuration and the day's drive home."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class PlaceOut(BaseModel):
    name: str
    lat: float
    lon: float


class AppUserOut(BaseModel):
    id: int
    username: str
    full_name: str
    technician_id: int


class AppTexts(BaseModel):
    """Words for the codes the app shows, in the reader's language."""

    status: dict[str, str]
    action: dict[str, str]
    grade: dict[str, str]
    impact: dict[str, str]
    equipment_type: dict[str, str]


class AppConfigOut(BaseModel):
    """What the app keeps on the phone to work offline: who, the lifecycle, the words, the fence."""

    user: AppUserOut
    home: PlaceOut | None
    transitions: dict[str, dict[str, str]] = Field(
        description="Per job status, the technician's events allowed in it and the status each leads to"
    )
    actions: dict[str, list[str]] = Field(description="Per job status, the events the app may offer")
    texts: AppTexts
    geofence_radius_m: float
    max_upload_bytes: int
    locale: str


class DayOut(BaseModel):
    """The end of the technician's planned day: the drive home, when the live plan gives it."""

    home: PlaceOut | None
    return_at: datetime | None = Field(default=None, description="Planned arrival back at the home base")
    travel_home_s: int | None = None
    plan_id: int | None = None
