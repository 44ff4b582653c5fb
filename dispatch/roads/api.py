"""Road networks over HTTP: the streets the board's map draws, the regions it fits to, far-from-road sites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dispatch.core.auth import Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import AppPolicy
from dispatch.core.errors import FieldError, Unprocessable
from dispatch.core.types import Role
from dispatch.roads import geometry
from dispatch.roads.schemas import FarLocation, RoadRegion, StreetFeatures
from dispatch.roads.snapping import far_locations

router = APIRouter(tags=["roads"])
MapReader = Annotated[Principal, require_roles(Role.dispatcher, Role.manager)]
MAX_BOX_DEGREES = 5.0


def _bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(x) for x in raw.split(","))
    except ValueError:
        raise Unprocessable(
            "bbox must be four numbers: west,south,east,north",
            key="error.roads.bbox-format",
            errors=[FieldError("/bbox", "expected west,south,east,north in degrees", key="field.bbox-format")],
        ) from None
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise Unprocessable(
            "bbox is not a box on the globe",
            key="error.roads.bbox-not-a-box",
            errors=[FieldError("/bbox", "need west < east and south < north", key="field.bbox-order")],
        )
    if east - west > MAX_BOX_DEGREES or north - south > MAX_BOX_DEGREES:
        raise Unprocessable(
            "bbox is too large",
            key="error.roads.bbox-too-large",
            errors=[
                FieldError(
                    "/bbox",
                    f"at most {MAX_BOX_DEGREES:g} degrees on a side",
                    key="field.bbox-too-large",
                    params={"degrees": f"{MAX_BOX_DEGREES:g}"},
                )
            ],
        )
    return west, south, east, north


@router.get(
    "/roads/streets",
    response_model=StreetFeatures,
    summary="Imported roads inside a box, as GeoJSON lines simplified for the zoom level",
    description="What the board's map draws when no tile server is configured (and beneath one that is). "
    "Zoomed out, only the larger road classes are sent.",
)
def road_streets(
    session: DbSession,
    _who: MapReader,
    bbox: Annotated[str, Query(description="west,south,east,north in degrees", examples=["24.93,60.16,24.96,60.18"])],
    zoom: Annotated[int, Query(ge=0, le=22, description="The map's zoom level")] = 14,
) -> dict[str, Any]:
    west, south, east, north = _bbox(bbox)
    return geometry.streets(session, west=west, south=south, east=east, north=north, zoom=zoom)


@router.get(
    "/roads/regions",
    response_model=list[RoadRegion],
    summary="Regions with imported roads and their extent",
    description="The board fits its map to these on open.",
)
def road_regions(session: DbSession, _who: MapReader) -> list[dict[str, Any]]:
    return geometry.regions(session)


@router.get(
    "/roads/far-from-road",
    response_model=list[FarLocation],
    summary="Sites and depots farther from any routable road than the policy allows",
    description="Their last leg is priced as a straight line (roads.snap_report_metres in the policy).",
)
def road_far_locations(session: DbSession, policy: AppPolicy, _who: MapReader) -> list[dict[str, Any]]:
    return far_locations(session, policy)
