"""The customer's confirmation: issuing the one-time link, the signed form, its seal, and what follows.

Domain.md "Closing": the customer says whether they are satisfied and rates quality, speed, attitude,
accurate information and safety. Unsatisfied, or any dimension at 2 or below, reopens the matter with a
return visit and tells the department head; satisfied confirms it, and it closes once the return-visit
call is logged.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import segno
from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.audit.service import change_status
from dispatch.confirmations.models import Confirmation, ConfirmationLink
from dispatch.confirmations.schemas import DIMENSIONS, ConfirmationIn
from dispatch.confirmations.tokens import LinkClaims, LinkInvalid, LinkUsed, decode_link, encode_link, expiry, new_jti
from dispatch.core.errors import Conflict, FieldError, NotFound, Unprocessable
from dispatch.core.settings import Settings
from dispatch.core.types import TicketStatus
from dispatch.customers.models import Equipment, Site
from dispatch.domain.lifecycle import TicketAction, transition
from dispatch.notifications import customer as customer_notices
from dispatch.notifications.service import notify
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Ticket, Visit
from dispatch.visits.models import WorkReport

#: A rating at or below this on any dimension counts as unsatisfied (domain.md: unsatisfied reopens).
LOW_RATING = 2
MAX_SIGNATURE_BYTES = 512 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class IssuedLink:
    jti: str
    token: str
    url: str
    expires_at: datetime
    qr_svg: str


def confirm_url(settings: Settings, token: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/confirm/{token}"


def issue_link(session: Session, *, ticket: Ticket, visit: Visit, settings: Settings, now: datetime) -> IssuedLink:
    """A new one-time link for the visit (older open links of the visit are revoked); caller commits."""
    for old in session.scalars(
        select(ConfirmationLink).where(
            ConfirmationLink.visit_id == visit.id,
            ConfirmationLink.used_at.is_(None),
            ConfirmationLink.revoked_at.is_(None),
        )
    ):
        old.revoked_at = now
    jti = new_jti()
    expires_at = expiry(now)
    token = encode_link(settings, jti=jti, ticket_id=ticket.id, visit_id=visit.id, issued_at=now, expires_at=expires_at)
    session.add(ConfirmationLink(jti=jti, ticket_id=ticket.id, visit_id=visit.id, issued_at=now, expires_at=expires_at))
    url = confirm_url(settings, token)
    qr = segno.make(url, error="m").svg_inline(scale=4, border=2)
    return IssuedLink(jti=jti, token=token, url=url, expires_at=expires_at, qr_svg=qr)


def open_link(
    session: Session, *, settings: Settings, token: str, now: datetime, lock: bool = False
) -> ConfirmationLink:
    """The link behind a token, if genuine, unexpired and unused; otherwise a clear `Link*` error."""
    claims = decode_link(settings, token, now=now)
    link = _link_for(session, claims, lock=lock)
    if link.used_at is not None:
        raise LinkUsed("This confirmation has already been submitted. Thank you.", key="error.link.used")
    if link.revoked_at is not None:
        raise LinkInvalid("This link has been withdrawn. Ask the technician for a new one.", key="error.link.withdrawn")
    return link


def _link_for(session: Session, claims: LinkClaims, *, lock: bool = False) -> ConfirmationLink:
    query = select(ConfirmationLink).where(ConfirmationLink.jti == claims.jti)
    if lock:
        query = query.with_for_update()
    link = session.scalar(query)
    if link is None or link.ticket_id != claims.ticket_id or link.visit_id != claims.visit_id:
        raise LinkInvalid("The link is not known. Ask the technician for a new one.", key="error.link.unknown")
    return link


def signed_link(session: Session, *, settings: Settings, token: str, now: datetime) -> ConfirmationLink:
    """The link of a token that has been used to sign (for the customer's PDF download)."""
    link = _link_for(session, decode_link(settings, token, now=now))
    if link.used_at is None:
        raise NotFound("Nothing has been signed with this link yet.", key="error.link.not-signed")
    return link


def work_report_view(session: Session, visit_id: int) -> dict[str, Any]:
    """The work report as shown to the customer and sealed into the confirmation."""
    report = session.scalar(select(WorkReport).where(WorkReport.visit_id == visit_id))
    if report is None:
        return {}
    return {
        "cause_found": report.cause_found,
        "work_done": report.work_done,
        "parts_used": [
            {"code": p["code"], "name": p["name"], "quantity": p["quantity"], "unit": p["unit"]}
            for p in report.parts_used
        ],
        "minutes_spent": report.minutes_spent,
        "follow_up_needed": report.follow_up_needed,
        "follow_up_note": report.follow_up_note,
    }


def ticket_summary(session: Session, ticket_id: int) -> dict[str, Any]:
    """Only what the customer needs to recognise the job: no other ticket, no internal notes."""
    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None
    site = session.get(Site, ticket.site_id) if ticket.site_id else None
    unit = session.get(Equipment, ticket.equipment_id) if ticket.equipment_id else None
    return {
        "ticket_id": ticket.id,
        "reported_at": ticket.reported_at,
        "symptom": ticket.symptom,
        "site": site.name if site else None,
        "address": site.address if site else None,
        "equipment": f"{unit.model} · {unit.serial_number}" if unit else ticket.reported_model,
        "resolved_at": ticket.resolved_at,
    }


def decode_signature(data_url: str) -> bytes:
    """PNG bytes from the canvas's data URL; refuses non-PNG, oversized or blank drawings."""
    prefix = "data:image/png;base64,"
    error = Unprocessable(
        "The signature is missing or unreadable.",
        errors=[FieldError("/signature", "draw a signature", key="field.draw-signature")],
        key="error.signature.unreadable",
    )
    if not data_url.startswith(prefix):
        raise error
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except ValueError as exc:
        raise error from exc
    if not raw.startswith(PNG_MAGIC) or len(raw) > MAX_SIGNATURE_BYTES:
        raise error
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            if img.width > 4000 or img.height > 4000:
                raise error
            alpha = img.convert("RGBA").getchannel("A")
            ink = img.convert("L").point(lambda v: 255 if v < 200 else 0)
            if alpha.getbbox() is None or (img.mode in {"RGB", "L"} and ink.getbbox() is None):
                raise Unprocessable(
                    "The signature is empty.",
                    errors=[FieldError("/signature", "draw a signature", key="field.draw-signature")],
                    key="error.signature.empty",
                )
    except (UnidentifiedImageError, OSError) as exc:
        raise error from exc
    return raw


def canonical_document(conf: Confirmation) -> dict[str, Any]:
    """The confirmation as a document: every answer, who/when/where, the work report, the signature's hash."""
    return {
        "schema": "onsite24.confirmation.v1",
        "ticket_id": conf.ticket_id,
        "visit_id": conf.visit_id,
        "link": conf.link_jti,
        "satisfied": conf.satisfied,
        "ratings": {k: int(conf.ratings[k]) for k in DIMENSIONS},
        "comment": conf.comment,
        "signer_name": conf.signer_name,
        "signer_role": conf.signer_role,
        "signed_at": conf.signed_at.astimezone(UTC).isoformat(),
        "ip": conf.ip,
        "user_agent": conf.user_agent,
        "work_report": conf.work_report,
        "signature_sha256": hashlib.sha256(conf.signature_png).hexdigest(),
        # Answers added later enter the document only when given, so older confirmations keep their seal.
        **({"relationship_kept": conf.relationship_kept} if conf.relationship_kept is not None else {}),
        **({"improvements": dict(conf.improvements)} if conf.improvements else {}),
        **({"channel": conf.channel} if conf.channel and conf.channel != "link" else {}),
    }


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """Canonical JSON (sorted keys, no spaces, UTF-8): the same document always hashes the same."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def document_hash(conf: Confirmation) -> str:
    return hashlib.sha256(canonical_bytes(canonical_document(conf))).hexdigest()


def is_unsatisfied(satisfied: bool, ratings: dict[str, int]) -> bool:
    return not satisfied or any(v <= LOW_RATING for v in ratings.values())


def submit_confirmation(
    session: Session,
    *,
    settings: Settings,
    token: str,
    form: ConfirmationIn,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    return_visit_due_at: datetime,
) -> Confirmation:
    """Store the signed form and act on it (confirm, or reopen + return visit + department head); one commit."""
    link = open_link(session, settings=settings, token=token, now=now, lock=True)
    return _record(
        session,
        settings=settings,
        link=link,
        form=form,
        signed_at=now,
        ip=ip,
        user_agent=user_agent,
        now=now,
        return_visit_due_at=return_visit_due_at,
    )


def submit_on_device(
    session: Session,
    *,
    settings: Settings,
    visit_id: int,
    form: ConfirmationIn,
    signed_at: datetime | None,
    idempotency_key: str,
    submitted_by_user_id: int,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    return_visit_due_at: datetime,
) -> tuple[Confirmation, bool]:
    """The form filled in and signed on the technician's phone, sent when it had a signal: the same record,
    seal and consequences as the customer's link (it uses the visit's open link). `(confirmation, duplicate)`:
    the same key again answers the stored confirmation and changes nothing. The caller checks the visit is
    the technician's own. The phone's signing time is kept unless it is ahead of the server."""
    stored = session.scalar(select(Confirmation).where(Confirmation.idempotency_key == idempotency_key))
    if stored is not None:
        if stored.visit_id != visit_id:
            raise Conflict("This key was used for another job.", key="error.confirmation.key-reused")
        return stored, True
    link = session.scalar(
        select(ConfirmationLink)
        .where(
            ConfirmationLink.visit_id == visit_id,
            ConfirmationLink.used_at.is_(None),
            ConfirmationLink.revoked_at.is_(None),
        )
        .order_by(ConfirmationLink.issued_at.desc())
        .limit(1)
        .with_for_update()
    )
    if link is None:
        # The same form sent twice at once: the other request held the link and has committed it by now.
        stored = session.scalar(select(Confirmation).where(Confirmation.idempotency_key == idempotency_key))
        if stored is not None and stored.visit_id == visit_id:
            return stored, True
        if session.scalar(select(Confirmation.id).where(Confirmation.visit_id == visit_id).limit(1)) is not None:
            raise LinkUsed("This confirmation has already been submitted. Thank you.", key="error.link.used")
        raise Conflict(
            "There is nothing to confirm yet: complete the job first.", key="error.confirmation.not-completed"
        )
    when = min(signed_at, now) if signed_at is not None else now
    conf = _record(
        session,
        settings=settings,
        link=link,
        form=form,
        signed_at=when,
        ip=ip,
        user_agent=user_agent,
        now=now,
        return_visit_due_at=return_visit_due_at,
        channel="device",
        idempotency_key=idempotency_key,
        submitted_by_user_id=submitted_by_user_id,
    )
    return conf, False


def _record(
    session: Session,
    *,
    settings: Settings,
    link: ConfirmationLink,
    form: ConfirmationIn,
    signed_at: datetime,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
    return_visit_due_at: datetime,
    channel: str = "link",
    idempotency_key: str | None = None,
    submitted_by_user_id: int | None = None,
) -> Confirmation:
    signature = decode_signature(form.signature)
    ticket = session.scalar(select(Ticket).where(Ticket.id == link.ticket_id).with_for_update())
    assert ticket is not None
    ratings = form.ratings()
    unsatisfied = is_unsatisfied(form.satisfied, ratings)
    conf = Confirmation(
        ticket_id=link.ticket_id,
        visit_id=link.visit_id,
        link_jti=link.jti,
        satisfied=form.satisfied,
        ratings=ratings,
        comment=form.comment or "",
        signer_name=form.signer_name,
        signer_role=form.signer_role,
        signature_png=signature,
        signed_at=signed_at,
        ip=ip,
        user_agent=(user_agent or "")[:500] or None,
        work_report=work_report_view(session, link.visit_id),
        outcome="reopened" if unsatisfied else "confirmed",
        document_sha256="",
        relationship_kept=form.relationship_kept,
        improvements=form.improvements(),
        channel=channel,
        idempotency_key=idempotency_key,
        submitted_by_user_id=submitted_by_user_id,
    )
    conf.document_sha256 = document_hash(conf)
    link.used_at = now
    session.add(conf)
    audit = {"visit_id": link.visit_id, "satisfied": form.satisfied, "ratings": ratings, "signer": form.signer_name}
    if channel != "link":
        audit |= {"channel": channel, "signed_at": signed_at.isoformat()}
    if unsatisfied:
        low = [k for k, v in ratings.items() if v <= LOW_RATING]
        reason = "customer not satisfied" if not form.satisfied else f"low rating: {', '.join(low)}"
        change_status(
            session,
            ticket,
            to_status=TicketStatus(transition(ticket.status.value, TicketAction.REOPEN).value),
            action=TicketAction.REOPEN.value,
            actor="customer",
            reason=reason,
            data=audit,
            at=now,
        )
        for task in session.scalars(
            select(ReturnVisitTask).where(ReturnVisitTask.ticket_id == ticket.id, ReturnVisitTask.status == "open")
        ):
            task.status = "superseded"
        session.add(
            ReturnVisitTask(
                ticket_id=ticket.id, visit_id=link.visit_id, reason="unsatisfied", due_at=return_visit_due_at
            )
        )
        customer_notices.return_visit_scheduled(session, ticket, due_at=return_visit_due_at, now=now)
        notify(
            session,
            settings,
            now=now,
            audience="department_head",
            kind="unsatisfied_confirmation",
            subject=f"Ticket {ticket.id} reopened: the customer is not satisfied",
            body=f"{form.signer_name} ({form.signer_role}): {reason}. Comment: {form.comment or '-'}",
            ticket_id=ticket.id,
        )
    else:
        change_status(
            session,
            ticket,
            to_status=TicketStatus(transition(ticket.status.value, TicketAction.CONFIRM).value),
            action=TicketAction.CONFIRM.value,
            actor="customer",
            reason="customer confirmed the repair",
            data=audit,
            at=now,
        )
    session.commit()
    return conf


def latest_confirmation(session: Session, ticket_id: int) -> Confirmation:
    conf = session.scalar(
        select(Confirmation).where(Confirmation.ticket_id == ticket_id).order_by(Confirmation.id.desc()).limit(1)
    )
    if conf is None:
        raise NotFound(
            f"Ticket {ticket_id} has no signed confirmation.",
            key="error.confirmation.none",
            params={"ticket_id": ticket_id},
        )
    return conf


def verify_confirmation(session: Session, ticket_id: int) -> dict[str, Any]:
    """Recompute the seal from the stored row: any edit after signing shows as a mismatch."""
    conf = latest_confirmation(session, ticket_id)
    computed = document_hash(conf)
    return {
        "ticket_id": ticket_id,
        "confirmation_id": conf.id,
        "valid": computed == conf.document_sha256,
        "stored_sha256": conf.document_sha256,
        "computed_sha256": computed,
    }
