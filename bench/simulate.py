"""Simulator benchmark: optimizer vs greedy on the shipped scenarios (issue 5, "Simulator").

python bench/simulate.py            # both scenarios, both policies; writes docs/benchmarks.md
python bench/simulate.py --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from solomon import replace_section  # noqa: E402  (bench/ is the script directory)

from routing.simulate import run_simulation  # noqa: E402

SCENARIOS = ["city_cranes_elevators", "province_base_stations"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--time-limit", type=float, default=0.1, help="solver limit per re-plan (s)")
    ap.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()

    rows = []
    for name in args.scenarios.split(","):
        sc = json.loads((ROOT / "bench" / "scenarios" / f"{name}.json").read_text())
        for policy in ("greedy", "optimizer"):
            t0 = time.perf_counter()
            res = run_simulation(sc, policy, time_limit_s=args.time_limit)
            res["wall_s"] = round(time.perf_counter() - t0, 1)
            res["scenario"] = name
            res["technicians"] = len(sc["technicians"])
            rows.append(res)
            print(json.dumps(res), flush=True)

    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        f"Measured {when}, 2 shared cores (load average at the end {load}), OR-Tools 9.15. "
        "Optimizer: rolling-horizon re-plan of all pending "
        f"work at every event, {args.time_limit:g} s per solve, one search process, a visit committed only "
        "when the technician leaves for it. Greedy: first come first served, nearest skilled technician "
        "who can start soonest. On time = on site (service start) before the promise; late minutes p95 "
        "over the tickets that were late or never served.",
        "",
        "Reproduce: `python bench/scenarios/generate.py && python bench/simulate.py` "
        "(or `python -m routing.simulate --scenario bench/scenarios/<name>.json --policy optimizer --json`).",
        "",
        "| scenario | policy | tickets | on time | rate | major | serious | general | late min p95 | km "
        "| re-plans | re-plan ms p95 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        g = r["by_grade"]

        def cell(grade: str, g: dict = g) -> str:
            return f"{g[grade]['on_time']}/{g[grade]['tickets']}"

        lines.append(
            f"| {r['scenario']} | {r['policy']} | {r['tickets']} | {r['on_time']} | "
            f"{r['on_time_rate']:.1%} | "
            f"{cell('major')} | {cell('serious')} | {cell('general')} | {r['late_minutes_p95']} | "
            f"{r['travel_km']} | {r['replans']} | {r['replan_ms_p95']} |"
        )
    verdicts = []
    for name in args.scenarios.split(","):
        opt = next(r for r in rows if r["scenario"] == name and r["policy"] == "optimizer")
        gre = next(r for r in rows if r["scenario"] == name and r["policy"] == "greedy")
        better = opt["on_time_rate"] > gre["on_time_rate"]
        verdicts.append(
            f"{name}: optimizer {'beats' if better else 'does NOT beat'} greedy "
            f"({opt['on_time_rate']:.1%} vs {gre['on_time_rate']:.1%})"
        )
    lines += ["", "; ".join(verdicts) + "."]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        replace_section(args.doc, "## Simulator: optimizer vs greedy", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
