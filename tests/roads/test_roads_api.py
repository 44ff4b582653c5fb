"""The roads over HTTP: streets for the board's map, the regions it fits to, sites far from any road."""

from __future__ import annotations

import pytest

from dispatch.core.types import Role
from dispatch.roads.runtime import RUNTIME
from tests.factories import auth_header, make_site, make_user

BOX = "24.930,60.160,24.960,60.180"


@pytest.fixture(autouse=True)
def _fresh_runtime():
    RUNTIME.clear()
    yield
    RUNTIME.clear()


def test_streets_are_geojson_lines_thinned_when_zoomed_out(imported, client, db_session, settings):
    who = auth_header(settings, make_user(db_session, role=Role.dispatcher))
    near = client.get("/api/v1/roads/streets", params={"bbox": BOX, "zoom": 16}, headers=who)
    assert near.status_code == 200
    data = near.json()
    assert data["type"] == "FeatureCollection" and not data["truncated"]
    assert len(data["features"]) == imported.edges
    feature = data["features"][0]
    assert feature["geometry"]["type"] == "LineString" and len(feature["geometry"]["coordinates"]) >= 2
    assert {f["properties"]["class"] for f in data["features"]} >= {"primary", "residential"}
    far = client.get("/api/v1/roads/streets", params={"bbox": BOX, "zoom": 10}, headers=who).json()
    assert 0 < len(far["features"]) < len(data["features"])
    assert {f["properties"]["class"] for f in far["features"]} <= {"primary", "primary_link", "trunk", "motorway"}
    elsewhere = client.get("/api/v1/roads/streets", params={"bbox": "112.9,28.1,113.0,28.3"}, headers=who).json()
    assert elsewhere["features"] == []


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "25,60,24,61", "0,0,30,30"])
def test_a_bad_box_is_a_problem_with_the_field(imported, client, db_session, settings, bbox):
    who = auth_header(settings, make_user(db_session, role=Role.dispatcher))
    r = client.get("/api/v1/roads/streets", params={"bbox": bbox}, headers=who)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(e["pointer"].endswith("bbox") for e in r.json()["errors"])


def test_regions_give_the_extent_to_fit(imported, client, db_session, settings):
    who = auth_header(settings, make_user(db_session, role=Role.manager))
    regions = client.get("/api/v1/roads/regions", headers=who).json()
    assert [r["region"] for r in regions] == ["helsinki"]
    west, south, east, north = regions[0]["bbox"]
    assert 24.9 < west < east < 25.0 and 60.1 < south < north < 60.2


def test_a_site_far_from_any_road_is_reported_with_its_distance(imported, client, db_session, settings):
    island, _ = make_site(db_session, lat=60.16110, lon=24.95620)  # Valkosaari, in the harbour
    kerb, _ = make_site(db_session, lat=60.16990, lon=24.94100)
    who = auth_header(settings, make_user(db_session, role=Role.dispatcher))
    far = client.get("/api/v1/roads/far-from-road", headers=who).json()
    by_id = {(f["kind"], f["id"]): f for f in far}
    assert ("site", island.id) in by_id and ("site", kerb.id) not in by_id
    assert by_id[("site", island.id)]["metres_from_road"] > 250
    assert by_id[("site", island.id)]["region"] == "helsinki"


def test_technicians_cannot_read_the_road_map(imported, client, db_session, settings):
    who = auth_header(settings, make_user(db_session, role=Role.technician))
    assert client.get("/api/v1/roads/regions", headers=who).status_code == 403
