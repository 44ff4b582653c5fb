"""Travel-matrix providers (issue 5, "Travel").

A provider turns a list of locations into two integer matrices, computed once per solve:
travel time in seconds and distance in metres. The default is great-circle distance × a road
factor ÷ a speed; ``OsrmTableProvider`` adapts an OSRM ``/table`` service through an injected fetch
function, so the routing package itself does no I/O and imports no HTTP client.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from routing.problem import Location

__all__ = [
    "HaversineProvider",
    "LatLon",
    "OsrmTableProvider",
    "TravelMatrix",
    "TravelMatrixProvider",
    "haversine_m",
]

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class TravelMatrix:
    """``seconds[i][j]`` and ``metres[i][j]`` between the i-th and j-th location, integers ≥ 0."""

    seconds: tuple[tuple[int, ...], ...]
    metres: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.seconds)
        if len(self.metres) != n or any(len(r) != n for r in self.seconds) or any(len(r) != n for r in self.metres):
            raise ValueError("travel matrices must be square and of the same size")
        for rows in (self.seconds, self.metres):
            for row in rows:
                if row and (min(row) < 0 or not isinstance(row[0], int) or not isinstance(max(row), int)):
                    raise ValueError(f"travel matrix entries must be integers >= 0, got row {row[:5]!r}…")

    @property
    def size(self) -> int:
        return len(self.seconds)

    @classmethod
    def trusted(cls, seconds: tuple[tuple[int, ...], ...], metres: tuple[tuple[int, ...], ...]) -> TravelMatrix:
        """A matrix this package computed itself (integers >= 0 by construction), without the per-row check:
        checking 1,100 × 1,100 entries twice cost a live re-plan a quarter of a second."""
        m = object.__new__(cls)
        object.__setattr__(m, "seconds", seconds)
        object.__setattr__(m, "metres", metres)
        return m


@runtime_checkable
class TravelMatrixProvider(Protocol):
    """Anything that can price travel between locations."""

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix: ...


class LatLon(Protocol):
    """Anything with WGS84 ``lat`` and ``lon`` in degrees (a ``Location``, dispatch's ``GeoPoint``)."""

    @property
    def lat(self) -> float: ...

    @property
    def lon(self) -> float: ...


def haversine_m(a: LatLon, b: LatLon) -> float:
    """Great-circle distance in metres on a sphere of the mean Earth radius (good to about 0.5 %)."""
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class HaversineProvider:
    """Great-circle distance × ``road_factor`` at ``speed_kmh``; times rounded up to whole seconds."""

    speed_kmh: float = 50.0
    road_factor: float = 1.3

    def __post_init__(self) -> None:
        if not (self.speed_kmh > 0):
            raise ValueError("speed_kmh must be > 0")
        if not (self.road_factor >= 1):
            raise ValueError("road_factor must be >= 1")

    def metres(self, a: Location, b: Location) -> float:
        return haversine_m(a, b) * self.road_factor

    def seconds(self, a: Location, b: Location) -> int:
        return math.ceil(self.metres(a, b) / (self.speed_kmh / 3.6) - 1e-9)

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        """All pairs at once with numpy (the same formula and rounding as ``metres``/``seconds``): a re-plan
        of 1,100 locations spent 2–4 s here in pure Python."""
        n = len(locations)
        if n == 0:
            return TravelMatrix((), ())
        mps = self.speed_kmh / 3.6
        lat = np.radians(np.fromiter((p.lat for p in locations), dtype=np.float64, count=n))
        lon = np.radians(np.fromiter((p.lon for p in locations), dtype=np.float64, count=n))
        cos_lat = np.cos(lat)
        h = (
            np.sin((lat[None, :] - lat[:, None]) / 2) ** 2
            + np.outer(cos_lat, cos_lat) * np.sin((lon[None, :] - lon[:, None]) / 2) ** 2
        )
        d = 2 * EARTH_RADIUS_M * self.road_factor * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        d = np.triu(d, 1)
        d = d + d.T  # exactly symmetric, zero diagonal
        metres = np.rint(d).astype(np.int64)
        seconds = np.ceil(d / mps - 1e-9).astype(np.int64)
        np.fill_diagonal(seconds, 0)
        return TravelMatrix.trusted(tuple(map(tuple, seconds.tolist())), tuple(map(tuple, metres.tolist())))


FetchFn = Callable[[str], str | bytes | dict[str, Any]]


@dataclass(frozen=True)
class OsrmTableProvider:
    """OSRM ``/table/v1/{profile}`` adapter: one request per solve for all pairs.

    ``fetch(url) -> body`` does the HTTP GET (e.g. ``lambda u: httpx.get(u, timeout=5).text``); it is
    injected so this package stays free of I/O. Unroutable pairs (``null``) fall back to the
    great-circle estimate so a gap in the road graph never breaks a plan.
    """

    base_url: str
    fetch: FetchFn
    profile: str = "driving"
    fallback: HaversineProvider = HaversineProvider()

    def url(self, locations: Sequence[Location]) -> str:
        coords = ";".join(f"{loc.lon:.6f},{loc.lat:.6f}" for loc in locations)
        return f"{self.base_url.rstrip('/')}/table/v1/{self.profile}/{coords}?annotations=duration,distance"

    def matrix(self, locations: Sequence[Location]) -> TravelMatrix:
        n = len(locations)
        if n == 0:
            return TravelMatrix((), ())
        body = self.fetch(self.url(locations))
        data = body if isinstance(body, dict) else json.loads(body)
        if data.get("code") != "Ok":
            raise ValueError(f"OSRM table failed: {data.get('code')} {data.get('message', '')}".strip())
        durations = data.get("durations")
        distances = data.get("distances")
        if durations is None or len(durations) != n or any(len(r) != n for r in durations):
            raise ValueError(f"OSRM table returned no {n}×{n} durations")
        seconds = [[0] * n for _ in range(n)]
        metres = [[0] * n for _ in range(n)]
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                dur = durations[i][j]
                dist = distances[i][j] if distances is not None else None
                if dur is None:
                    dur = self.fallback.seconds(locations[i], locations[j])
                if dist is None:
                    dist = self.fallback.metres(locations[i], locations[j])
                seconds[i][j] = math.ceil(float(dur) - 1e-9)
                metres[i][j] = round(float(dist))
        return TravelMatrix(tuple(map(tuple, seconds)), tuple(map(tuple, metres)))
