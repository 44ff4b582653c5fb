"""Which sites and depots lie too far from any road (a tower on a hill): reported with the distance."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.customers.models import Site
from dispatch.domain.policy import Policy
from dispatch.roads.graph import location_key
from dispatch.roads.runtime import RUNTIME
from dispatch.workforce.models import Depot
from routing.problem import Location

MAX_REPORTED = 1000


def far_locations(session: Session, policy: Policy) -> list[dict[str, Any]]:
    """Sites and depots inside a road region but farther than `roads.snap_report_metres` from its roads,
    farthest first; their last leg is priced as a straight line."""
    graphs = RUNTIME.graphs(session, policy)
    if not graphs:
        return []
    places: list[tuple[str, int, str, Location]] = []
    for kind, model in (("site", Site), ("depot", Depot)):
        rows = session.execute(
            select(
                model.id,
                model.name,
                func.ST_Y(func.ST_GeomFromWKB(func.ST_AsBinary(model.location))),
                func.ST_X(func.ST_GeomFromWKB(func.ST_AsBinary(model.location))),
            )
            .where(model.location.is_not(None))
            .order_by(model.id)
        ).all()
        places += [(kind, r[0], r[1], Location(r[2], r[3])) for r in rows]
    snaps = RUNTIME.snaps(session, policy, [p[3] for p in places])
    out = []
    for kind, ident, name, loc in places:
        snap = snaps.get(location_key(loc))
        if snap is not None and snap.off_road_m > policy.roads.snap_report_metres:
            out.append(
                {
                    "kind": kind,
                    "id": ident,
                    "name": name,
                    "region": graphs[snap.network_id].region,
                    "metres_from_road": round(snap.off_road_m, 1),
                }
            )
    out.sort(key=lambda r: -r["metres_from_road"])
    return out[:MAX_REPORTED]
