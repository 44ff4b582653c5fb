"""The pure parts (domain rules, optimizer, payload parsing) stay free of web, database and broker code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ["dispatch.domain", "dispatch.core.errors", "routing", "device_gateway.payloads"]
FORBIDDEN = ["fastapi", "starlette", "sqlalchemy", "geoalchemy2", "paho", "psycopg"]


def test_import_linter_contracts_hold():
    """The import-linter contracts in pyproject.toml pass (routing imports nothing of ours)."""
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_pure_modules_load_no_infrastructure():
    """Importing the pure packages at run time pulls in none of the infrastructure libraries."""
    code = (
        "import importlib, json, sys\n"
        f"for m in {PURE!r}:\n"
        "    try: importlib.import_module(m)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if e.name != m: raise\n"
        "print(json.dumps(sorted(k for k in sys.modules)))"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(r.stdout)
    leaked = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert leaked == []
