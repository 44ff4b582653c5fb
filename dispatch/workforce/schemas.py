from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from dispatch.core.types import DepotKind


class LatLon(BaseModel):
    lat: float
    lon: float


class DepotOut(BaseModel):
    id: int
    name: str
    kind: DepotKind
    region: str | None
    location: LatLon


class TechnicianOut(BaseModel):
    id: int
    name: str
    phone: str | None
    home_depot_id: int
    skills: list[str]
    is_active: bool
    last_position: LatLon | None
    last_position_at: datetime | None
