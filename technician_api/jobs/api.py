"""Routes of the technician app (role technician, own jobs only) and the office's return-visit log."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUploadFile

from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import RequestLocale
from dispatch.core.errors import DomainError, FieldError, Unprocessable
from dispatch.core.settings import Settings
from dispatch.core.texts import word
from dispatch.core.timestamps import Timestamp
from dispatch.photos.deps import AppStorage
from dispatch.return_visits.schemas import ReturnVisitIn, ReturnVisitLogged, ReturnVisitOut
from dispatch.return_visits.service import list_return_visits, log_return_visit
from dispatch.visits.models import JobEvent, Part
from technician_api.deps import AnyUser, AppRules, OfficeStaff, TechnicianCaller
from technician_api.jobs import photos as photo_service
from technician_api.jobs import queries
from technician_api.jobs.schemas import EventResult, JobEventIn, JobOut, JobPage, PartOut, PhotoOut
from technician_api.jobs.service import Actor, apply_event

router = APIRouter(tags=["technician"])


class PayloadTooLarge(DomainError):
    code = "payload-too-large"
    title = "The upload is too large"
    status = 413


def _etag_response(request: Request, body: bytes) -> Response:
    """200 with an ETag of the body, or 304 when the app already holds this version.

    The validator is weak (W/): the same page goes out gzipped to a phone that accepts it and plain to one that
    does not, and a strong ETag would have to differ between those bytes. Conditional GETs compare weakly.
    """
    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    # The body is in the reader's language (texts next to the codes), hence Vary on the language too.
    headers = {"ETag": etag, "Cache-Control": "private, no-cache", "Vary": "Authorization, Accept-Language"}
    match = request.headers.get("if-none-match", "")
    opaque = etag.removeprefix("W/")
    if match and (match.strip() == "*" or opaque in [m.strip().removeprefix("W/") for m in match.split(",")]):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)


@router.get("/me/jobs", response_model=JobPage, summary="My jobs today and upcoming, in route order")
def my_jobs(
    request: Request,
    session: DbSession,
    me: TechnicianCaller,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
    *,
    locale: RequestLocale,
) -> Response:
    assert me.technician_id is not None
    body = queries.list_jobs_json(session, technician_id=me.technician_id, limit=limit, offset=offset, locale=locale)
    return _etag_response(request, body)


@router.get("/me/jobs/{job_id}", response_model=JobOut, summary="One of my jobs")
def my_job(request: Request, job_id: int, session: DbSession, me: TechnicianCaller, locale: RequestLocale) -> Response:
    assert me.technician_id is not None
    body = queries.get_job_json(session, technician_id=me.technician_id, visit_id=job_id, locale=locale)
    return _etag_response(request, body)


@router.post("/jobs/{job_id}/events", response_model=EventResult, summary="Report what happened on my job")
def post_event(
    request: Request,
    job_id: int,
    event: JobEventIn,
    session: DbSession,
    me: TechnicianCaller,
    rules: AppRules,
    idempotency_key: Annotated[str | None, Header(min_length=8, max_length=100)] = None,
    *,
    locale: RequestLocale,
) -> EventResult:
    assert me.technician_id is not None
    if idempotency_key:
        stored = session.scalar(
            select(JobEvent).where(
                JobEvent.technician_id == me.technician_id,
                JobEvent.idempotency_key == idempotency_key,
                JobEvent.outcome == "applied",
            )
        )
        if stored is not None:
            return EventResult.model_validate(_with_texts(stored.result, locale))
    settings: Settings = request.app.state.settings
    result = apply_event(
        session,
        actor=Actor(user_id=me.user_id, technician_id=me.technician_id),
        visit_id=job_id,
        event=event,
        received_at=utcnow(),
        rules=rules,
        settings=settings,
        idempotency_key=idempotency_key,
    )
    return EventResult.model_validate(_with_texts(result, locale))


def _with_texts(result: dict[str, Any], locale: str) -> dict[str, Any]:
    """The stored result (codes) with words for the phone in the reader's language (not stored: a replay
    of the same event may come from a phone set to another language)."""
    return {
        **result,
        "job_status_text": word("status", result.get("job_status"), locale),
        "ticket_status_text": word("status", result.get("ticket_status"), locale),
        "action_texts": {a: word("action", a, locale) for a in result.get("allowed_actions", [])},
    }


_MULTIPART_OVERHEAD = 16 * 1024
_PHOTO_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/jobs/{job_id}/photos",
    response_model=PhotoOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a photo of my job (JPEG, PNG or WebP)",
    openapi_extra=_PHOTO_BODY,
)
async def upload_photo(
    request: Request, job_id: int, session: DbSession, me: TechnicianCaller, storage: AppStorage
) -> PhotoOut:
    limit = request.app.state.settings.max_upload_bytes
    # Refuse an oversized upload from its Content-Length before the multipart parser spools it.
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _MULTIPART_OVERHEAD:
        raise PayloadTooLarge(
            f"Photos may be at most {limit // 1024} KiB.", key="error.photo.too-large", params={"kib": limit // 1024}
        )
    form = await request.form(max_files=1, max_fields=5)
    file = form.get("file")
    if not isinstance(file, StarletteUploadFile):
        raise Unprocessable(
            "Send the photo as multipart field 'file'.",
            errors=[FieldError("/file", "required", key="field.required")],
            key="error.photo.missing",
        )
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            f"Photos may be at most {limit // 1024} KiB.", key="error.photo.too-large", params={"kib": limit // 1024}
        )
    taken_at = _taken_at(form.get("taken_at"))
    photo = await run_in_threadpool(
        photo_service.upload_photo,
        session,
        storage,
        principal=me,
        visit_id=job_id,
        data=data,
        taken_at=taken_at,
        now=utcnow(),
    )
    return PhotoOut(
        id=photo.id,
        job_id=photo.visit_id,
        content_type=photo.content_type,
        size_bytes=photo.size_bytes,
        url=f"/api/v1/photos/{photo.id}",
        taken_at=photo.taken_at,
    )


_AWARE = TypeAdapter(Timestamp)


def _taken_at(value: object) -> datetime | None:
    """The optional form field `taken_at`: when the phone took the picture, ISO 8601 with its offset."""
    if value is None or value == "":
        return None
    try:
        return _AWARE.validate_python(value)
    except ValidationError as exc:
        raise Unprocessable(
            "taken_at must be a date and time with its offset (ISO 8601).",
            errors=[FieldError("/taken_at", "not a timezone-aware date and time", key="error.photo.taken-at")],
            key="error.photo.taken-at",
        ) from exc


@router.get("/photos/{photo_id}", summary="A job photo (its technician and office staff only)")
def get_photo(photo_id: str, session: DbSession, who: AnyUser, storage: AppStorage) -> Response:
    photo = photo_service.read_photo(session, storage, principal=who, photo_id=photo_id)
    return Response(
        content=photo.data,
        media_type=photo.content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "ETag": f'"{photo.sha256[:32]}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


@router.get(
    "/jobs/{job_id}/customer-photos/{photo_id}",
    summary="A photo the customer attached to the complaint behind my job (from the portal)",
)
def get_customer_photo(
    job_id: int, photo_id: str, session: DbSession, me: TechnicianCaller, storage: AppStorage
) -> Response:
    photo = photo_service.read_customer_photo(session, storage, principal=me, visit_id=job_id, photo_id=photo_id[:40])
    return Response(
        content=photo.data,
        media_type=photo.content_type,
        headers={
            "Cache-Control": "private, max-age=3600",
            "ETag": f'"{photo.sha256[:32]}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": "inline",
        },
    )


@router.get("/parts", response_model=list[PartOut], summary="The parts list for work reports")
def list_parts(session: DbSession, _who: AnyUser) -> list[PartOut]:
    return [
        PartOut(id=p.id, code=p.code, name=p.name, unit=p.unit, equipment_type=p.equipment_type)
        for p in session.scalars(select(Part).where(Part.is_active).order_by(Part.code))
    ]


@router.get(
    "/tickets/{ticket_id}/return-visits", response_model=list[ReturnVisitOut], summary="Return visits of a ticket"
)
def get_return_visits(ticket_id: int, session: DbSession, _who: OfficeStaff) -> list[ReturnVisitOut]:
    return list_return_visits(session, ticket_id=ticket_id, now=utcnow())


@router.post(
    "/tickets/{ticket_id}/return-visit",
    response_model=ReturnVisitLogged,
    summary="Log the return-visit call (closes a confirmed ticket)",
)
def post_return_visit(ticket_id: int, call: ReturnVisitIn, session: DbSession, who: OfficeStaff) -> ReturnVisitLogged:
    return log_return_visit(session, ticket_id=ticket_id, principal=who, call=call, now=utcnow())
