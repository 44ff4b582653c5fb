"""What the map draws from the roads: streets for a viewport (GeoJSON) and routes that follow them."""

from __future__ import annotations

import itertools
import json
import threading
from collections import OrderedDict
from typing import Any

from shapely import LineString
from shapely.ops import substring
from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.domain.policy import Policy
from dispatch.roads.graph import RoadGraph, Snap, location_key
from dispatch.roads.runtime import RUNTIME
from routing.problem import Location

# Road classes a map shows at low zoom (a whole region on screen); every routable class from zoom 14.
MAJOR = ("motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link")
MIDDLE = (*MAJOR, "secondary", "secondary_link", "tertiary", "tertiary_link")
MAX_FEATURES = 20_000
PATH_CACHE = 4096

_STREETS_SQL = text(
    """
    SELECT e.road_class, e.name, ST_AsGeoJSON(ST_Simplify(e.geom, :tolerance, true), 6) AS geometry
    FROM road_edges e JOIN road_networks n ON n.id = e.network_id AND n.status = 'active'
    WHERE e.geom && ST_MakeEnvelope(:west, :south, :east, :north, 4326)
      AND (CAST(:classes AS text[]) IS NULL OR e.road_class = ANY(CAST(:classes AS text[])))
    LIMIT :cap
    """
)


def classes_at(zoom: int) -> tuple[str, ...] | None:
    """The road classes drawn at a zoom level (None: all)."""
    if zoom < 11:
        return MAJOR
    if zoom < 14:
        return MIDDLE
    return None


def streets(session: Session, *, west: float, south: float, east: float, north: float, zoom: int) -> dict[str, Any]:
    """The active networks' roads inside the box as a GeoJSON FeatureCollection, simplified to about half a
    screen pixel at `zoom` and thinned to the larger classes when zoomed out."""
    tolerance = 360.0 / (256 * 2**zoom) / 2
    classes = classes_at(zoom)
    rows = session.execute(
        _STREETS_SQL,
        {
            "tolerance": tolerance,
            "west": west,
            "south": south,
            "east": east,
            "north": north,
            "classes": list(classes) if classes else None,
            "cap": MAX_FEATURES + 1,
        },
    ).all()
    features = [
        {
            "type": "Feature",
            "geometry": json.loads(r.geometry),
            "properties": {"class": r.road_class, "name": r.name},
        }
        for r in rows[:MAX_FEATURES]
    ]
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > MAX_FEATURES}


def regions(session: Session) -> list[dict[str, Any]]:
    """The regions with active roads and their extent [west, south, east, north] (the map fits to it)."""
    rows = session.execute(
        text(
            "SELECT id, region, edge_count, activated_at, ST_XMin(bbox) AS w, ST_YMin(bbox) AS s,"
            " ST_XMax(bbox) AS e, ST_YMax(bbox) AS n FROM road_networks WHERE status = 'active' ORDER BY region"
        )
    ).all()
    return [
        {
            "network_id": r.id,
            "region": r.region,
            "edges": r.edge_count,
            "imported_at": r.activated_at,
            "bbox": [r.w, r.s, r.e, r.n],
        }
        for r in rows
    ]


class _Paths:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, tuple[float, float], tuple[float, float]], list[list[float]]] = (
            OrderedDict()
        )

    def get(self, key: tuple[int, tuple[float, float], tuple[float, float]]) -> list[list[float]] | None:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
            return found

    def put(self, key: tuple[int, tuple[float, float], tuple[float, float]], value: list[list[float]]) -> None:
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > PATH_CACHE:
                self._cache.popitem(last=False)


_PATHS = _Paths()


def _edge_lines(session: Session, network_id: int, edges: set[int]) -> dict[int, LineString]:
    rows = session.execute(
        text("SELECT id, ST_AsGeoJSON(geom, 7) AS g FROM road_edges WHERE network_id = :n AND id = ANY(:ids)"),
        {"n": network_id, "ids": sorted(edges)},
    ).all()
    return {r.id: LineString(json.loads(r.g)["coordinates"]) for r in rows}


def _piece(line: LineString, start: float, end: float) -> list[tuple[float, float]]:
    """Coordinates from fraction `start` to `end` of `line` (reversed when end < start)."""
    part = substring(line, start, end, normalized=True)
    coords = list(part.coords) if hasattr(part, "coords") else []
    return [(x, y) for x, y, *_ in coords]


def _leg(session: Session, graph: RoadGraph, a: Snap, b: Snap) -> list[tuple[float, float]] | None:
    path = graph.path(a, b)
    if path is None:
        return None
    edges = {a.edge, b.edge, *(e for e, _u, _v in path.arcs)}
    lines = _edge_lines(session, graph.network_id, edges)
    if path.exit_vertex is None:
        return _piece(lines[a.edge], a.fraction, b.fraction)
    out: list[tuple[float, float]] = []
    out += _piece(lines[a.edge], a.fraction, 1.0 if path.exit_vertex == graph.target[a.edge] else 0.0)
    for edge, u, _v in path.arcs:
        coords = list(lines[edge].coords)
        out += coords if u == graph.source[edge] else coords[::-1]
    out += _piece(lines[b.edge], 0.0 if path.entry_vertex == graph.source[b.edge] else 1.0, b.fraction)
    return out


def follow_roads(
    session: Session, policy: Policy, routes: list[list[list[float]]]
) -> list[tuple[list[list[float]], bool]]:
    """Each route through its [lat, lon] stops as a line along the roads where a region has them, and whether
    any of its legs follows roads; legs the roads cannot carry (outside every region) stay straight. One query
    for the active networks and one to snap every new stop, however many routes (the board's whole fleet)."""
    if not any(len(points) > 1 for points in routes):
        return [(points, False) for points in routes]
    graphs = RUNTIME.graphs(session, policy)
    if not graphs:
        return [(points, False) for points in routes]
    snaps = RUNTIME.snaps(session, policy, [Location(p[0], p[1]) for points in routes for p in points])
    return [_follow(session, graphs, snaps, points) for points in routes]


def _follow(
    session: Session,
    graphs: dict[int, RoadGraph],
    snaps: dict[tuple[float, float], Snap | None],
    points: list[list[float]],
) -> tuple[list[list[float]], bool]:
    if len(points) < 2:
        return points, False
    locations = [Location(p[0], p[1]) for p in points]
    line: list[list[float]] = [points[0]]
    on_roads = False
    for here, there in itertools.pairwise(locations):
        a, b = snaps.get(location_key(here)), snaps.get(location_key(there))
        drawn: list[list[float]] | None = None
        if a is not None and b is not None and a.network_id == b.network_id and a.network_id in graphs:
            key = (a.network_id, location_key(here), location_key(there))
            drawn = _PATHS.get(key)
            if drawn is None:
                coords = _leg(session, graphs[a.network_id], a, b)
                if coords is not None:
                    drawn = [[round(y, 6), round(x, 6)] for x, y in coords]
                    _PATHS.put(key, drawn)
        if drawn and a is not None and b is not None:
            line += [[a.road_lat, a.road_lon], *drawn, [b.road_lat, b.road_lon]]
            on_roads = True
        line.append([there.lat, there.lon])
    return line, on_roads
