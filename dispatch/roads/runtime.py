"""The process's road networks: graphs loaded once, snaps cached, a travel provider per solve.

`road_travel(session, policy, locations)` is what the planner calls: it returns today's great-circle provider
when no region has roads, and otherwise a `RoadTravelProvider` for which every location given has been
snapped (one query for the new ones). A re-import is noticed at the next call (the active versions are read
each time; a cheap indexed query) and the new version's graph replaces the old.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dispatch.domain.policy import Policy
from dispatch.roads.graph import RoadGraph, RoadTravelProvider, Snap, location_key
from dispatch.roads.models import ACTIVE, RoadNetwork
from routing.problem import Location
from routing.travel import HaversineProvider, TravelMatrixProvider

# Nearest edges by the index's planar distance (degrees), then the true nearest of those in metres: a degree of
# longitude is half a degree of latitude at 60° N, so the planar nearest is not always the nearest. Distance and
# the fraction along the edge are measured with longitudes scaled by cos(latitude) (an equirectangular view,
# good to a fraction of a percent over a street's length), metres by the mean Earth radius' degree.
_SNAP_SQL = text(
    """
    SELECT p.ord, c.network_id, c.id, c.fraction, c.metres, ST_Y(c.pt) AS lat, ST_X(c.pt) AS lon
    FROM unnest(CAST(:lats AS float8[]), CAST(:lons AS float8[])) WITH ORDINALITY AS p(lat, lon, ord)
    CROSS JOIN LATERAL (
        SELECT k.network_id, k.id, k.geom, k.here,
               ST_LineLocatePoint(k.flat, k.flat_here) AS fraction,
               ST_Distance(k.flat, k.flat_here) * 111195.08 AS metres,
               ST_ClosestPoint(k.geom, k.here) AS pt
        FROM (
            SELECT e.network_id, e.id, e.geom, h.here,
                   ST_Scale(e.geom, cos(radians(p.lat)), 1) AS flat,
                   ST_Scale(h.here, cos(radians(p.lat)), 1) AS flat_here
            FROM (SELECT ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326) AS here) h
            CROSS JOIN LATERAL (
                SELECT network_id, id, geom FROM road_edges
                WHERE network_id = ANY(CAST(:networks AS int[]))
                ORDER BY geom <-> h.here LIMIT 8
            ) e
        ) k
        ORDER BY metres LIMIT 1
    ) c
    """
)


@dataclass(frozen=True)
class NetworkInfo:
    id: int
    region: str


class RoadRuntime:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._graphs: dict[int, RoadGraph] = {}
        self._snaps: dict[tuple[float, float], Snap | None] = {}
        self._active: tuple[NetworkInfo, ...] = ()

    def active(self, session: Session) -> tuple[NetworkInfo, ...]:
        rows = session.execute(
            select(RoadNetwork.id, RoadNetwork.region).where(RoadNetwork.status == ACTIVE).order_by(RoadNetwork.id)
        ).all()
        return tuple(NetworkInfo(r.id, r.region) for r in rows)

    def graphs(self, session: Session, policy: Policy) -> dict[int, RoadGraph]:
        """The active networks' graphs, loading any not yet in memory; forgets replaced versions."""
        active = self.active(session)
        with self._lock:
            if active != self._active:
                wanted = {n.id for n in active}
                self._graphs = {k: g for k, g in self._graphs.items() if k in wanted}
                self._snaps = {k: s for k, s in self._snaps.items() if s is not None and s.network_id in wanted}
                if any(n.id not in self._graphs for n in active):
                    self._snaps = {}  # a new network may now be nearer to a location than the old answer
                self._active = active
            missing = [n for n in active if n.id not in self._graphs]
        for network in missing:
            graph = load_graph(session, network, cache_bytes=policy.roads.matrix_cache_mb * 2**20)
            with self._lock:
                self._graphs[network.id] = graph
        with self._lock:
            return dict(self._graphs)

    def snaps(
        self, session: Session, policy: Policy, locations: Iterable[Location]
    ) -> dict[tuple[float, float], Snap | None]:
        graphs = self.graphs(session, policy)
        keys = list(dict.fromkeys(location_key(loc) for loc in locations))
        with self._lock:
            new = [k for k in keys if k not in self._snaps]
        if new and graphs:
            found = snap_points(session, new, list(graphs), policy.roads.coverage_metres)
            with self._lock:
                self._snaps.update(found)
        with self._lock:
            return {k: self._snaps.get(k) for k in keys}

    def provider(self, session: Session, policy: Policy, locations: Sequence[Location]) -> TravelMatrixProvider:
        fallback = HaversineProvider(speed_kmh=policy.routing.speed_kmh, road_factor=policy.routing.road_factor)
        graphs = self.graphs(session, policy)
        if not graphs:
            return fallback
        return RoadTravelProvider(graphs=graphs, snaps=self.snaps(session, policy, locations), fallback=fallback)

    def clear(self) -> None:
        with self._lock:
            self._graphs, self._snaps, self._active = {}, {}, ()


def load_graph(session: Session, network: NetworkInfo, *, cache_bytes: float) -> RoadGraph:
    edges = session.execute(
        text("SELECT source, target, cost, reverse_cost, length_m FROM road_edges WHERE network_id = :n ORDER BY id"),
        {"n": network.id},
    ).all()
    vertices = session.execute(
        text("SELECT ST_Y(geom), ST_X(geom) FROM road_vertices WHERE network_id = :n ORDER BY id"),
        {"n": network.id},
    ).all()
    e = np.asarray(edges, dtype=np.float64).reshape(-1, 5)
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 2)
    return RoadGraph(
        network_id=network.id,
        region=network.region,
        source=e[:, 0].astype(np.int64),
        target=e[:, 1].astype(np.int64),
        cost=e[:, 2],
        reverse_cost=e[:, 3],
        length_m=e[:, 4],
        vertex_lat=v[:, 0],
        vertex_lon=v[:, 1],
        cache_bytes=cache_bytes,
    )


def snap_points(
    session: Session, keys: Sequence[tuple[float, float]], networks: Sequence[int], coverage_m: float
) -> dict[tuple[float, float], Snap | None]:
    """The nearest routable edge of any of `networks` for each (lat, lon); None when farther than `coverage_m`."""
    out: dict[tuple[float, float], Snap | None] = dict.fromkeys(keys)
    rows = session.execute(
        _SNAP_SQL, {"lats": [k[0] for k in keys], "lons": [k[1] for k in keys], "networks": list(networks)}
    ).all()
    for r in rows:
        if r.metres is None or r.metres > coverage_m:
            continue
        out[keys[r.ord - 1]] = Snap(
            network_id=r.network_id,
            edge=r.id,
            fraction=min(1.0, max(0.0, float(r.fraction))),
            off_road_m=float(r.metres),
            road_lat=float(r.lat),
            road_lon=float(r.lon),
        )
    return out


RUNTIME = RoadRuntime()


def road_travel(session: Session, policy: Policy, locations: Sequence[Location]) -> TravelMatrixProvider:
    """The travel provider for a solve over `locations` (roads where a region has them, great circle elsewhere)."""
    return RUNTIME.provider(session, policy, locations)
