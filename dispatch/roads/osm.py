"""Reading an OpenStreetMap extract into a routable graph (pure: a file in, arrays out; no database).

libosmium (through pyosmium) parses the file and resolves the ways' node locations; this module only decides
which ways are drivable, in which directions and how fast, and cuts them into edges between junctions.
The graph keeps its largest strongly connected part: a snap onto a stub that leads nowhere (a one-way piece
cut off at the extract's border, a private car park with no way out) would make every trip to it fail.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dispatch.domain.geo import EARTH_RADIUS_M

Progress = Callable[[str], None]

# oneway values (OSM wiki "Key:oneway"): forward only, backward only, or neither direction restricted.
FORWARD = {"yes", "true", "1"}
BACKWARD = {"-1", "reverse"}
# Ways no car may take whatever their class: closed to motor vehicles, or only a polygon (a square).
NO_ACCESS = {"no"}
PROGRESS_EVERY = 200_000


class OsmFileError(ValueError):
    """The file is not a readable OpenStreetMap extract, or holds no drivable roads."""


@dataclass(frozen=True)
class RoadGraphData:
    """Vertices 0..n-1 (junctions and dead ends), edges between them with pgRouting-style costs."""

    vertex_osm_id: np.ndarray  # int64 (n,)
    vertex_lon: np.ndarray  # float64 (n,)
    vertex_lat: np.ndarray
    edge_source: np.ndarray  # int64 (m,)
    edge_target: np.ndarray
    edge_cost: np.ndarray  # float64 seconds source -> target, -1 where not allowed
    edge_reverse_cost: np.ndarray  # float64 seconds target -> source, -1 where not allowed
    edge_length_m: np.ndarray
    edge_class: list[str]
    edge_name: list[str | None]
    edge_way_id: np.ndarray
    edge_coords: list[list[tuple[float, float]]]  # (lon, lat) along the road
    ways_read: int
    dropped_edges: int  # edges outside the largest strongly connected part

    @property
    def vertex_count(self) -> int:
        return len(self.vertex_osm_id)

    @property
    def edge_count(self) -> int:
        return len(self.edge_source)


def _speed(tags: Mapping[str, str], road_class: str, speeds: Mapping[str, float]) -> float:
    base = float(speeds[road_class])
    raw = (tags.get("maxspeed") or "").strip().lower()
    limit: float | None = None
    try:
        if raw.endswith("mph"):
            limit = float(raw[:-3].strip()) * 1.609344
        elif raw:
            limit = float(raw.split()[0])
    except ValueError:
        limit = None
    return min(base, limit) if limit is not None and limit > 0 else base


def _directions(tags: Mapping[str, str], road_class: str) -> tuple[bool, bool] | None:
    """(forward allowed, backward allowed), or None for a way no car may use."""
    oneway = (tags.get("oneway") or "").strip().lower()
    if oneway in FORWARD:
        return True, False
    if oneway in BACKWARD:
        return False, True
    if oneway in ("reversible", "alternating"):
        return None  # direction changes by time of day: not plannable
    implied = road_class in ("motorway",) or (tags.get("junction") or "") in ("roundabout", "circular")
    if implied and oneway != "no":
        return True, False
    return True, True


def _drivable(tags: Mapping[str, str]) -> bool:
    if tags.get("area") == "yes":
        return False
    return all((tags.get(key) or "") not in NO_ACCESS for key in ("access", "vehicle", "motor_vehicle", "motorcar"))


def read_road_graph(path: Path, speeds_kmh: Mapping[str, float], progress: Progress | None = None) -> RoadGraphData:
    """The drivable roads of the extract at `path` as a graph. Raises `OsmFileError` for a file that cannot be
    read or holds no drivable road."""
    import osmium  # imported here: only the import command needs libosmium

    say = progress or (lambda _msg: None)
    if not path.is_file():
        raise OsmFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise OsmFileError(f"{path}: the file is empty")

    ways: list[tuple[int, str, str | None, bool, bool, float, list[tuple[int, float, float]]]] = []
    uses: Counter[int] = Counter()
    seen = 0
    try:
        processor = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for obj in processor:
            seen += 1
            if seen % PROGRESS_EVERY == 0:
                say(f"  read {seen:,} objects, {len(ways):,} drivable ways so far")
            if not obj.is_way():
                continue
            tags = obj.tags
            road_class = tags.get("highway")
            if road_class not in speeds_kmh or not _drivable(tags):
                continue
            directions = _directions(tags, road_class)
            if directions is None:
                continue
            nodes = [(n.ref, n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if len(nodes) < 2:
                continue
            ways.append(
                (obj.id, road_class, tags.get("name"), *directions, _speed(tags, road_class, speeds_kmh), nodes)
            )
            for ref, _lon, _lat in nodes:
                uses[ref] += 1
    except RuntimeError as exc:  # libosmium's parse errors (a truncated or non-OSM file)
        raise OsmFileError(f"{path}: not a readable OpenStreetMap file ({exc})") from exc
    if seen == 0:
        raise OsmFileError(f"{path}: not a readable OpenStreetMap file (no objects in it)")
    if not ways:
        raise OsmFileError(f"{path}: no drivable roads in it (read {seen:,} objects)")
    say(f"  read {seen:,} objects: {len(ways):,} drivable ways; cutting them at junctions")
    return _build(ways, uses, say)


def _segment_metres(nodes: list[tuple[int, float, float]]) -> list[float]:
    """Great-circle length of each piece between consecutive nodes (vectorised haversine)."""
    arr = np.radians(np.asarray([(lon, lat) for _ref, lon, lat in nodes]))
    lon, lat = arr[:, 0], arr[:, 1]
    h = np.sin(np.diff(lat) / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    return (2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))).tolist()


def _build(ways, uses, say: Progress) -> RoadGraphData:  # type: ignore[no-untyped-def]
    vertex_of: dict[int, int] = {}
    v_osm: list[int] = []
    v_lon: list[float] = []
    v_lat: list[float] = []

    def vertex(ref: int, lon: float, lat: float) -> int:
        idx = vertex_of.get(ref)
        if idx is None:
            idx = vertex_of[ref] = len(v_osm)
            v_osm.append(ref)
            v_lon.append(lon)
            v_lat.append(lat)
        return idx

    src: list[int] = []
    dst: list[int] = []
    cost: list[float] = []
    rcost: list[float] = []
    length: list[float] = []
    classes: list[str] = []
    names: list[str | None] = []
    way_ids: list[int] = []
    coords: list[list[tuple[float, float]]] = []
    for way_id, road_class, name, fwd, bwd, kmh, nodes in ways:
        mps = kmh / 3.6
        start = 0
        metres = 0.0
        segment = _segment_metres(nodes)
        for k in range(1, len(nodes)):
            b = nodes[k]
            metres += segment[k - 1]
            if k == len(nodes) - 1 or uses[b[0]] > 1:
                first, last = nodes[start], b
                if first[0] != last[0] or k - start > 1:
                    src.append(vertex(first[0], first[1], first[2]))
                    dst.append(vertex(last[0], last[1], last[2]))
                    seconds = max(metres, 0.1) / mps
                    cost.append(seconds if fwd else -1.0)
                    rcost.append(seconds if bwd else -1.0)
                    length.append(metres)
                    classes.append(road_class)
                    names.append(name[:200] if name else None)
                    way_ids.append(way_id)
                    coords.append([(lon, lat) for _ref, lon, lat in nodes[start : k + 1]])
                start, metres = k, 0.0
    n = len(v_osm)
    s, t = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    c, rc = np.asarray(cost), np.asarray(rcost)
    rows = np.concatenate([s[c >= 0], t[rc >= 0]])
    cols = np.concatenate([t[c >= 0], s[rc >= 0]])
    adjacency = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    _count, label = connected_components(adjacency, directed=True, connection="strong")
    biggest = np.bincount(label).argmax()
    keep_vertex = label == biggest
    keep_edge = keep_vertex[s] & keep_vertex[t]
    new_id = np.full(n, -1, dtype=np.int64)
    new_id[keep_vertex] = np.arange(int(keep_vertex.sum()))
    idx = np.flatnonzero(keep_edge)
    dropped = len(s) - len(idx)
    if dropped:
        say(f"  left out {dropped:,} road pieces not connected both ways to the main network")
    osm_ids = np.asarray(v_osm, dtype=np.int64)
    return RoadGraphData(
        vertex_osm_id=osm_ids[keep_vertex],
        vertex_lon=np.asarray(v_lon)[keep_vertex],
        vertex_lat=np.asarray(v_lat)[keep_vertex],
        edge_source=new_id[s[idx]],
        edge_target=new_id[t[idx]],
        edge_cost=c[idx],
        edge_reverse_cost=rc[idx],
        edge_length_m=np.asarray(length)[idx],
        edge_class=[classes[i] for i in idx],
        edge_name=[names[i] for i in idx],
        edge_way_id=np.asarray(way_ids, dtype=np.int64)[idx],
        edge_coords=[coords[i] for i in idx],
        ways_read=len(ways),
        dropped_edges=dropped,
    )


def bbox(data: RoadGraphData) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the vertices."""
    return (
        float(data.vertex_lon.min()),
        float(data.vertex_lat.min()),
        float(data.vertex_lon.max()),
        float(data.vertex_lat.max()),
    )
