"""Road travel times in memory: a region's network as a sparse graph, Dijkstra from SciPy, a row cache.

The network is loaded once per process (and again only when an import switches the region's version). The
graph is already contracted to junctions by the import. Each edge weighs its travel time in tenths of a
second times 2**24 plus its length in metres, so one Dijkstra yields the fastest path's time *and* its
length exactly (float64 holds integers up to 2**53: 621 days and 16,777 km per path).

A located point (site, depot, technician) is snapped onto an edge at a fraction of its length; a trip
leaves it toward the edge's end vertices the edge's directions allow and arrives likewise, so a one-way
street is only driven its own way, also on the first and last metres. The distance between the point and
the road is priced as a straight line at the great-circle model's speed and road factor.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.problem import Location
from routing.travel import EARTH_RADIUS_M, HaversineProvider, TravelMatrix

SHIFT = float(2**24)  # metres live below this, tenths of a second above
DECI = 10.0
AT_JUNCTION_M = 1.0  # a snap this close to an edge's end is at the junction
BATCH_BYTES = 64 * 2**20  # Dijkstra rows computed at once (memory bound per batch)


@dataclass(frozen=True)
class Snap:
    """Where a location meets the road: `edge` at `fraction` of its length from its source vertex."""

    network_id: int
    edge: int
    fraction: float
    off_road_m: float
    road_lat: float
    road_lon: float


def location_key(loc: Location) -> tuple[float, float]:
    return (round(loc.lat, 7), round(loc.lon, 7))


class RoadGraph:
    """One network version's graph with a bounded cache of Dijkstra rows (sites don't move)."""

    def __init__(
        self,
        *,
        network_id: int,
        region: str,
        source: np.ndarray,
        target: np.ndarray,
        cost: np.ndarray,
        reverse_cost: np.ndarray,
        length_m: np.ndarray,
        vertex_lat: np.ndarray,
        vertex_lon: np.ndarray,
        cache_bytes: float,
    ) -> None:
        self.network_id = network_id
        self.region = region
        self.source = source.astype(np.int64)
        self.target = target.astype(np.int64)
        self.cost = cost.astype(np.float64)
        self.reverse_cost = reverse_cost.astype(np.float64)
        self.length_m = length_m.astype(np.float64)
        self.vertex_lat = vertex_lat
        self.vertex_lon = vertex_lon
        self.n = len(vertex_lat)
        fwd = self.cost >= 0
        bwd = self.reverse_cost >= 0
        rows = np.concatenate([self.source[fwd], self.target[bwd]])
        cols = np.concatenate([self.target[fwd], self.source[bwd]])
        seconds = np.concatenate([self.cost[fwd], self.reverse_cost[bwd]])
        metres = np.concatenate([self.length_m[fwd], self.length_m[bwd]])
        edge_ids = np.concatenate([np.flatnonzero(fwd), np.flatnonzero(bwd)])
        weight = np.round(seconds * DECI) * SHIFT + np.maximum(1.0, np.round(metres))
        # Parallel edges (two ways between the same junctions): keep the best; a sparse matrix would add them.
        order = np.lexsort((weight, cols, rows))
        rows, cols, weight, edge_ids = rows[order], cols[order], weight[order], edge_ids[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, weight, edge_ids = rows[first], cols[first], weight[first], edge_ids[first]
        self.csr = csr_matrix((weight, (rows, cols)), shape=(self.n, self.n))
        self._arc_edge = {(int(a), int(b)): int(e) for a, b, e in zip(rows, cols, edge_ids, strict=True)}
        self._rows: OrderedDict[int, np.ndarray] = OrderedDict()
        self._max_rows = max(16, int(cache_bytes // max(1, 8 * self.n)))
        self._lock = threading.Lock()

    # --- rows ------------------------------------------------------------------------------------------

    def rows(self, vertices: Sequence[int]) -> dict[int, np.ndarray]:
        """Encoded shortest-path weights from each vertex to every vertex (inf where unreachable)."""
        wanted = list(dict.fromkeys(int(v) for v in vertices))
        with self._lock:
            found = {v: self._rows[v] for v in wanted if v in self._rows}
            for v in found:
                self._rows.move_to_end(v)
        missing = [v for v in wanted if v not in found]
        batch = max(1, int(BATCH_BYTES // max(1, 8 * self.n)))
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            dist = np.atleast_2d(dijkstra(self.csr, directed=True, indices=chunk))
            for k, v in enumerate(chunk):
                found[v] = dist[k]
        if missing:
            with self._lock:
                for v in missing:
                    self._rows[v] = found[v]
                while len(self._rows) > self._max_rows:
                    self._rows.popitem(last=False)
        return found

    @property
    def cached_rows(self) -> int:
        return len(self._rows)

    # --- the ends of a trip ----------------------------------------------------------------------------

    def exits(self, snap: Snap) -> list[tuple[int, float, float]]:
        """(vertex, seconds, metres) from the snapped point onto the graph, in the directions allowed."""
        e, f = snap.edge, snap.fraction
        out = []
        if self.cost[e] >= 0:
            out.append((int(self.target[e]), (1 - f) * self.cost[e], (1 - f) * self.length_m[e]))
        if self.reverse_cost[e] >= 0:
            out.append((int(self.source[e]), f * self.reverse_cost[e], f * self.length_m[e]))
        return self._at_junction(snap, out)

    def entries(self, snap: Snap) -> list[tuple[int, float, float]]:
        """(vertex, seconds, metres) from the graph to the snapped point."""
        e, f = snap.edge, snap.fraction
        out = []
        if self.cost[e] >= 0:
            out.append((int(self.source[e]), f * self.cost[e], f * self.length_m[e]))
        if self.reverse_cost[e] >= 0:
            out.append((int(self.target[e]), (1 - f) * self.reverse_cost[e], (1 - f) * self.length_m[e]))
        return self._at_junction(snap, out)

    def _at_junction(self, snap: Snap, ends: list[tuple[int, float, float]]) -> list[tuple[int, float, float]]:
        """A point on a junction (the start of a one-way street, say) is at that vertex in every direction."""
        e, f = snap.edge, snap.fraction
        if f * self.length_m[e] < AT_JUNCTION_M:
            ends.append((int(self.source[e]), 0.0, 0.0))
        if (1 - f) * self.length_m[e] < AT_JUNCTION_M:
            ends.append((int(self.target[e]), 0.0, 0.0))
        best: dict[int, tuple[int, float, float]] = {}
        for end in ends:
            if end[0] not in best or end[1] < best[end[0]][1]:
                best[end[0]] = end
        return list(best.values())

    def along(self, a: Snap, b: Snap) -> tuple[float, float] | None:
        """Seconds and metres from `a` to `b` when both lie on one edge and its direction allows it directly."""
        if a.edge != b.edge:
            return None
        e = a.edge
        if b.fraction >= a.fraction and self.cost[e] >= 0:
            share = b.fraction - a.fraction
            return share * self.cost[e], share * self.length_m[e]
        if b.fraction <= a.fraction and self.reverse_cost[e] >= 0:
            share = a.fraction - b.fraction
            return share * self.reverse_cost[e], share * self.length_m[e]
        return None

    # --- matrices --------------------------------------------------------------------------------------

    def matrix(self, snaps: Sequence[Snap], off_road_mps: float, road_factor: float) -> tuple[np.ndarray, np.ndarray]:
        """Seconds and metres between snapped points (inf where the road cannot connect them)."""
        k = len(snaps)
        inf = math.inf
        ex_v = np.zeros((k, 2), dtype=np.int64)
        ex_s = np.full((k, 2), inf)
        ex_m = np.zeros((k, 2))
        en_v = np.zeros((k, 2), dtype=np.int64)
        en_s = np.full((k, 2), inf)
        en_m = np.zeros((k, 2))
        for i, snap in enumerate(snaps):
            for c, (v, s, m) in enumerate(self.exits(snap)):
                ex_v[i, c], ex_s[i, c], ex_m[i, c] = v, s, m
            for c, (v, s, m) in enumerate(self.entries(snap)):
                en_v[i, c], en_s[i, c], en_m[i, c] = v, s, m
        rows = self.rows(np.unique(ex_v[np.isfinite(ex_s)]).tolist())
        best_s = np.full((k, k), inf)
        best_m = np.full((k, k), inf)
        with np.errstate(invalid="ignore"):  # inf - inf where a pair is unreachable: masked out below
            for a in range(2):
                live = np.isfinite(ex_s[:, a])
                for b in range(2):
                    enc = _gather(rows, ex_v[:, a], en_v[:, b], live)
                    deci = np.floor(enc / SHIFT)
                    seconds = ex_s[:, a, None] + deci / DECI + en_s[None, :, b]
                    metres = ex_m[:, a, None] + (enc - deci * SHIFT) + en_m[None, :, b]
                    better = seconds < best_s
                    best_s = np.where(better, seconds, best_s)
                    best_m = np.where(better, metres, best_m)
        on_edge: dict[int, list[int]] = {}
        for i, snap in enumerate(snaps):
            on_edge.setdefault(snap.edge, []).append(i)
        for members in on_edge.values():
            for i in members:
                for j in members:
                    direct = self.along(snaps[i], snaps[j]) if i != j else None
                    if direct is not None and direct[0] < best_s[i, j]:
                        best_s[i, j], best_m[i, j] = direct
        off = np.array([s.off_road_m for s in snaps]) * road_factor
        best_s = best_s + (off[:, None] + off[None, :]) / off_road_mps
        best_m = best_m + off[:, None] + off[None, :]
        np.fill_diagonal(best_s, 0.0)
        np.fill_diagonal(best_m, 0.0)
        return best_s, best_m

    # --- paths (the map) -------------------------------------------------------------------------------

    def path(self, a: Snap, b: Snap) -> Path | None:
        """The fastest way from `a` to `b` on the roads (None if the roads do not connect them)."""
        if self.along(a, b) is not None:
            return Path(exit_vertex=None, arcs=(), entry_vertex=None)
        exits, entries = self.exits(a), self.entries(b)
        if not exits or not entries:
            return None
        starts = [v for v, _s, _m in exits]
        dist, pred = dijkstra(self.csr, directed=True, indices=starts, return_predecessors=True)
        dist, pred = np.atleast_2d(dist), np.atleast_2d(pred)
        best: tuple[float, int, int] | None = None
        for si, (_v, s0, _m0) in enumerate(exits):
            for v, s1, _m1 in entries:
                total = s0 + np.floor(dist[si, v] / SHIFT) / DECI + s1
                if math.isfinite(total) and (best is None or total < best[0]):
                    best = (total, si, v)
        if best is None:
            return None
        _t, si, v = best
        entry = v
        arcs: list[tuple[int, int, int]] = []
        while v != starts[si]:
            u = int(pred[si, v])
            if u < 0:
                return None
            arcs.append((self._arc_edge[(u, v)], u, v))
            v = u
        arcs.reverse()
        return Path(exit_vertex=starts[si], arcs=tuple(arcs), entry_vertex=entry)


@dataclass(frozen=True)
class Path:
    """`exit_vertex` where the trip joins the graph, the arcs (edge, from, to) driven, `entry_vertex` where it
    leaves it; both None when the two points lie on one edge in its direction (no junction between)."""

    exit_vertex: int | None
    arcs: tuple[tuple[int, int, int], ...]
    entry_vertex: int | None


def _gather(rows: Mapping[int, np.ndarray], src: np.ndarray, dst: np.ndarray, live: np.ndarray) -> np.ndarray:
    out = np.full((len(src), len(dst)), math.inf)
    for i in np.flatnonzero(live):
        out[i] = rows[int(src[i])][dst]
    return out


@dataclass(frozen=True)
class RoadTravelProvider:
    """A `TravelMatrixProvider` on imported roads. Locations with a snap are priced on their network's roads;
    pairs without one (outside every region, or in two different regions) keep `fallback`, the great-circle
    model. Built by dispatch for each solve from the process's loaded graphs; `matrix` does no I/O."""

    graphs: Mapping[int, RoadGraph]
    snaps: Mapping[tuple[float, float], Snap | None]
    fallback: HaversineProvider

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        n = len(locations)
        if n == 0:
            return TravelMatrix((), ())
        seconds, metres = _great_circle(locations, self.fallback)
        groups: dict[int, list[int]] = {}
        snaps: list[Snap | None] = [self.snaps.get(location_key(loc)) for loc in locations]
        for i, snap in enumerate(snaps):
            if snap is not None and snap.network_id in self.graphs:
                groups.setdefault(snap.network_id, []).append(i)
        mps = self.fallback.speed_kmh / 3.6
        for network_id, idx in groups.items():
            graph = self.graphs[network_id]
            road_s, road_m = graph.matrix([snaps[i] for i in idx], mps, self.fallback.road_factor)  # type: ignore[misc]
            ok = np.isfinite(road_s)
            sub = np.ix_(idx, idx)
            seconds[sub] = np.where(ok, np.ceil(road_s - 1e-9), seconds[sub])
            metres[sub] = np.where(ok, np.round(road_m), metres[sub])
        return TravelMatrix(
            tuple(map(tuple, seconds.astype(np.int64).tolist())),
            tuple(map(tuple, metres.astype(np.int64).tolist())),
        )


def _great_circle(locations: Sequence[Location], model: HaversineProvider) -> tuple[np.ndarray, np.ndarray]:
    """`model`'s seconds and metres for every pair, vectorised (the same formula and rounding)."""
    lat = np.radians([p.lat for p in locations])
    lon = np.radians([p.lon for p in locations])
    h = (
        np.sin((lat[None, :] - lat[:, None]) / 2) ** 2
        + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin((lon[None, :] - lon[:, None]) / 2) ** 2
    )
    d = 2 * EARTH_RADIUS_M * model.road_factor * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return np.ceil(d / (model.speed_kmh / 3.6) - 1e-9), np.round(d)
