"""Run a command with the process clock moved by Debian's libfaketime (`make test-anydate`).

    python3 scripts/anydate/run.py --ahead-days 365 -- .venv/bin/python -m pytest
    python3 scripts/anydate/run.py --dst-change Europe/Berlin -- .venv/bin/python -m pytest

`--ahead-days N` moves the wall clock N days ahead; `--dst-change ZONE` sets TZ=ZONE and starts the clock a few
minutes before that zone's next daylight-saving change (after today), so the run crosses it. The clock then runs
at its normal rate. Every child process (PostgreSQL, Mosquitto, the API servers the tests start) inherits the
moved clock, as a real deployment's processes share one clock. Chromium does not run under libfaketime: the
browser is started without it and its pages are put on the moved clock (tests/harness/browser.py).

Only the wall clock moves (FAKETIME_DONT_FAKE_MONOTONIC): timeouts and durations stay real. A small preloaded
shim (monotonic_sleep.c, compiled here with gcc on first use) works around libfaketime 0.9.10's broken
monotonic sleeps.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
LEAD = timedelta(minutes=5)


def next_dst_change(zone: str, after: datetime) -> datetime:
    """The first instant after `after` at which `zone`'s UTC offset changes (hour resolution, then minutes)."""
    tz = ZoneInfo(zone)
    at = after.replace(minute=0, second=0, microsecond=0)
    offset = at.astimezone(tz).utcoffset()
    for _ in range(2 * 366 * 24):
        step = at + timedelta(hours=1)
        if step.astimezone(tz).utcoffset() != offset:
            while at.astimezone(tz).utcoffset() == offset:
                at += timedelta(minutes=1)
            return at
        at = step
    raise SystemExit(f"{zone} has no daylight-saving change within two years: pick a zone that has one")


def shim() -> Path:
    source = HERE / "monotonic_sleep.c"
    built = HERE.parent.parent / ".onsite24" / "anydate" / "monotonic_sleep.so"
    if not built.exists() or built.stat().st_mtime < source.stat().st_mtime:
        built.parent.mkdir(parents=True, exist_ok=True)
        # The developer's own compiler on the repository's own source file.
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-o", str(built), str(source), "-ldl"], check=True)  # noqa: S603, S607
    return built


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    when = parser.add_mutually_exclusive_group(required=True)
    when.add_argument("--ahead-days", type=int, help="move the wall clock this many days ahead")
    when.add_argument("--dst-change", metavar="ZONE", help="TZ=ZONE, starting just before its next DST change")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if not LIBFAKETIME.exists():
        raise SystemExit(f"{LIBFAKETIME} is missing: scripts/provision.sh anydate installs Debian's faketime")

    env = dict(os.environ)
    env["LD_PRELOAD"] = f"{shim()} {LIBFAKETIME}"
    env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
    if args.ahead_days is not None:
        env["FAKETIME"] = f"+{args.ahead_days}d"
        label = f"the clock {args.ahead_days} days ahead"
    else:
        now = datetime.now(UTC)
        change = next_dst_change(args.dst_change, now)
        start = change - LEAD
        env["TZ"] = args.dst_change
        # An offset, not libfaketime's "@start" form: "@" starts each process's clock at that time when the
        # process starts, so a worker started a minute later would be a minute behind the test that started it.
        env["FAKETIME"] = f"{int((start - now).total_seconds()):+d}"
        label = (
            f"TZ={args.dst_change}, the clock starting at {start.astimezone(ZoneInfo(args.dst_change))}, "
            f"{LEAD} before the daylight-saving change at {change:%Y-%m-%d %H:%M} UTC"
        )
    print(f"anydate: {label}: {' '.join(command)}", flush=True)
    return subprocess.run(command, env=env, check=False).returncode  # noqa: S603 (the developer's own command)


if __name__ == "__main__":
    sys.exit(main())
