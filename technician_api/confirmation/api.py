"""The customer's pages (`/confirm/{token}`, no account) and the office's view of confirmations."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool

from dispatch.confirmations import service as svc
from dispatch.confirmations.models import ConfirmationLink
from dispatch.confirmations.schemas import (
    ConfirmationIn,
    ConfirmationOut,
    ConfirmationStatus,
    DeviceConfirmationIn,
    DeviceConfirmationOut,
    VerifyOut,
)
from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import LANG_COOKIE, RequestLocale
from dispatch.core.errors import DomainError, NotFound, Unprocessable
from dispatch.core.i18n import negotiate, normalize, tag
from dispatch.core.problem import localised
from dispatch.core.settings import Settings
from dispatch.customers.models import Customer, Site
from dispatch.photos.deps import AppStorage
from dispatch.return_visits.service import list_return_visits
from dispatch.service_reports.pdf import render_report
from dispatch.service_reports.service import gather_report
from dispatch.tickets.models import Ticket
from technician_api.confirmation import pages
from technician_api.deps import AppRules, OfficeStaff, ReportReaders, TechnicianCaller
from technician_api.jobs.service import lock_own_visit

router = APIRouter(tags=["confirmation"])
public_router = APIRouter(tags=["customer"], include_in_schema=True)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _ticket_context(session: DbSession, ticket_id: int | None) -> tuple[str | None, str | None]:
    """(the customer's recorded language, the site's time zone) of a ticket, either may be unknown."""
    if ticket_id is None:
        return None, None
    row = session.execute(
        select(Customer.language, Site.timezone)
        .select_from(Ticket)
        .outerjoin(Site, Site.id == Ticket.site_id)
        # A ticket opened by a device alarm may name only the site: its owner is then the customer.
        .outerjoin(Customer, Customer.id == func.coalesce(Ticket.customer_id, Site.customer_id))
        .where(Ticket.id == ticket_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def _page_locale(request: Request, customer_language: str | None = None) -> str:
    """The page's language: ?lang= (the switcher), the language cookie, the customer's recorded language,
    the phone's Accept-Language, the deployment default."""
    return negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        customer_language,
        accept_language=request.headers.get("accept-language"),
        default=request.app.state.settings.default_locale,
    )


def _html(
    content: str, nonce: str, status: int = 200, *, request: Request | None = None, locale: str = "en"
) -> HTMLResponse:
    response = HTMLResponse(
        content,
        status_code=status,
        headers={
            "Content-Security-Policy": pages.csp(nonce),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Language": tag(locale),
        },
    )
    chosen = normalize(request.query_params.get("lang")) if request is not None else None
    if chosen:
        # The customer picked a language with the switcher: keep it for the next pages (submit, report).
        response.set_cookie(LANG_COOKIE, tag(chosen), max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _error(request: Request, exc: DomainError, locale: str | None = None) -> Response:
    if _wants_json(request):
        raise exc  # rendered as application/problem+json by the app's handler
    locale = locale or _page_locale(request)
    title, detail, _details = localised(exc, locale)
    nonce = pages.new_nonce()
    here = request.url.path.removesuffix("/report.pdf")
    page = pages.error_page(title=title, detail=detail, nonce=nonce, locale=locale, here=here)
    return _html(page, nonce, exc.status, request=request, locale=locale)


def _pdf(content: bytes, ticket_id: int, locale: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="service-report-{ticket_id}.pdf"',
            "Cache-Control": "private, no-store",
            "Content-Language": tag(locale),
        },
    )


@public_router.get("/confirm/{token}", response_class=HTMLResponse, summary="The customer's confirmation form")
def confirm_form(request: Request, token: str, session: DbSession) -> Response:
    settings: Settings = request.app.state.settings
    try:
        link = svc.open_link(session, settings=settings, token=token, now=utcnow())
    except DomainError as exc:
        return _error(request, exc)
    summary = svc.ticket_summary(session, link.ticket_id)
    report = svc.work_report_view(session, link.visit_id)
    if _wants_json(request):
        return Response(
            content=json.dumps({"ticket": summary, "work_report": report}, default=str),
            media_type="application/json",
        )
    customer_language, summary["timezone"] = _ticket_context(session, link.ticket_id)
    locale = _page_locale(request, customer_language)
    nonce = pages.new_nonce()
    page = pages.form_page(summary, report, action=f"/confirm/{token}", nonce=nonce, locale=locale)
    return _html(page, nonce, request=request, locale=locale)


@public_router.post("/confirm/{token}", response_class=HTMLResponse, summary="Submit the signed confirmation")
async def confirm_submit(request: Request, token: str, session: DbSession, rules: AppRules) -> Response:
    settings: Settings = request.app.state.settings
    raw: dict[str, Any] = {}
    body_error: Unprocessable | None = None
    if request.headers.get("content-type", "").startswith("application/json"):
        # Anything but a JSON object (broken JSON, invalid UTF-8, an array, deep nesting) is the sender's
        # error, answered like any other invalid field, never a 500 (issue 19).
        try:
            parsed = json.loads(await request.body())
        except (ValueError, RecursionError):
            body_error = Unprocessable("The body is not valid JSON", key="validation.json_invalid")
        else:
            if isinstance(parsed, dict):
                raw = parsed
            else:
                body_error = Unprocessable("Must be an object", key="validation.dict_type")
    else:
        form = await request.form(max_files=0, max_fields=30, max_part_size=1024 * 1024)
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
    values = dict(raw)
    if isinstance(raw.get("satisfied"), str):
        raw["satisfied"] = raw["satisfied"] == "yes"
    if isinstance(raw.get("relationship_kept"), str):
        raw["relationship_kept"] = {"yes": True, "no": False}.get(raw["relationship_kept"])
    now = utcnow()
    try:
        if body_error is not None:
            raise body_error
        try:
            data = ConfirmationIn.model_validate(raw)
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            raise Unprocessable(
                f"Please complete: {', '.join(fields)}.",
                key="error.confirmation.incomplete",
                params={"fields": ", ".join(fields)},
            ) from exc
        conf = await run_in_threadpool(
            svc.submit_confirmation,
            session,
            settings=settings,
            token=token,
            form=data,
            ip=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            now=now,
            return_visit_due_at=rules.calendar.add_working_days(now, rules.policy.clocks.return_visit_working_days),
        )
    except Unprocessable as exc:
        if _wants_json(request):
            raise
        try:
            link = svc.open_link(session, settings=settings, token=token, now=now)
        except DomainError as link_exc:
            return _error(request, link_exc)
        summary = svc.ticket_summary(session, link.ticket_id)
        customer_language, summary["timezone"] = _ticket_context(session, link.ticket_id)
        locale = _page_locale(request, customer_language)
        _title, detail, details = localised(exc, locale)
        nonce = pages.new_nonce()
        page = pages.form_page(
            summary,
            svc.work_report_view(session, link.visit_id),
            action=f"/confirm/{token}",
            nonce=nonce,
            locale=locale,
            errors=[detail, *details],
            values={k: str(v) for k, v in values.items() if k != "signature"},
        )
        return _html(page, nonce, 422, request=request, locale=locale)
    except DomainError as exc:
        return _error(request, exc)
    report_url = f"/confirm/{token}/report.pdf"
    if _wants_json(request):
        return Response(
            content=json.dumps(
                {
                    "ticket_id": conf.ticket_id,
                    "outcome": conf.outcome,
                    "document_sha256": conf.document_sha256,
                    "report_url": report_url,
                }
            ),
            media_type="application/json",
            status_code=201,
        )
    customer_language, _zone = _ticket_context(session, conf.ticket_id)
    locale = _page_locale(request, customer_language)
    nonce = pages.new_nonce()
    page = pages.thanks_page(
        ticket_id=conf.ticket_id,
        unsatisfied=conf.outcome == "reopened",
        report_url=report_url,
        nonce=nonce,
        locale=locale,
        here=f"/confirm/{token}",
    )
    return _html(page, nonce, 201, request=request, locale=locale)


@public_router.get(
    "/confirm/{token}/report.pdf",
    summary="The customer's copy of the service report",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF report"}},
)
def customer_report(request: Request, token: str, session: DbSession, storage: AppStorage) -> Response:
    """In the language of the confirmation pages (?lang=, the cookie, the customer's, the browser's)."""
    try:
        link = svc.signed_link(session, settings=request.app.state.settings, token=token, now=utcnow())
    except DomainError as exc:
        return _error(request, exc)
    locale = _page_locale(request, _ticket_context(session, link.ticket_id)[0])
    data = gather_report(session, storage, ticket_id=link.ticket_id, now=utcnow())
    return _pdf(render_report(data, locale, request.app.state.policy), link.ticket_id, locale)


@router.get(
    "/tickets/{ticket_id}/confirmation",
    response_model=ConfirmationStatus,
    summary="The customer's confirmation of a ticket, its links and return visits",
)
def get_confirmation(ticket_id: int, session: DbSession, _who: OfficeStaff) -> ConfirmationStatus:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.", key="error.ticket.not-found", params={"ticket_id": ticket_id})
    try:
        conf = svc.latest_confirmation(session, ticket_id)
        conf_out = ConfirmationOut(
            id=conf.id,
            ticket_id=conf.ticket_id,
            visit_id=conf.visit_id,
            satisfied=conf.satisfied,
            ratings=conf.ratings,
            comment=conf.comment,
            signer_name=conf.signer_name,
            signer_role=conf.signer_role,
            signed_at=conf.signed_at,
            ip=conf.ip,
            user_agent=conf.user_agent,
            outcome=conf.outcome,
            document_sha256=conf.document_sha256,
            signature_png="data:image/png;base64," + base64.b64encode(conf.signature_png).decode(),
            work_report=conf.work_report,
            relationship_kept=conf.relationship_kept,
            improvements=conf.improvements,
            channel=conf.channel,
        )
    except NotFound:
        conf_out = None
    links = [
        {
            "visit_id": link.visit_id,
            "issued_at": link.issued_at,
            "expires_at": link.expires_at,
            "used_at": link.used_at,
            "revoked_at": link.revoked_at,
            "refused_at": link.refused_at,
            "refusal_reason": link.refusal_reason,
        }
        for link in session.scalars(
            select(ConfirmationLink).where(ConfirmationLink.ticket_id == ticket_id).order_by(ConfirmationLink.issued_at)
        )
    ]
    visits = [t.model_dump() for t in list_return_visits(session, ticket_id=ticket_id, now=utcnow())]
    return ConfirmationStatus(
        ticket_id=ticket_id, ticket_status=ticket.status.value, confirmation=conf_out, links=links, return_visits=visits
    )


@router.get(
    "/tickets/{ticket_id}/confirmation/verify",
    response_model=VerifyOut,
    summary="Recompute the confirmation's SHA-256: detects any edit after signing",
)
def verify(ticket_id: int, session: DbSession, _who: OfficeStaff) -> VerifyOut:
    return VerifyOut.model_validate(svc.verify_confirmation(session, ticket_id))


@router.get(
    "/tickets/{ticket_id}/report.pdf",
    summary="PDF service report (dispatchers and managers)",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF report"}},
)
def report_pdf(
    request: Request,
    ticket_id: int,
    session: DbSession,
    _who: ReportReaders,
    storage: AppStorage,
    locale: RequestLocale,
) -> Response:
    """In the reader's language (their setting, ?lang=, Accept-Language); times in the site's zone."""
    data = gather_report(session, storage, ticket_id=ticket_id, now=utcnow())
    return _pdf(render_report(data, locale, request.app.state.policy), ticket_id, locale)


@router.post(
    "/jobs/{job_id}/confirmation",
    response_model=DeviceConfirmationOut,
    status_code=201,
    summary="The customer's confirmation, filled in and signed on my phone (sent from the app's outbox)",
    responses={200: {"model": DeviceConfirmationOut, "description": "The same key again: the stored result"}},
)
def post_device_confirmation(
    request: Request,
    job_id: int,
    form: DeviceConfirmationIn,
    session: DbSession,
    me: TechnicianCaller,
    rules: AppRules,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")],
) -> Response:
    """The same record, seal and consequences as the customer's one-time link (unsatisfied reopens the ticket);
    after `completed` only. Send it with the `Idempotency-Key` the app keeps with it: a resend answers 200 with
    the stored confirmation and changes nothing. `signed_at` is the phone's time (kept unless in the future)."""
    assert me.technician_id is not None
    now = utcnow()
    lock_own_visit(session, visit_id=job_id, technician_id=me.technician_id)
    conf, duplicate = svc.submit_on_device(
        session,
        settings=request.app.state.settings,
        visit_id=job_id,
        form=form,
        signed_at=form.signed_at,
        idempotency_key=idempotency_key,
        submitted_by_user_id=me.user_id,
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        now=now,
        return_visit_due_at=rules.calendar.add_working_days(now, rules.policy.clocks.return_visit_working_days),
    )
    out = DeviceConfirmationOut(
        ticket_id=conf.ticket_id,
        visit_id=conf.visit_id,
        outcome=conf.outcome,
        signed_at=conf.signed_at,
        document_sha256=conf.document_sha256,
        duplicate=duplicate,
    )
    return Response(out.model_dump_json(), media_type="application/json", status_code=200 if duplicate else 201)
