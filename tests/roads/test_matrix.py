"""Road travel on central Helsinki: snapping, the matrix against pgRouting, one-way streets, the fallbacks."""

from __future__ import annotations

import math
import random

import pytest
from sqlalchemy import text

from dispatch.roads.graph import RoadTravelProvider
from dispatch.roads.runtime import RUNTIME, road_travel
from routing.problem import Location
from routing.travel import HaversineProvider

CENTRE = Location(60.1699, 24.9410)  # Kaivokatu, by the central railway station


@pytest.fixture(autouse=True)
def _fresh_runtime():
    RUNTIME.clear()
    yield
    RUNTIME.clear()


def _vertices(db_session, network_id: int, count: int, seed: int = 7) -> list[tuple[int, Location]]:
    rows = db_session.execute(
        text("SELECT id, ST_Y(geom), ST_X(geom) FROM road_vertices WHERE network_id = :n ORDER BY id"),
        {"n": network_id},
    ).all()
    picked = random.Random(seed).sample(rows, count)
    return [(r[0], Location(r[1], r[2])) for r in picked]


def _pgr_matrix(db_session, network_id: int, vertex_ids: list[int]) -> dict[tuple[int, int], float]:
    rows = db_session.execute(
        text(
            "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCostMatrix("
            " format('SELECT id, source, target, cost, reverse_cost FROM road_edges WHERE network_id = %s', :n),"
            " CAST(:ids AS bigint[]), directed => true)"
        ),
        {"n": network_id, "ids": vertex_ids},
    ).all()
    return {(int(a), int(b)): float(c) for a, b, c in rows}


def test_no_network_keeps_the_great_circle_model(db_session, policy):
    provider = road_travel(db_session, policy, [CENTRE, Location(60.18, 24.95)])
    assert isinstance(provider, HaversineProvider)


def test_matrix_between_junctions_matches_pgrouting(imported, db_session, policy):
    """At junctions (no access legs), our Dijkstra's times are pgRouting's, direction by direction."""
    picked = _vertices(db_session, imported.network_id, 25)
    provider = road_travel(db_session, policy, [loc for _v, loc in picked])
    assert isinstance(provider, RoadTravelProvider)
    matrix = provider.matrix([loc for _v, loc in picked])
    expected = _pgr_matrix(db_session, imported.network_id, [v for v, _loc in picked])
    asymmetric = 0
    for i, (vi, _li) in enumerate(picked):
        for j, (vj, _lj) in enumerate(picked):
            if i == j:
                continue
            # Snapped onto a junction's edge at its end: the access legs are (nearly) zero. Tenths of a second
            # per edge and rounding up to whole seconds: within 2 s of pgRouting's exact sum.
            assert abs(matrix.seconds[i][j] - expected[(vi, vj)]) <= 2.0, (vi, vj)
            asymmetric += abs(matrix.seconds[i][j] - matrix.seconds[j][i]) > 20
    assert asymmetric > 0, "one-way streets make some trips longer one way than back"


def test_one_way_street_is_driven_its_own_way_only(imported, db_session, policy):
    """Two points on one one-way street: forward is a short drive, backward goes around the block."""
    edge = db_session.execute(
        text(
            "SELECT id, source, target, cost, length_m, ST_Y(ST_LineInterpolatePoint(geom, 0.25)) AS lat1,"
            " ST_X(ST_LineInterpolatePoint(geom, 0.25)) AS lon1, ST_Y(ST_LineInterpolatePoint(geom, 0.75)) AS lat2,"
            " ST_X(ST_LineInterpolatePoint(geom, 0.75)) AS lon2 FROM road_edges"
            " WHERE network_id = :n AND cost > 0 AND reverse_cost < 0 AND length_m > 60 AND ST_NPoints(geom) = 2"
            " ORDER BY length_m DESC LIMIT 1"
        ),
        {"n": imported.network_id},
    ).one()
    a, b = Location(edge.lat1, edge.lon1), Location(edge.lat2, edge.lon2)
    provider = road_travel(db_session, policy, [a, b])
    matrix = provider.matrix([a, b])
    forward, backward = matrix.seconds[0][1], matrix.seconds[1][0]
    assert forward == pytest.approx(0.5 * edge.cost, abs=2)
    around = db_session.scalar(
        text(
            "SELECT agg_cost FROM pgr_dijkstra(format('SELECT id, source, target, cost, reverse_cost FROM road_edges"
            " WHERE network_id = %s', :n), CAST(:t AS bigint), CAST(:s AS bigint), directed => true)"
            " ORDER BY path_seq DESC LIMIT 1"
        ),
        {"n": imported.network_id, "s": edge.source, "t": edge.target},
    )
    # From b on to the street's end, around the block back to its start, then a quarter of it to a.
    assert backward == pytest.approx(0.25 * edge.cost + around + 0.25 * edge.cost, abs=3)
    assert backward > forward + 20


def test_sites_snap_to_the_nearest_road_and_far_ones_are_reported(imported, db_session, policy):
    on_road = db_session.execute(
        text(
            "SELECT ST_Y(p), ST_X(p) FROM (SELECT ST_LineInterpolatePoint(geom, 0.5) AS p FROM road_edges"
            " WHERE network_id = :n AND name = 'Bulevardi' ORDER BY id LIMIT 1) s"
        ),
        {"n": imported.network_id},
    ).one()
    kerb = Location(on_road[0] + 0.0001, on_road[1])  # 11 m beside Bulevardi
    sea = Location(60.1500, 24.9450)  # about 1.6 km south of the extract, in the harbour: a tower on a rock
    away = Location(61.4978, 23.7610)  # Tampere: outside the region altogether
    snaps = RUNTIME.snaps(db_session, policy, [kerb, sea, away])
    near, far, outside = (snaps[(round(p.lat, 7), round(p.lon, 7))] for p in (kerb, sea, away))
    assert near is not None and near.off_road_m < 15
    assert far is not None and far.off_road_m > policy.roads.snap_report_metres
    assert outside is None
    provider = road_travel(db_session, policy, [kerb, sea, away])
    matrix = provider.matrix([kerb, sea, away])
    great = HaversineProvider(speed_kmh=policy.routing.speed_kmh, road_factor=policy.routing.road_factor)
    # Outside every region: the great-circle model, unchanged.
    assert matrix.seconds[0][2] == great.seconds(kerb, away)
    assert matrix.seconds[2][1] == great.seconds(away, sea)
    # The far site: its last leg to the road is priced as a straight line at the great-circle speed.
    last_leg = far.off_road_m * policy.routing.road_factor / (policy.routing.speed_kmh / 3.6)
    assert matrix.seconds[0][1] >= last_leg
    assert matrix.metres[0][1] >= far.off_road_m * policy.routing.road_factor


def test_matrices_are_cached_between_replans(imported, db_session, policy):
    picked = [loc for _v, loc in _vertices(db_session, imported.network_id, 30, seed=3)]
    first = road_travel(db_session, policy, picked).matrix(picked)
    graph = next(iter(RUNTIME.graphs(db_session, policy).values()))
    cached = graph.cached_rows
    assert cached > 0
    again = road_travel(db_session, policy, picked).matrix(picked)
    assert again == first and graph.cached_rows == cached  # no new Dijkstra for the same sites
    one_more = [*picked, CENTRE]
    bigger = road_travel(db_session, policy, one_more).matrix(one_more)
    assert graph.cached_rows <= cached + 2  # a new site costs at most one search per direction it can leave by
    assert all(bigger.seconds[i][j] == first.seconds[i][j] for i in range(30) for j in range(30))


def test_road_times_are_no_faster_than_the_roads_allow(imported, db_session, policy):
    """Sanity on real streets: no trip beats the straight line at the fastest class speed."""
    picked = [loc for _v, loc in _vertices(db_session, imported.network_id, 20, seed=11)]
    matrix = road_travel(db_session, policy, picked).matrix(picked)
    fastest = max(policy.roads.speeds_kmh.values()) / 3.6
    great = HaversineProvider(speed_kmh=1, road_factor=1)
    for i, a in enumerate(picked):
        for j, b in enumerate(picked):
            if i != j:
                straight = great.metres(a, b)
                assert matrix.metres[i][j] >= straight - 1
                assert matrix.seconds[i][j] >= math.floor(straight / fastest) - 1
