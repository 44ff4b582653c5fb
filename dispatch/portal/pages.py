"""The portal's pages (server-rendered Jinja2, autoescaped, no CDN) and its two small JSON endpoints.

HTML routes answer errors with a friendly page in the reader's language; the JSON endpoints answer with
problem+json like the API. Path ids are parsed here, not by FastAPI, so `/portal/tickets/abc` is a 404 page
rather than a 422 document.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dispatch.confirmations.models import ConfirmationLink
from dispatch.confirmations.service import confirm_url
from dispatch.confirmations.tokens import encode_link
from dispatch.core import i18n
from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import LANG_COOKIE, MAX_ID
from dispatch.core.errors import DomainError, NotFound, Unauthorized, Unprocessable
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.core.types import Category, EquipmentType
from dispatch.customers.models import Customer
from dispatch.domain.impact import IMPACT_FACTS
from dispatch.notifications import customer as customer_notices
from dispatch.photos.deps import get_storage
from dispatch.photos.images import sniff_image_type
from dispatch.portal import auth
from dispatch.portal import service as svc
from dispatch.portal.models import TicketPhoto
from dispatch.portal.tracking import ticket_for_token
from dispatch.service_reports.pdf import render_report
from dispatch.service_reports.service import gather_report
from dispatch.tickets.models import Ticket
from dispatch.tickets.schemas import Impact

router = APIRouter(tags=["portal"], include_in_schema=False)
HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # tokens in /t/ and /portal/sign-in/ paths must not leak to other sites
    "X-Content-Type-Options": "nosniff",
}
TEXT_LIMIT = 2000
POLL_SECONDS = 3


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _customer(request: Request, session: Session) -> Customer | None:
    return svc.customer_of_session(session, auth.session_token(request), utcnow())


def _locale(request: Request, customer: Customer | None = None) -> str:
    """?lang= (the switcher), then the language cookie, the customer's saved language, the browser, default."""
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        customer.language if customer else None,
        accept_language=request.headers.get("accept-language"),
        default=_settings(request).default_locale,
    )


def _render(
    request: Request,
    template: str,
    *,
    locale: str,
    customer: Customer | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    settings = _settings(request)
    seed, new_seed = auth.csrf_seed(request)

    def translate(key: str, **params: Any) -> str:
        return i18n.gettext(key, locale, **params)

    def when(value: datetime | None, tz: str | None = None) -> str:
        return i18n.format_datetime(value, locale, tz, "short") if value else ""

    html = env.get_template(template).render(
        _=translate,
        when=when,
        lang=i18n.tag(locale),
        locale=locale,
        languages=[(i18n.tag(loc), i18n.gettext("language.name", loc)) for loc in i18n.LOCALES],
        path=request.url.path,
        customer=customer,
        csrf=auth.csrf_token(settings, seed),
        grade_label=lambda g: svc.grade_label(str(g), locale),
        status_label=lambda s: svc.status_label(str(s), locale),
        **context,
    )
    response = HTMLResponse(html, status_code=status, headers={**HEADERS, "Content-Language": i18n.tag(locale)})
    if new_seed:
        auth.set_csrf_cookie(response, settings, seed)
    chosen = request.query_params.get("lang")
    if chosen and i18n.normalize(chosen):
        response.set_cookie(LANG_COOKIE, i18n.tag(i18n.normalize(chosen)), max_age=365 * 86400, samesite="lax")
    return response


def _error_page(request: Request, exc: DomainError, locale: str, customer: Customer | None = None) -> HTMLResponse:
    messages = {
        404: i18n.gettext("portal.error.not_found", locale),
        410: i18n.gettext("portal.error.link_invalid", locale),
        429: i18n.gettext("portal.error.too_many", locale),
        403: i18n.gettext("portal.error.csrf", locale),
        422: i18n.gettext("portal.error.invalid", locale),
    }
    message = messages.get(exc.status, i18n.gettext("portal.error.generic", locale))
    return _render(request, "error.html", locale=locale, customer=customer, status=exc.status, message=message)


def _sign_in_redirect() -> RedirectResponse:
    return RedirectResponse("/portal/sign-in", status_code=303)


def _parse_id(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_ID:
        raise NotFound("Not found.")
    return int(raw)


def _csrf_failed(request: Request, locale: str, customer: Customer | None = None) -> HTMLResponse:
    error = DomainError("The form has expired; reload the page and try again.")
    error.status = 403
    return _error_page(request, error, locale, customer)


# ---- signing in ------------------------------------------------------------------------------------------------


@router.get("/portal", response_class=HTMLResponse)
def home(request: Request, session: DbSession) -> Response:
    customer = _customer(request, session)
    if customer is None:
        return _sign_in_redirect()
    locale = _locale(request, customer)
    sites = svc.customer_sites(session, customer.id)
    return _render(
        request,
        "home.html",
        zones={site.id: site.timezone for site in sites},
        locale=locale,
        customer=customer,
        sites=sites,
        equipment=svc.customer_equipment(session, customer.id),
        tickets=svc.customer_tickets(session, customer.id),
        notices=svc.inbox(session, customer.id),
    )


@router.get("/portal/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    return _render(request, "sign_in.html", locale=_locale(request))


@router.post("/portal/sign-in", response_class=HTMLResponse)
async def sign_in_request(request: Request, session: DbSession) -> Response:
    locale = _locale(request)
    form = await request.form(max_files=0, max_fields=10)
    if not auth.csrf_ok(request, _settings(request), str(form.get("csrf") or "")):
        return _csrf_failed(request, locale)
    contact = str(form.get("contact") or "").strip()
    if not svc.normalise_contact(contact):
        return _render(
            request,
            "sign_in.html",
            locale=locale,
            status=422,
            error=i18n.gettext("portal.sign_in.contact_required", locale),
        )
    client = request.client.host if request.client else "unknown"
    try:
        await run_in_threadpool(
            svc.request_sign_in,
            session,
            settings=_settings(request),
            contact=contact,
            client_address=client,
            now=utcnow(),
        )
    except DomainError as exc:
        return _error_page(request, exc, locale)
    # The same answer whether or not we know the contact: the page never tells who is a customer.
    return _render(request, "sign_in_sent.html", locale=locale)


@router.get("/portal/sign-in/{token}", response_class=HTMLResponse)
def sign_in_confirm(request: Request, token: str, session: DbSession) -> Response:
    """A page with one button: mail scanners that fetch links do not use up the one-time link."""
    locale = _locale(request)
    if not svc.check_sign_in_link(session, token=token, now=utcnow()):
        return _error_page(request, svc.SignInLinkInvalid("not valid"), locale)
    return _render(request, "sign_in_confirm.html", locale=locale, token=token)


@router.post("/portal/sign-in/{token}", response_class=HTMLResponse)
async def sign_in_redeem(request: Request, token: str, session: DbSession) -> Response:
    locale = _locale(request)
    form = await request.form(max_files=0, max_fields=10)
    if not auth.csrf_ok(request, _settings(request), str(form.get("csrf") or "")):
        return _csrf_failed(request, locale)
    now = utcnow()
    try:
        _customer_in, session_token = await run_in_threadpool(
            svc.redeem_sign_in, session, settings=_settings(request), token=token, now=now
        )
    except DomainError as exc:
        return _error_page(request, exc, locale)
    response = RedirectResponse("/portal", status_code=303)
    auth.set_session_cookie(response, _settings(request), session_token)
    return response


@router.post("/portal/sign-out")
async def sign_out(request: Request, session: DbSession) -> Response:
    """Ends the session on the server, not only in this browser: the same cookie replayed signs in no more."""
    form = await request.form(max_files=0, max_fields=10)
    if not auth.csrf_ok(request, _settings(request), str(form.get("csrf") or "")):
        return _csrf_failed(request, _locale(request))
    await run_in_threadpool(svc.end_session, session, auth.session_token(request), utcnow())
    response = _sign_in_redirect()
    auth.clear_session_cookie(response, _settings(request))
    return response


# ---- the web complaint --------------------------------------------------------------------------------------------


def _complaint_form(
    request: Request,
    session: Session,
    customer: Customer,
    locale: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        "complaint.html",
        locale=locale,
        customer=customer,
        status=status,
        equipment=svc.customer_equipment(session, customer.id),
        sites=svc.customer_sites(session, customer.id),
        equipment_types=[e.value for e in EquipmentType],
        categories=[c.value for c in Category],
        impacts=IMPACT_FACTS,
        values=values or {"equipment_id": request.query_params.get("equipment", "")},
        errors=errors or {},
        max_photos=_settings(request).portal_max_photos,
    )


@router.get("/portal/complaint", response_class=HTMLResponse)
def complaint_form(request: Request, session: DbSession) -> Response:
    customer = _customer(request, session)
    if customer is None:
        return _sign_in_redirect()
    return _complaint_form(request, session, customer, _locale(request, customer))


async def _read_photos(
    request: Request, uploads: list[UploadFile], locale: str
) -> tuple[list[tuple[str, str, bytes]], str | None]:
    settings = _settings(request)
    photos = []
    uploads = [u for u in uploads if u.filename]
    if len(uploads) > settings.portal_max_photos:
        return [], i18n.gettext("portal.complaint.too_many_photos", locale, n=settings.portal_max_photos)
    for upload in uploads:
        data = await upload.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            return [], i18n.gettext("portal.complaint.photo_too_big", locale, mb=settings.max_upload_bytes // 2**20)
        content_type = sniff_image_type(data)  # from the bytes, never from the name or the browser's claim
        if content_type is None:
            return [], i18n.gettext("portal.complaint.photo_type", locale)
        photos.append((secrets.token_urlsafe(24), content_type, data))
    return photos, None


@router.post("/portal/complaint", response_class=HTMLResponse)
async def complaint_submit(request: Request, session: DbSession) -> Response:
    customer = await run_in_threadpool(_customer, request, session)
    if customer is None:
        return _sign_in_redirect()
    locale = _locale(request, customer)
    settings = _settings(request)
    form = await request.form(max_files=settings.portal_max_photos + 1, max_fields=40, max_part_size=64 * 1024)
    if not auth.csrf_ok(request, settings, str(form.get("csrf") or "")):
        return _csrf_failed(request, locale, customer)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    errors: dict[str, str] = {}
    required = i18n.gettext("portal.complaint.required", locale)
    raw_equipment = values.get("equipment_id", "")
    serial = values.get("serial_number", "").strip()
    unlisted = raw_equipment in ("", "new") and bool(serial)
    if not unlisted and (not raw_equipment.isdigit() or not 1 <= int(raw_equipment) <= MAX_ID):
        errors["equipment_id"] = required
    equipment_type, manufacture_date, site_id = None, None, None
    if unlisted:
        for name, limit in (("serial_number", 100), ("model", 100), ("site_address", 400)):
            if len(values.get(name, "")) > limit:
                errors[name] = i18n.gettext("portal.complaint.too_long", locale, n=limit)
        try:
            equipment_type = EquipmentType(values["equipment_type"]) if values.get("equipment_type") else None
        except ValueError:
            errors["equipment_type"] = required
        try:
            manufacture_date = (
                date.fromisoformat(values["manufacture_date"]) if values.get("manufacture_date") else None
            )
        except ValueError:
            errors["manufacture_date"] = i18n.gettext("portal.complaint.bad_date", locale)
        raw_site = values.get("site_id", "")
        if raw_site.isdigit() and 1 <= int(raw_site) <= MAX_ID:
            site_id = int(raw_site)
        elif not values.get("site_address", "").strip():
            errors["site_id"] = i18n.gettext("portal.complaint.where_required", locale)
    symptom = values.get("symptom", "").strip()
    if not symptom:
        errors["symptom"] = required
    try:
        category = Category(values.get("category", "equipment"))
    except ValueError:
        errors["category"] = required
        category = Category.EQUIPMENT
    for name in ("symptom", "location_detail", "working_condition", "impact_description", "special_request"):
        if len(values.get(name, "")) > TEXT_LIMIT:
            errors[name] = i18n.gettext("portal.complaint.too_long", locale, n=TEXT_LIMIT)
    uploads = [f for f in form.getlist("photos") if isinstance(f, UploadFile)]
    photos, photo_error = await _read_photos(request, uploads, locale)
    if photo_error:
        errors["photos"] = photo_error
    if errors:
        return await run_in_threadpool(
            lambda: _complaint_form(request, session, customer, locale, values=values, errors=errors, status=422)
        )
    complaint = svc.WebComplaint(
        equipment_id=None if unlisted else int(raw_equipment),
        serial_number=serial if unlisted else None,
        model=values.get("model", "").strip() or None if unlisted else None,
        equipment_type=equipment_type,
        manufacture_date=manufacture_date,
        site_id=site_id,
        site_address=values.get("site_address", "").strip() or None if unlisted else None,
        category=category,
        symptom=symptom,
        location_detail=values.get("location_detail", "").strip() or None,
        working_condition=values.get("working_condition", "").strip() or None,
        impact=Impact(
            **{f: values.get(f) == "on" for f in IMPACT_FACTS},
            description=values.get("impact_description", "").strip() or None,
        ),
        special_request=values.get("special_request", "").strip() or None,
    )

    def submit() -> Response:
        try:
            result = svc.submit_complaint(
                session,
                customer=customer,
                complaint=complaint,
                photos=photos,
                store=get_storage(request),
                policy=policy_for(settings),
                settings=settings,
                now=utcnow(),
            )
        except Unprocessable as exc:
            field = {e.pointer.lstrip("/"): e.detail for e in exc.errors} if exc.errors else {}
            shown = {k: i18n.gettext("portal.complaint.not_yours", locale) for k in field} or {
                "symptom": i18n.gettext("portal.error.invalid", locale)
            }
            return _complaint_form(request, session, customer, locale, values=values, errors=shown, status=422)
        view = svc.ticket_view(session, result.ticket)
        return _render(
            request, "complaint_result.html", locale=locale, customer=customer, view=view, linked=result.linked
        )

    return await run_in_threadpool(submit)


# ---- the ticket page, its live status, report, photos -----------------------------------------------------------


def _confirmation_url(request: Request, session: Session, ticket_id: int) -> str | None:
    """The open confirmation link of a completed ticket (re-signed from its row: the token is deterministic)."""
    now = utcnow()
    link = session.scalar(
        select(ConfirmationLink)
        .where(
            ConfirmationLink.ticket_id == ticket_id,
            ConfirmationLink.used_at.is_(None),
            ConfirmationLink.revoked_at.is_(None),
            ConfirmationLink.expires_at > now,
        )
        .order_by(ConfirmationLink.issued_at.desc())
        .limit(1)
    )
    if link is None:
        return None
    settings = _settings(request)
    token = encode_link(
        settings,
        jti=link.jti,
        ticket_id=link.ticket_id,
        visit_id=link.visit_id,
        issued_at=link.issued_at,
        expires_at=link.expires_at,
    )
    return confirm_url(settings, token)


def _photos(session: Session, ticket_id: int) -> list[str]:
    return list(session.scalars(select(TicketPhoto.id).where(TicketPhoto.ticket_id == ticket_id)))


@router.get("/portal/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(request: Request, ticket_id: str, session: DbSession) -> Response:
    customer = _customer(request, session)
    if customer is None:
        return _sign_in_redirect()
    locale = _locale(request, customer)
    try:
        ticket = svc.ticket_for_customer(session, customer.id, _parse_id(ticket_id))
    except DomainError as exc:
        return _error_page(request, exc, locale, customer)
    view = svc.ticket_view(session, ticket)
    return _render(
        request,
        "ticket.html",
        locale=locale,
        customer=customer,
        view=view,
        live=svc.status_json(view, locale),
        status_url=f"/portal/tickets/{ticket.id}/status.json",
        confirm_url=_confirmation_url(request, session, ticket.id) if view.done else None,
        report_url=f"/portal/tickets/{ticket.id}/report.pdf" if view.done else None,
        photos=[f"/portal/tickets/{ticket.id}/photos/{p}" for p in _photos(session, ticket.id)],
        poll_seconds=POLL_SECONDS,
    )


def _status_response(session: Session, ticket: Ticket, locale: str) -> JSONResponse:
    """What the ticket page polls: status, technician, ETA and deadline; never cached (it changes live)."""
    return JSONResponse(
        svc.status_json(svc.ticket_view(session, ticket), locale), headers={"Cache-Control": "no-store"}
    )


@router.get("/portal/tickets/{ticket_id}/status.json")
def ticket_status(request: Request, ticket_id: str, session: DbSession) -> JSONResponse:
    """This ticket's status, technician name, ETA and deadline (no positions, nothing of other tickets)."""
    customer = _customer(request, session)
    if customer is None:
        raise Unauthorized("Sign in to the portal first.")
    locale = _locale(request, customer)
    ticket = svc.ticket_for_customer(session, customer.id, _parse_id(ticket_id))
    return _status_response(session, ticket, locale)


@router.get("/portal/tickets/{ticket_id}/report.pdf")
def ticket_report(request: Request, ticket_id: str, session: DbSession) -> Response:

    customer = _customer(request, session)
    if customer is None:
        return _sign_in_redirect()
    locale = _locale(request, customer)
    try:
        ticket = svc.ticket_for_customer(session, customer.id, _parse_id(ticket_id))
        if ticket.status not in svc.DONE:
            raise NotFound("The report exists once the repair is done.")
    except DomainError as exc:
        return _error_page(request, exc, locale, customer)
    pdf = render_report(gather_report(session, get_storage(request), ticket_id=ticket.id, now=utcnow()))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="service-report-{ticket.id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/portal/tickets/{ticket_id}/photos/{photo_id}")
def ticket_photo(request: Request, ticket_id: str, photo_id: str, session: DbSession) -> Response:
    customer = _customer(request, session)
    if customer is None:
        return _sign_in_redirect()
    try:
        photo = svc.photo_for_customer(session, customer.id, _parse_id(ticket_id), photo_id[:40])
    except DomainError as exc:
        return _error_page(request, exc, _locale(request, customer), customer)
    return Response(
        get_storage(request).get(photo.storage_key),
        media_type=photo.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


# ---- tracking link (no account) -----------------------------------------------------------------------------------


@router.get("/t/{token}", response_class=HTMLResponse)
def tracking_page(request: Request, token: str, session: DbSession) -> Response:
    locale = _locale(request)
    ticket = ticket_for_token(session, token)
    if ticket is None:
        return _error_page(request, svc.SignInLinkInvalid("not valid"), locale)
    # The customer's language when the link was sent, unless the reader chose another one.
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    locale = _locale(request, customer)
    view = svc.ticket_view(session, ticket)
    return _render(
        request,
        "ticket.html",
        locale=locale,
        view=view,
        tracking=True,
        live=svc.status_json(view, locale),
        status_url=f"/t/{token}/status.json",
        confirm_url=None,
        report_url=None,
        photos=[],
        poll_seconds=POLL_SECONDS,
    )


@router.get("/t/{token}/status.json")
def tracking_status(request: Request, token: str, session: DbSession) -> JSONResponse:
    ticket = ticket_for_token(session, token)
    if ticket is None:
        raise NotFound("This tracking link is not valid.")
    customer = session.get(Customer, ticket.customer_id) if ticket.customer_id else None
    locale = _locale(request, customer)
    return _status_response(session, ticket, locale)


# ---- preferences -----------------------------------------------------------------------------------------------


@router.get("/portal/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: DbSession) -> Response:
    customer = _customer(request, session)
    if customer is None:
        return _sign_in_redirect()
    return _render(
        request,
        "settings.html",
        locale=_locale(request, customer),
        customer=customer,
        channels=customer_notices.CHANNELS,
        chosen=set(customer.notice_channels or ()),
        current_language=i18n.tag(i18n.normalize(customer.language)),
        saved=request.query_params.get("saved") == "1",
        error=None,
    )


@router.post("/portal/settings", response_class=HTMLResponse)
async def settings_save(request: Request, session: DbSession) -> Response:
    customer = await run_in_threadpool(_customer, request, session)
    if customer is None:
        return _sign_in_redirect()
    locale = _locale(request, customer)
    form = await request.form(max_files=0, max_fields=20)
    if not auth.csrf_ok(request, _settings(request), str(form.get("csrf") or "")):
        return _csrf_failed(request, locale, customer)
    channels = [str(c) for c in form.getlist("channels")]
    language = str(form.get("language") or "")
    try:
        await run_in_threadpool(
            svc.save_preferences, session, customer_id=customer.id, channels=channels, language=language
        )
    except Unprocessable:
        return _render(
            request,
            "settings.html",
            locale=locale,
            customer=customer,
            status=422,
            channels=customer_notices.CHANNELS,
            chosen=set(channels),
            current_language=language,
            saved=False,
            error=i18n.gettext("portal.settings.invalid", locale),
        )
    except DomainError as exc:
        return _error_page(request, exc, locale, customer)
    response = RedirectResponse("/portal/settings?saved=1", status_code=303)
    # The page follows the newly chosen language at once.
    response.set_cookie(LANG_COOKIE, i18n.tag(i18n.normalize(language)), max_age=365 * 86400, samesite="lax")
    return response


__all__ = ["STATIC_DIR", "router"]
