"""The HTTP edge of errors: every failure leaves as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.core.errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


def _pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    """JSON pointer from a pydantic location, dropping the leading 'body'/'query' marker."""
    parts = [str(p) for p in loc]
    source = parts[0] if parts and parts[0] in {"body", "query", "path", "header", "cookie"} else None
    if source == "body":
        parts = parts[1:]
    escaped = [p.replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped)


def problem_response(
    request: Request,
    *,
    status: int,
    title: str,
    detail: str,
    code: str,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://onsite24.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if exc.status == 429 and "retry_after" in exc.extra:
            headers = {"Retry-After": str(exc.extra["retry_after"])}
        return problem_response(
            request,
            status=exc.status,
            title=exc.title,
            detail=exc.detail,
            code=exc.code,
            errors=[{"pointer": e.pointer, "detail": e.detail} for e in exc.errors],
            extra=exc.extra,
            headers=headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"pointer": _pointer(e.get("loc", ())), "detail": e.get("msg", "invalid")} for e in exc.errors()]
        fields = ", ".join(e["pointer"] for e in errors)
        return problem_response(
            request,
            status=422,
            title="Invalid input",
            detail=f"The request has invalid fields: {fields}",
            code="validation-error",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(
            request,
            status=exc.status_code,
            title=str(exc.detail) if exc.status_code < 500 else "Server error",
            detail=str(exc.detail),
            code=f"http-{exc.status_code}",
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (out of range, malformed): the client's input, not a server fault.
        log.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(
            request,
            status=422,
            title="Invalid input",
            detail="A value is out of range or malformed for this field.",
            code="validation-error",
        )

    @app.exception_handler(OperationalError)
    async def _unavailable(request: Request, exc: OperationalError) -> JSONResponse:
        # The database cannot be reached right now (restart, failover, network) or gave up on the transaction
        # (deadlock, serialisation): a temporary condition, not a bug, so 503 with Retry-After rather than a 500.
        # The soak (bench/soak.py --faults) restarts PostgreSQL under load and found these answered as 500s.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(
            request,
            status=503,
            title="Service unavailable",
            detail="The database is unavailable at the moment; retry shortly (with the same Idempotency-Key).",
            code="unavailable",
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            request,
            status=500,
            title="Server error",
            detail="An unexpected error occurred; it has been logged.",
            code="server-error",
        )
