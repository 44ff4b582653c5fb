import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from routing.simulate import check_trace, main, on_time_bound, run_simulation

TZ = timezone(timedelta(hours=8))
START = datetime(2026, 12, 1, 8, 0, tzinfo=TZ)


def iso(h: float) -> str:
    return (START + timedelta(hours=h)).isoformat()


def scenario() -> dict:
    complaints = []
    for i in range(12):
        complaints.append(
            {
                "id": f"c{i}",
                "reported_at": iso(0.5 * i),
                "lat": 31.2 + 0.02 * ((i * 7) % 5),
                "lon": 121.4 + 0.03 * ((i * 3) % 4),
                "equipment_type": "elevator" if i % 2 else "tower_crane",
                "grade": ["major", "serious", "general"][i % 3],
                "skills": ["elevator"] if i % 2 else ["tower_crane"],
                "service_minutes": 45,
            }
        )
    return {
        "name": "tiny",
        "start": START.isoformat(),
        "horizon_hours": 8,
        "promise_hours": {"major": 4, "serious": 12, "general": 24},
        "travel": {"speed_kmh": 40, "road_factor": 1.3},
        "depots": [
            {"id": "sc", "lat": 31.2, "lon": 121.4, "kind": "service_centre"},
            {"id": "pp", "lat": 31.3, "lon": 121.5, "kind": "partner_point"},
        ],
        "technicians": [
            {
                "id": "lift",
                "depot": "sc",
                "skills": ["elevator"],
                "shifts": [[iso(0), iso(5)], [iso(20), iso(30)]],
            },
            {"id": "crane", "depot": "sc", "skills": ["tower_crane"], "shifts": [[iso(1), iso(9)]]},
            {
                "id": "both",
                "depot": "pp",
                "skills": ["elevator", "tower_crane"],
                "shifts": [[iso(2), iso(6)]],
            },
        ],
        "complaints": complaints,
    }


def _check_trace(sc: dict, trace: list[dict]) -> None:
    assert check_trace(sc, trace) == []


@pytest.mark.parametrize("policy", ["greedy", "optimizer", "clairvoyant"])
def test_trace_obeys_travel_shifts_skills_and_one_visit_at_a_time(policy):
    """Every simulated visit respects travel times, shifts, skills, reports and one job at a time."""
    sc = scenario()
    trace: list[dict] = []
    result = run_simulation(sc, policy, trace.append, time_limit_s=0.05)
    assert trace, "something must be served"
    _check_trace(sc, trace)
    assert result["tickets"] == 12
    assert result["on_time"] <= len(trace)


def test_greedy_trace_on_a_shipped_scenario_obeys_the_rules():
    """Over three days of the city scenario (shift changes, queues) the greedy trace stays legal."""
    path = Path(__file__).resolve().parents[2] / "bench" / "scenarios" / "city_cranes_elevators.json"
    sc = json.loads(path.read_text())
    trace: list[dict] = []
    run_simulation(sc, "greedy", trace.append)
    assert len(trace) > 100
    _check_trace(sc, trace)


def test_output_has_the_documented_keys():
    """The simulator's JSON has the keys the CLI and the benchmark table read."""
    result = run_simulation(scenario(), "greedy")
    assert set(result) == {
        "policy", "tickets", "on_time", "on_time_rate", "by_grade", "late_minutes_p95",
        "travel_km", "replans", "replan_ms_p95",
    }  # fmt: skip
    assert set(result["by_grade"]) == {"major", "serious", "general"}
    assert set(result["by_grade"]["major"]) == {"tickets", "on_time", "rate"}


def test_cli_writes_json_and_trace(tmp_path, capsys):
    """The CLI prints the JSON result and writes one trace line per visit."""
    f = tmp_path / "s.json"
    f.write_text(json.dumps(scenario()))
    tr = tmp_path / "trace.jsonl"
    assert main(["--scenario", str(f), "--policy", "greedy", "--json", "--trace", str(tr)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["policy"] == "greedy"
    lines = [json.loads(x) for x in tr.read_text().splitlines()]
    assert lines and set(lines[0]) == {
        "complaint_id",
        "technician_id",
        "depart_at",
        "arrive_at",
        "start_at",
        "end_at",
    }


def test_bad_scenarios_are_refused():
    """A scenario with a naive start time or an unknown grade fails with a clear message."""
    sc = scenario()
    sc["start"] = "2026-12-01T08:00:00"
    with pytest.raises(ValueError, match="offset"):
        run_simulation(sc, "greedy")
    sc = scenario()
    sc["complaints"][0]["grade"] = "urgent"
    with pytest.raises(ValueError, match="grade"):
        run_simulation(sc, "greedy")
    with pytest.raises(ValueError, match="policy"):
        run_simulation(scenario(), "random")


def test_trace_checker_catches_a_departure_before_the_report():
    """The checker the benchmarks rely on refuses a trace that leaves for a fault before it is reported."""
    sc = scenario()
    trace: list[dict] = []
    run_simulation(sc, "greedy", trace.append)
    rec = dict(trace[-1])
    report = datetime.fromisoformat(next(c for c in sc["complaints"] if c["id"] == rec["complaint_id"])["reported_at"])
    shift = timedelta(hours=1)
    early = {k: (datetime.fromisoformat(v) - (datetime.fromisoformat(rec["depart_at"]) - report) - shift).isoformat()
             for k, v in rec.items() if k.endswith("_at")}  # fmt: skip
    errors = check_trace(sc, [*trace[:-1], {**rec, **early}])
    assert any("before the report" in e for e in errors)


def test_clairvoyant_plan_leaves_no_earlier_than_each_report_and_is_legal():
    """Knowing every complaint in advance, the plan still leaves for each only once it is reported, and its
    trace passes the simulator's checker; the bound is never below what it or the online policy reach."""
    sc = scenario()
    trace: list[dict] = []
    clair = run_simulation(sc, "clairvoyant", trace.append, time_limit_s=0.3)
    reported = {c["id"]: datetime.fromisoformat(c["reported_at"]) for c in sc["complaints"]}
    assert trace
    assert all(datetime.fromisoformat(r["depart_at"]) >= reported[r["complaint_id"]] for r in trace)
    assert check_trace(sc, trace) == []
    online = run_simulation(sc, "optimizer", time_limit_s=0.05)
    bound = on_time_bound(sc)
    assert bound["on_time"] >= max(clair["on_time"], online["on_time"])
    for g in ("major", "serious", "general"):
        assert bound["by_grade"][g]["on_time"] >= clair["by_grade"][g]["on_time"]


def test_bound_counts_only_complaints_someone_can_reach_in_time():
    """A major 300 km away from every depot cannot be on site within 4 hours at 40 km/h: the bound leaves it
    out, while a nearby one reported during a shift counts; one reported after every shift does not."""
    sc = scenario()
    near = {**sc["complaints"][0], "id": "near", "reported_at": iso(1), "grade": "major"}
    far = {**near, "id": "far", "lat": near["lat"] + 2.7}
    late = {**near, "id": "after-shifts", "reported_at": iso(40)}
    sc["complaints"] = [near, far, late]
    bound = on_time_bound(sc)
    assert bound["on_time"] == 1
    assert bound["by_grade"]["major"] == {"tickets": 3, "on_time": 1}
