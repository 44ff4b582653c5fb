import json

import pytest

from routing import HaversineProvider, Location, OsrmTableProvider
from routing.travel import haversine_m

SHANGHAI = Location(31.2304, 121.4737)
BEIJING = Location(39.9042, 116.4074)


def test_haversine_distance_is_right():
    """Great-circle distances match the known Shanghai-Beijing figure (about 1,067 km)."""
    assert 1_060_000 < haversine_m(SHANGHAI, BEIJING) < 1_075_000


def test_default_provider_applies_road_factor_and_speed():
    """Travel time is great-circle × road factor ÷ speed, in whole seconds, same both ways."""
    m = HaversineProvider(speed_kmh=60, road_factor=1.5).matrix([SHANGHAI, BEIJING, SHANGHAI])
    km = haversine_m(SHANGHAI, BEIJING) * 1.5 / 1000
    assert m.seconds[0][1] == m.seconds[1][0]
    assert abs(m.seconds[0][1] - km * 60) <= 1
    assert abs(m.metres[0][1] - km * 1000) <= 1
    assert m.seconds[0][2] == 0 and m.seconds[1][1] == 0
    assert all(isinstance(x, int) for row in m.seconds for x in row)


def test_osrm_adapter_reads_a_table_response():
    """An OSRM table response becomes integer matrices; unroutable pairs fall back to great-circle."""
    calls = []

    def fetch(url: str) -> str:
        calls.append(url)
        return json.dumps(
            {
                "code": "Ok",
                "durations": [[0, 100.4, None], [99.2, 0, 50], [None, 51, 0]],
                "distances": [[0, 1500.6, None], [1490, 0, 700], [None, 710.2, 0]],
            }
        )

    a, b, c = Location(31.0, 121.0), Location(31.01, 121.01), Location(31.02, 121.0)
    m = OsrmTableProvider("http://osrm.local:5000/", fetch).matrix([a, b, c])
    assert len(calls) == 1
    assert calls[0].startswith("http://osrm.local:5000/table/v1/driving/121.000000,31.000000;")
    assert m.seconds[0][1] == 101 and m.metres[0][1] == 1501
    assert m.seconds[1][0] == 100
    fallback = HaversineProvider()
    assert m.seconds[0][2] == fallback.seconds(a, c)


def test_osrm_errors_are_reported():
    """A failed OSRM answer raises a clear error instead of planning with garbage."""
    p = OsrmTableProvider("http://x", lambda url: {"code": "InvalidQuery", "message": "bad coords"})
    with pytest.raises(ValueError, match="InvalidQuery"):
        p.matrix([Location(0, 0), Location(1, 1)])
