"""Reading PostGIS values back into plain coordinates."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import to_shape


def latlon(value: Any) -> dict[str, float] | None:
    """{'lat', 'lon'} of a PostGIS point (WKB from the database or a WKT element), or None."""
    if value is None:
        return None
    shape = to_shape(value)
    return {"lat": shape.y, "lon": shape.x}
