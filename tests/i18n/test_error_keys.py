"""Every domain error raised with a text also names its catalogue key, so its detail reads in every language."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.i18n.test_api_language import _all_error_classes

ROOT = Path(__file__).resolve().parents[2]
# The portal and customer notices are localised on the portal branch (their keys live in portal.po).
NOT_YET = ("dispatch/notifications/", "dispatch/portal/", "technician_api/notify.py")


def test_raised_domain_errors_carry_a_key() -> None:
    names = {cls.__name__ for cls in _all_error_classes()} - {"IllegalTransition"}  # keyed by the class itself
    missing = []
    for package in ("dispatch", "technician_api", "device_gateway"):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(NOT_YET):
                continue
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.func.id not in names:
                    continue
                if node.args and not any(k.arg == "key" for k in node.keywords):
                    missing.append(f"{relative}:{node.lineno} {node.func.id}")
    assert not missing, f"add key=… (and params=…) to: {missing}"
