"""The HTTP edge of errors: every failure leaves as RFC 9457 application/problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.core.deps import get_locale
from dispatch.core.errors import DomainError, FieldError, IllegalTransition, StaleUpdate
from dispatch.core.i18n import gettext as _
from dispatch.core.i18n import has_key, tag, text_or

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


def _title(code: str, fallback: str, locale: str) -> str:
    # Every problem code has its title in the catalogues as error.<code>.title (checked by tests/test_i18n.py).
    return text_or(f"error.{code}.title", fallback, locale)


def _word(prefix: str, value: str, locale: str) -> str:
    """A state or action name in the reader's language (status.on_site → 在现场), the code if unknown."""
    return text_or(f"{prefix}.{value}", value, locale)


def _params(exc: DomainError, locale: str) -> dict[str, Any]:
    if isinstance(exc, IllegalTransition):
        allowed = [_word("action", a, locale) for a in exc.allowed]
        return {
            "state": _word("status", exc.state, locale),
            "action": _word("action", exc.action, locale),
            "allowed": _("list.separator", locale).join(allowed) if allowed else _("list.none", locale),
        }
    return exc.params


def _field_detail(error: FieldError, locale: str) -> str:
    return text_or(error.key, error.detail, locale, **error.params)


# Pydantic's error types whose message we translate (validation.<type>); others keep pydantic's English.
def _validation_detail(error: dict[str, Any], locale: str) -> str:
    kind = str(error.get("type", ""))
    key = f"validation.{kind}"
    fallback = str(error.get("msg", "invalid"))
    if not has_key(key):
        return fallback
    ctx = {
        k: (", ".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in (error.get("ctx") or {}).items()
    }
    return text_or(key, fallback, locale, **ctx)


def localised(exc: DomainError, locale: str) -> tuple[str, str, list[str]]:
    """(title, detail, field details) of a domain error in `locale`, for problem bodies and HTML pages."""
    return (
        _title(exc.code, exc.title, locale),
        text_or(exc.key, exc.detail, locale, **_params(exc, locale)),
        [_field_detail(e, locale) for e in exc.errors],
    )


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
    locale: str | None = None,
) -> JSONResponse:
    if locale is not None:
        # Caches must not hand one reader's language to another.
        headers = {**(headers or {}), "Content-Language": tag(locale), "Vary": "Accept-Language"}
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
        if exc.status == 503:
            headers = {"Retry-After": "5"}
        locale = get_locale(request)
        title, detail, details = localised(exc, locale)
        return problem_response(
            request,
            status=exc.status,
            title=title,
            detail=detail,
            code=exc.code,
            errors=[{"pointer": e.pointer, "detail": d} for e, d in zip(exc.errors, details, strict=True)],
            extra=exc.extra,
            headers=headers,
            locale=locale,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = get_locale(request)
        errors = [
            {"pointer": _pointer(e.get("loc", ())), "detail": _validation_detail(e, locale)} for e in exc.errors()
        ]
        fields = ", ".join(e["pointer"] for e in errors)
        return problem_response(
            request,
            status=422,
            title=_title("validation-error", "Invalid input", locale),
            detail=_("error.validation-error.fields", locale, fields=fields),
            code="validation-error",
            errors=errors,
            locale=locale,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        locale = get_locale(request)
        code = f"http-{exc.status_code}"
        fallback = str(exc.detail) if exc.status_code < 500 else "Server error"
        return problem_response(
            request,
            status=exc.status_code,
            title=_title(code, fallback, locale),
            detail=text_or(f"error.{code}.detail", str(exc.detail), locale),
            code=code,
            headers=getattr(exc, "headers", None),
            locale=locale,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        # Two writers changed the same ticket at once and the version check refused the later one: a conflict the
        # caller resolves by sending again (with the same Idempotency-Key), not a server fault.
        log.info("concurrent change refused on %s %s: %s", request.method, request.url.path, exc)
        conflict = StaleUpdate(
            "The ticket changed at the same moment (someone else updated it); send the request again.",
            key="error.ticket.changed-meanwhile",
        )
        return await _domain(request, conflict)

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        # The database refused a value (out of range, malformed): the client's input, not a server fault.
        log.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc.orig)
        locale = get_locale(request)
        return problem_response(
            request,
            status=422,
            title=_title("validation-error", "Invalid input", locale),
            detail=_("error.validation-error.database", locale),
            code="validation-error",
            locale=locale,
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
        locale = get_locale(request)
        return problem_response(
            request,
            status=500,
            title=_title("server-error", "Server error", locale),
            detail=_("error.server-error.detail", locale),
            code="server-error",
            locale=locale,
        )
