"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dispatch.core.mqtt import broker_reachable

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database and the broker are reachable (503 otherwise)",
    responses={503: {"description": "A dependency is unreachable"}},
)
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, dict[str, object]] = {}
    try:
        with request.app.state.probe_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = {"ok": True}
    except SQLAlchemyError as exc:
        checks["database"] = {"ok": False, "detail": exc.__class__.__name__}
    ok, detail = broker_reachable(request.app.state.settings)
    checks["broker"] = {"ok": ok, "detail": detail}
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )
