import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_routing_imports_no_web_db_or_dispatch_modules():
    """The optimiser stays pure: importing it pulls in no web, database, broker or dispatch code."""
    code = (
        "import importlib, pkgutil, sys, routing\n"
        "for m in pkgutil.iter_modules(routing.__path__):\n"
        "    importlib.import_module('routing.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'fastapi','starlette','sqlalchemy','geoalchemy2','paho','psycopg','dispatch','device_gateway',"
        "'technician_api','httpx','pydantic'}]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
