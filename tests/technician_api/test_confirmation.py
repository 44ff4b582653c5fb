"""The customer's signed confirmation: the one-time link, what it changes, and its tamper seal."""

from __future__ import annotations

import base64
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select, text

from dispatch.audit.models import AuditEntry
from dispatch.confirmations.models import Confirmation
from dispatch.confirmations.tokens import encode_link
from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings
from dispatch.core.types import TicketStatus
from dispatch.notifications.models import Notification
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Ticket
from tests.technician_api.conftest import complete, drive_to_site, signature_data_url, token_of

GOOD = {
    "satisfied": "yes",
    "quality": "5",
    "speed": "4",
    "attitude": "5",
    "accurate_information": "4",
    "safety": "5",
    "comment": "Fast and tidy",
    "signer_name": "Li Wei",
    "signer_role": "Site manager",
}


@pytest.fixture
def token(client, job) -> str:
    drive_to_site(client, job)
    return token_of(complete(client, job)["confirmation"]["url"])


def _sign(client, token: str, **changes: str):  # type: ignore[no-untyped-def]
    return client.post(f"/confirm/{token}", data={**GOOD, "signature": signature_data_url(), **changes})


def test_the_link_opens_the_form_with_only_that_tickets_summary(client, job, token):
    """The customer opens the link without an account and sees the ticket and the work report."""
    r = client.get(f"/confirm/{token}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert f"Ticket {job.ticket.id}" in r.text and "Replaced the hoist gearbox" in r.text
    assert "nonce-" in r.headers["content-security-policy"]
    assert '<canvas id="sig"' in r.text


def test_satisfied_confirmation_confirms_and_closes_after_the_return_call(
    client, db_session, job, token, dispatcher_headers
):
    """Satisfied: the ticket is confirmed; logging the return-visit call closes it."""
    r = _sign(client, token)
    assert r.status_code == 201 and "Thank you" in r.text
    db_session.expire_all()
    assert db_session.get(Ticket, job.ticket.id).status is TicketStatus.confirmed
    status = client.get(f"/api/v1/tickets/{job.ticket.id}/confirmation", headers=dispatcher_headers).json()
    assert status["confirmation"]["signer_name"] == "Li Wei" and status["confirmation"]["outcome"] == "confirmed"
    assert status["confirmation"]["signature_png"].startswith("data:image/png;base64,")
    assert status["confirmation"]["ip"] and status["confirmation"]["user_agent"]
    assert [t["status"] for t in status["return_visits"]] == ["open"]
    logged = client.post(
        f"/api/v1/tickets/{job.ticket.id}/return-visit",
        json={"outcome": "reached", "note": "all fine"},
        headers=dispatcher_headers,
    )
    assert logged.status_code == 200, logged.text
    assert logged.json()["closed"] is True and logged.json()["ticket_status"] == "closed"
    db_session.expire_all()
    assert db_session.get(Ticket, job.ticket.id).closed_at is not None


def test_unsatisfied_confirmation_reopens_notifies_and_schedules_a_return_visit(client, db_session, job, token):
    """Unsatisfied (or any dimension ≤ 2): the ticket reopens, the department head is told, a return visit is due."""
    r = _sign(client, token, satisfied="yes", safety="2", comment="Left the barrier open")
    assert r.status_code == 201 and "reopened" in r.text
    db_session.expire_all()
    ticket = db_session.get(Ticket, job.ticket.id)
    assert ticket.status is TicketStatus.reopened
    reopen = db_session.scalars(
        select(AuditEntry).where(AuditEntry.ticket_id == ticket.id, AuditEntry.action == "reopen")
    ).one()
    assert reopen.actor == "customer" and "safety" in reopen.reason
    tasks = db_session.scalars(
        select(ReturnVisitTask).where(ReturnVisitTask.ticket_id == ticket.id).order_by(ReturnVisitTask.id)
    ).all()
    assert [(t.reason, t.status) for t in tasks] == [("completion", "superseded"), ("unsatisfied", "open")]
    assert tasks[1].due_at > utcnow() + timedelta(days=1)
    head = db_session.scalars(
        select(Notification).where(
            Notification.channel == "in_app",
            Notification.ticket_id == ticket.id,
            Notification.audience == "department_head",
        )
    ).one()
    assert head.kind == "unsatisfied_confirmation"


def test_submitting_twice_is_refused(client, token):
    """A confirmation cannot be submitted twice with the same link."""
    assert _sign(client, token).status_code == 201
    again = _sign(client, token)
    assert again.status_code == 409 and "already been submitted" in again.text
    assert client.get(f"/confirm/{token}").status_code == 409
    api = client.post(
        f"/confirm/{token}",
        json={**GOOD, "satisfied": True, "signature": signature_data_url()},
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 409 and api.headers["content-type"] == "application/problem+json"


def test_tampered_token_is_refused_with_a_clear_page(client, token):
    """A link whose token was altered shows a clear error page (and problem+json to API clients)."""
    head, payload, sig = token.split(".")
    bad = f"{head}.{payload}.{sig[:-4]}AAAA"
    r = client.get(f"/confirm/{bad}")
    assert r.status_code == 404 and "not valid" in r.text and r.headers["content-type"].startswith("text/html")
    api = client.get(f"/confirm/{bad}", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json()["type"].endswith("confirmation-link-invalid")
    assert _sign(client, bad).status_code == 404


def test_token_for_another_ticket_is_refused(client, job, token, settings: Settings):
    """A genuine-looking token whose ticket does not match its link is refused."""
    from jwt import decode

    claims = decode(token, options={"verify_signature": False})
    forged = encode_link(
        settings,
        jti=claims["jti"],
        ticket_id=claims["tkt"] + 1000,
        visit_id=claims["vst"],
        issued_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=1),
    )
    assert client.get(f"/confirm/{forged}").status_code == 404


def test_expired_token_is_refused_with_a_clear_page(client, db_session, job, settings, token):
    """An expired link shows 'expired' and stores nothing."""
    from jwt import decode

    claims = decode(token, options={"verify_signature": False})
    old = encode_link(
        settings,
        jti=claims["jti"],
        ticket_id=claims["tkt"],
        visit_id=claims["vst"],
        issued_at=utcnow() - timedelta(days=5),
        expires_at=utcnow() - timedelta(days=2),
    )
    r = client.get(f"/confirm/{old}")
    assert r.status_code == 410 and "expired" in r.text
    assert _sign(client, old).status_code == 410
    assert db_session.scalars(select(Confirmation).where(Confirmation.ticket_id == job.ticket.id)).all() == []


def test_missing_signature_or_rating_re_shows_the_form(client, token):
    """An incomplete form comes back with what is missing, keeping what was typed."""
    r = client.post(f"/confirm/{token}", data={**GOOD, "signature": ""})
    assert r.status_code == 422 and "signature" in r.text and "Li Wei" in r.text
    blank = "data:image/png;base64," + base64.b64encode(_blank_png()).decode()
    r = client.post(f"/confirm/{token}", data={**GOOD, "signature": blank})
    assert r.status_code == 422


def _blank_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def test_the_hash_detects_an_edited_confirmation(client, db_session, job, token, dispatcher_headers):
    """Editing a signed confirmation in the database afterwards is detected by the verify endpoint."""
    _sign(client, token)
    ok = client.get(f"/api/v1/tickets/{job.ticket.id}/confirmation/verify", headers=dispatcher_headers).json()
    assert ok["valid"] is True and ok["stored_sha256"] == ok["computed_sha256"]
    db_session.execute(
        text("UPDATE confirmations SET ratings = jsonb_set(ratings, '{safety}', '1') WHERE ticket_id = :t"),
        {"t": job.ticket.id},
    )
    db_session.commit()
    bad = client.get(f"/api/v1/tickets/{job.ticket.id}/confirmation/verify", headers=dispatcher_headers).json()
    assert bad["valid"] is False and bad["stored_sha256"] != bad["computed_sha256"]


def test_customer_refusing_to_sign_is_recorded_and_escalated(client, db_session, job, token, dispatcher_headers):
    """The technician records a refusal with a reason: the link is withdrawn and the department head is told."""
    r = client.post(
        f"/api/v1/jobs/{job.visit.id}/events",
        json={"kind": "signature_refused", "reason": "Customer disputes the invoice"},
        headers=job.headers,
    )
    assert r.status_code == 200, r.text
    assert "signature_refused" not in r.json()["allowed_actions"]
    assert client.get(f"/confirm/{token}").status_code == 404
    notice = db_session.scalars(
        select(Notification).where(
            Notification.channel == "in_app",
            Notification.ticket_id == job.ticket.id,
            Notification.kind == "signature_refused",
        )
    ).one()
    assert notice.audience == "department_head"
    again = client.post(
        f"/api/v1/jobs/{job.visit.id}/events",
        json={"kind": "signature_refused", "reason": "again"},
        headers=job.headers,
    )
    assert again.status_code == 409
    # the return call still closes it
    logged = client.post(
        f"/api/v1/tickets/{job.ticket.id}/return-visit", json={"outcome": "reached"}, headers=dispatcher_headers
    )
    assert logged.json()["closed"] is True


@pytest.mark.parametrize(
    "body",
    [b"[1, 2]", b'"yes"', b"42", b"{not json", b'{"signer_name": "\xff\xfe"}', b"[" * 100_000 + b"]" * 100_000],
    ids=["array", "string", "number", "broken", "invalid-utf8", "deep-nesting"],
)
@pytest.mark.parametrize("which", ["real", "garbage"])
def test_a_confirmation_body_that_is_not_an_object_is_a_422_and_changes_nothing(
    client, db_session, job, token, body, which
):
    """Issue 19: any JSON that is not an object, broken JSON, invalid UTF-8 or deep nesting, with the real link
    or a garbage token, is refused as invalid input (problem+json), never a 500; the link still works."""
    target = token if which == "real" else "garbage-token"
    r = client.post(
        f"/confirm/{target}",
        content=body,
        headers={"content-type": "application/json", "accept": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert db_session.scalars(select(Confirmation).where(Confirmation.ticket_id == job.ticket.id)).first() is None
    assert _sign(client, token).status_code in (200, 201, 303)
