from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class RoadRegion(BaseModel):
    network_id: int
    region: str
    edges: int
    imported_at: datetime | None
    bbox: list[float] = Field(description="[west, south, east, north] in WGS 84 degrees")


class StreetFeatures(BaseModel):
    """GeoJSON FeatureCollection of road lines; each feature's properties: `class` (OSM highway), `name`."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
    truncated: bool = Field(description="More roads lie in the box than one answer carries: zoom in")


class FarLocation(BaseModel):
    kind: str = Field(description="site or depot")
    id: int
    name: str
    region: str = Field(description="The road region it was snapped to")
    metres_from_road: float
