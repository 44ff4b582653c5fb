"""The rooms stay as they are: the pure parts (domain rules, optimizer, payload parsing) free of web, database
and broker code, and dispatch out of its leaves (technician_api, device_gateway) outside the composition root."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PURE = ["dispatch.domain", "dispatch.core.errors", "routing", "device_gateway.payloads"]
FORBIDDEN = ["fastapi", "starlette", "sqlalchemy", "geoalchemy2", "paho", "psycopg"]


def test_import_linter_contracts_hold():
    """The import-linter contracts in pyproject.toml pass (routing imports nothing of ours, dispatch stays out of
    technician_api and device_gateway outside its composition root)."""
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


COMPOSITION_ROOT = {ROOT / "dispatch" / "app.py", ROOT / "dispatch" / "cli.py"}
LEAF_MODULE = re.compile(r"^(technician_api|device_gateway)(\.\w+)*$")


def test_dispatch_names_no_leaf_module_outside_the_composition_root():
    """A module loaded by name (importlib, a job list) is an import import-linter cannot see: outside
    dispatch/app.py and dispatch/cli.py, dispatch names no technician_api or device_gateway module."""
    named = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value}"
        for path in sorted((ROOT / "dispatch").rglob("*.py"))
        if path not in COMPOSITION_ROOT
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and LEAF_MODULE.match(node.value)
    ]
    assert named == []
