"""Pure geometry helpers for plausibility checks; PostGIS (`ST_DWithin` on geography) does the real fence.

Great-circle distance on a sphere of the mean Earth radius: good to about 0.5 % — enough to judge
whether a technician could have driven somewhere, not to decide a 300 m geofence at its edge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class GeoPoint:
    """WGS 84 latitude/longitude in degrees (the order people say it; PostGIS points are lon, lat)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"not a WGS 84 position: lat {self.lat}, lon {self.lon}")


def haversine_m(a: GeoPoint, b: GeoPoint) -> float:
    """Great-circle distance between two points in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
