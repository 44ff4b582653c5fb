"""`onsite24 roads import` as an operator runs it: progress on the way, a clear refusal for a bad file."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.roads.models import RoadNetwork
from tests.test_cli import onsite24


def test_roads_import_shows_progress_and_refuses_a_broken_file(live_db, database_url, helsinki, tmp_path):
    env = {"ONSITE24_DATABASE_URL": database_url, "ONSITE24_ENVIRONMENT": "demo"}
    r = onsite24("roads", "import", str(helsinki), "--region", "helsinki", env=env)
    assert r.returncode == 0, r.stderr
    assert "reading" in r.stderr and "road edges" in r.stderr and "junctions" in r.stderr
    assert "Region 'helsinki'" in r.stdout
    with Session(live_db) as s:
        first = s.scalar(select(RoadNetwork.id).where(RoadNetwork.status == "active"))

    broken = tmp_path / "newer.osm.pbf"
    broken.write_bytes(helsinki.read_bytes()[:20000])
    refused = onsite24("roads", "import", str(broken), "--region", "helsinki", env=env)
    assert refused.returncode == 1
    assert "Refused" in refused.stderr and "not a readable OpenStreetMap file" in refused.stderr
    assert "Traceback" not in refused.stderr
    listed = onsite24("roads", "list", env=env)
    assert listed.returncode == 0 and "helsinki" in listed.stdout
    with Session(live_db) as s:
        assert list(s.scalars(select(RoadNetwork.id))) == [first]
