"""The customer's pages (`/confirm/{token}`, no account) and the office's view of confirmations."""

from __future__ import annotations

import base64
import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.errors import DomainError, NotFound, Unprocessable
from dispatch.core.settings import Settings
from dispatch.tickets.models import Ticket
from technician_api.confirmation import pages
from technician_api.confirmation import service as svc
from technician_api.confirmation.models import ConfirmationLink
from technician_api.confirmation.schemas import ConfirmationIn, ConfirmationOut, ConfirmationStatus, VerifyOut
from technician_api.deps import AppRules, AppStorage, OfficeStaff, ReportReaders
from technician_api.jobs.return_visits import list_return_visits
from technician_api.reports.pdf import render_report
from technician_api.reports.service import gather_report

router = APIRouter(tags=["confirmation"])
public_router = APIRouter(tags=["customer"], include_in_schema=True)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _html(content: str, nonce: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        content,
        status_code=status,
        headers={
            "Content-Security-Policy": pages.csp(nonce),
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _error(request: Request, exc: DomainError) -> Response:
    if _wants_json(request):
        raise exc  # rendered as application/problem+json by the app's handler
    nonce = pages.new_nonce()
    return _html(pages.error_page(title=exc.title, detail=exc.detail, nonce=nonce), nonce, exc.status)


def _pdf(content: bytes, ticket_id: int) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="service-report-{ticket_id}.pdf"',
            "Cache-Control": "private, no-store",
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
    nonce = pages.new_nonce()
    return _html(pages.form_page(summary, report, action=f"/confirm/{token}", nonce=nonce), nonce)


@public_router.post("/confirm/{token}", response_class=HTMLResponse, summary="Submit the signed confirmation")
async def confirm_submit(request: Request, token: str, session: DbSession, rules: AppRules) -> Response:
    settings: Settings = request.app.state.settings
    raw: dict[str, Any]
    if request.headers.get("content-type", "").startswith("application/json"):
        raw = await request.json()
    else:
        form = await request.form(max_files=0, max_fields=30, max_part_size=1024 * 1024)
        raw = {k: v for k, v in form.items() if isinstance(v, str)}
    values = dict(raw)
    if isinstance(raw.get("satisfied"), str):
        raw["satisfied"] = raw["satisfied"] == "yes"
    now = utcnow()
    try:
        try:
            data = ConfirmationIn.model_validate(raw)
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            raise Unprocessable(f"Please complete: {', '.join(fields)}.") from exc
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
        nonce = pages.new_nonce()
        page = pages.form_page(
            svc.ticket_summary(session, link.ticket_id),
            svc.work_report_view(session, link.visit_id),
            action=f"/confirm/{token}",
            nonce=nonce,
            errors=[exc.detail, *(e.detail for e in exc.errors)],
            values={k: str(v) for k, v in values.items() if k != "signature"},
        )
        return _html(page, nonce, 422)
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
    nonce = pages.new_nonce()
    return _html(
        pages.thanks_page(
            ticket_id=conf.ticket_id, unsatisfied=conf.outcome == "reopened", report_url=report_url, nonce=nonce
        ),
        nonce,
        201,
    )


@public_router.get(
    "/confirm/{token}/report.pdf",
    summary="The customer's copy of the service report",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF report"}},
)
def customer_report(request: Request, token: str, session: DbSession, storage: AppStorage) -> Response:
    try:
        link = svc.signed_link(session, settings=request.app.state.settings, token=token, now=utcnow())
    except DomainError as exc:
        return _error(request, exc)
    return _pdf(render_report(gather_report(session, storage, ticket_id=link.ticket_id, now=utcnow())), link.ticket_id)


@router.get(
    "/tickets/{ticket_id}/confirmation",
    response_model=ConfirmationStatus,
    summary="The customer's confirmation of a ticket, its links and return visits",
)
def get_confirmation(ticket_id: int, session: DbSession, _who: OfficeStaff) -> ConfirmationStatus:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} not found.")
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
def report_pdf(ticket_id: int, session: DbSession, _who: ReportReaders, storage: AppStorage) -> Response:
    return _pdf(render_report(gather_report(session, storage, ticket_id=ticket_id, now=utcnow())), ticket_id)
