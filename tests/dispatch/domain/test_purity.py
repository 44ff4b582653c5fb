"""The pure domain imports no web, database or broker library, so it runs anywhere and tests fast."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "geoalchemy2", "paho", "psycopg")
MODULES = (
    "policy",
    "conditions",
    "grading",
    "calendar",
    "sla",
    "escalation",
    "lifecycle",
    "alarms",
    "geo",
    "sync",
)


def test_domain_imports_nothing_impure() -> None:
    """Importing every domain module loads none of the forbidden libraries."""
    code = (
        "import sys\n"
        + "".join(f"import dispatch.domain.{m}\n" for m in MODULES)
        + f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
