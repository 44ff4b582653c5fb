"""The long API fuzzing run (the bounded one is tests/test_fuzz_api.py).

Runs schemathesis against a running Onsite24 (e.g. `make demo`) as each role and prints the failures:

    .venv/bin/python bench/fuzz.py --url http://127.0.0.1:8024 --password onsite24demo --max-examples 200

Every failure is a bug to fix: a 5xx, an undocumented status code or content type, or a response that does
not match the schema.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx

ROLES = {"dispatcher": "dispatcher", "agent": "agent", "manager": "manager", "technician": "tech01"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8024")
    parser.add_argument("--password", default="onsite24demo")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--roles", default=",".join(ROLES))
    args = parser.parse_args()
    st = Path(sys.executable).with_name("schemathesis")
    failed = 0
    for role in args.roles.split(","):
        login = httpx.post(f"{args.url}/api/v1/auth/token", data={"username": ROLES[role], "password": args.password})
        login.raise_for_status()
        token = login.json()["access_token"]
        print(f"== {role}", flush=True)
        result = subprocess.run(
            [
                str(st),
                "run",
                f"{args.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--max-examples",
                str(args.max_examples),
                "--exclude-checks",
                "positive_data_acceptance",
                "--exclude-path",
                "/readyz",
            ],
            check=False,
        )
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
