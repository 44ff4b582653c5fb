"""Pure geometry helpers for plausibility checks; PostGIS (`ST_DWithin` on geography) does the real fence.

Great-circle distance is the optimizer's own (`routing.travel.haversine_m`, a sphere of the mean Earth radius,
good to about 0.5 %): enough to judge whether a technician could have driven somewhere, not to decide a 300 m
geofence at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass

from routing.travel import EARTH_RADIUS_M, haversine_m

__all__ = ["EARTH_RADIUS_M", "GeoPoint", "haversine_m"]


@dataclass(frozen=True)
class GeoPoint:
    """WGS 84 latitude/longitude in degrees (the order people say it; PostGIS points are lon, lat)."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90 <= self.lat <= 90 and -180 <= self.lon <= 180):
            raise ValueError(f"not a WGS 84 position: lat {self.lat}, lon {self.lon}")
