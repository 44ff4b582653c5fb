"""What the phone app reads and sends beyond the jobs: its configuration, the drive home, the customer's
photos, a photo sent twice, and the confirmation signed on the technician's phone."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select

from dispatch.audit.models import AuditEntry
from dispatch.confirmations.models import Confirmation, ConfirmationLink
from dispatch.core.clock import utcnow
from dispatch.core.types import Role, TicketStatus
from dispatch.photos.storage import storage_from_settings
from dispatch.plans.models import Plan
from dispatch.portal.models import TicketPhoto
from dispatch.tickets.models import Ticket
from dispatch.visits.models import JobPhoto
from tests.factories import auth_header, make_user
from tests.technician_api.conftest import complete, drive_to_site, make_job, signature_data_url, tiny_jpeg

FORM = {
    "satisfied": True,
    "quality": 5,
    "speed": 4,
    "attitude": 5,
    "accurate_information": 4,
    "safety": 5,
    "comment": "Quick and careful",
    "signer_name": "Zhang Min",
    "signer_role": "Site manager",
    "relationship_kept": True,
    "improvement_process": "Call before coming",
}


def test_app_config_has_the_lifecycle_words_and_fence(client, job):
    """The app can move a job on while offline with the server's own table, and name everything in Korean."""
    r = client.get("/api/v1/me/app", headers={**job.headers, "Accept-Language": "ko"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["transitions"]["assigned"]["accept"] == "accepted"
    assert body["transitions"]["en_route"]["arrived"] == "on_site"
    assert "completed" in body["actions"]["on_site"] and "signature_refused" in body["actions"]["completed"]
    assert body["geofence_radius_m"] == 300
    assert body["locale"] == "ko" and body["texts"]["status"]["on_site"] != "on_site"
    assert body["user"]["technician_id"] == job.technician.id
    assert body["home"]["name"] == job.technician.home_depot.name


def test_day_gives_the_drive_home_from_the_live_plan(client, db_session, job):
    """When the live plan ends the route at home, the app learns when the technician is back."""
    assert client.get("/api/v1/me/day", headers=job.headers).json()["return_at"] is None
    home_at = utcnow() + timedelta(hours=6)
    route = {
        "technician_id": str(job.technician.id),
        "start_at": utcnow().isoformat(),
        "stops": [{"ticket_id": str(job.ticket.id)}],
        "home_at": home_at.isoformat(),
        "home_travel_s": 1800,
    }
    db_session.add(Plan(kind="live", status="live", document={"routes": [route]}))
    db_session.commit()
    day = client.get("/api/v1/me/day", headers=job.headers).json()
    assert day["travel_home_s"] == 1800
    assert day["return_at"].startswith(home_at.isoformat()[:16])


def test_job_has_the_intake_answers_and_the_customers_photos(client, db_session, settings, job):
    """Where on the machine, the impact, and the portal photos, readable by this technician only."""
    job.ticket.location_detail = "Hoist gearbox, drum side"
    job.ticket.impact = {"site_stopped": True}
    storage = storage_from_settings(settings)
    storage.put("portal/p1", tiny_jpeg(), "image/jpeg")
    pid = secrets.token_urlsafe(24)
    db_session.add(
        TicketPhoto(
            id=pid,
            ticket_id=job.ticket.id,
            content_type="image/jpeg",
            size_bytes=1,
            sha256="0",
            storage_key="portal/p1",
        )
    )
    db_session.commit()
    one = client.get(f"/api/v1/me/jobs/{job.visit.id}", headers=job.headers).json()
    assert one["location_detail"] == "Hoist gearbox, drum side" and one["impact"] == {"site_stopped": True}
    assert one["customer_photos"] == [f"/api/v1/jobs/{job.visit.id}/customer-photos/{pid}"]
    r = client.get(one["customer_photos"][0], headers=job.headers)
    assert r.status_code == 200 and r.content == tiny_jpeg()
    other = make_job(db_session, settings)
    assert client.get(one["customer_photos"][0], headers=other.headers).status_code == 404
    assert client.get(f"/api/v1/jobs/{other.visit.id}/customer-photos/{pid}", headers=other.headers).status_code == 404


def test_the_same_photo_sent_twice_is_one_photo(client, db_session, job):
    """A phone that never got the answer to an upload sends it again: the same record, not a second photo."""
    drive_to_site(client, job)
    url = f"/api/v1/jobs/{job.visit.id}/photos"
    first = client.post(url, files={"file": ("a.jpg", tiny_jpeg(), "image/jpeg")}, headers=job.headers)
    again = client.post(url, files={"file": ("b.jpg", tiny_jpeg(), "image/jpeg")}, headers=job.headers)
    assert first.status_code == 201 and again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert db_session.scalar(select(func.count()).select_from(JobPhoto).where(JobPhoto.visit_id == job.visit.id)) == 1


def _device_sign(client, job, key: str, **changes):  # type: ignore[no-untyped-def]
    body = {**FORM, "signature": signature_data_url(), "signed_at": "2026-01-01T10:00:00+08:00", **changes}
    return client.post(
        f"/api/v1/jobs/{job.visit.id}/confirmation", json=body, headers={**job.headers, "Idempotency-Key": key}
    )


def test_signed_on_the_phone_is_the_same_sealed_record_and_a_resend_changes_nothing(client, db_session, job):
    """Signed on the technician's phone: confirmed, sealed (verify valid), the phone's time kept, the link used;
    the same key again answers the stored record; the one-time link then says it is already used."""
    drive_to_site(client, job)
    link_url = complete(client, job)["confirmation"]["url"]
    signed_at = utcnow() - timedelta(minutes=5)
    r = _device_sign(client, job, "conf-key-0001", signed_at=signed_at.isoformat())
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["outcome"] == "confirmed" and first["duplicate"] is False
    again = _device_sign(client, job, "conf-key-0001", signed_at=signed_at.isoformat())
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["document_sha256"] == first["document_sha256"]
    confs = db_session.scalars(select(Confirmation).where(Confirmation.visit_id == job.visit.id)).all()
    assert len(confs) == 1
    conf = confs[0]
    assert conf.channel == "device" and conf.relationship_kept is True
    assert conf.improvements == {"process": "Call before coming"}
    assert abs((conf.signed_at - signed_at).total_seconds()) < 1
    db_session.refresh(job.ticket)
    assert job.ticket.status is TicketStatus.confirmed
    office = make_user(db_session, role=Role.dispatcher)
    verify = client.get(
        f"/api/v1/tickets/{job.ticket.id}/confirmation/verify", headers=auth_header(client.app.state.settings, office)
    )
    assert verify.json()["valid"] is True
    status = client.get(
        f"/api/v1/tickets/{job.ticket.id}/confirmation", headers=auth_header(client.app.state.settings, office)
    )
    assert status.json()["confirmation"]["channel"] == "device"
    # Editing a new answer after signing breaks the seal, like any other.
    conf.improvements = {"process": "All perfect"}
    db_session.commit()
    verify = client.get(
        f"/api/v1/tickets/{job.ticket.id}/confirmation/verify", headers=auth_header(client.app.state.settings, office)
    )
    assert verify.json()["valid"] is False
    # The customer's SMS link is spent: one confirmation per visit, whichever path came first.
    token = link_url.rsplit("/confirm/", 1)[1]
    assert client.get(f"/confirm/{token}", headers={"Accept": "application/json"}).status_code == 409
    assert db_session.scalar(select(ConfirmationLink.used_at).where(ConfirmationLink.visit_id == job.visit.id))


def test_unsatisfied_on_the_phone_reopens_and_future_times_are_not_believed(client, db_session, job):
    drive_to_site(client, job)
    complete(client, job)
    r = _device_sign(
        client, job, "conf-key-0002", satisfied=False, signed_at=(utcnow() + timedelta(days=2)).isoformat()
    )
    assert r.status_code == 201, r.text
    assert r.json()["outcome"] == "reopened"
    db_session.refresh(job.ticket)
    assert job.ticket.status is TicketStatus.reopened
    conf = db_session.scalar(select(Confirmation).where(Confirmation.visit_id == job.visit.id))
    assert conf is not None and conf.signed_at <= utcnow()
    reopen = db_session.scalar(
        select(AuditEntry).where(AuditEntry.ticket_id == job.ticket.id, AuditEntry.action == "reopen")
    )
    assert reopen is not None and reopen.actor == "customer"


def test_device_confirmation_before_completion_or_of_another_job_is_refused(client, db_session, settings, job):
    drive_to_site(client, job)
    r = _device_sign(client, job, "conf-key-0003")
    assert r.status_code == 409 and r.headers["content-type"] == "application/problem+json"
    other = make_job(db_session, settings)
    r = client.post(
        f"/api/v1/jobs/{other.visit.id}/confirmation",
        json={**FORM, "signature": signature_data_url()},
        headers={**job.headers, "Idempotency-Key": "conf-key-0004"},
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/jobs/{job.visit.id}/confirmation",
        json={**FORM, "signature": signature_data_url()},
        headers=job.headers,
    )
    assert r.status_code == 422  # the key is required
    assert db_session.scalar(select(Ticket.status).where(Ticket.id == job.ticket.id)) is TicketStatus.on_site


def test_the_link_form_asks_the_relationship_and_improvement_questions_too(client, db_session, job):
    """Both paths ask the same questions and land in the same record."""
    drive_to_site(client, job)
    token = complete(client, job)["confirmation"]["url"].rsplit("/confirm/", 1)[1]
    page = client.get(f"/confirm/{token}").text
    for name in ("relationship_kept", "improvement_product", "improvement_process", "improvement_people"):
        assert f'name="{name}"' in page, name
    form = {
        "satisfied": "yes",
        **{d: "5" for d in ("quality", "speed", "attitude", "accurate_information", "safety")},
        "signer_name": "Li Wei",
        "signer_role": "Site manager",
        "relationship_kept": "no",
        "improvement_product": "A quieter gearbox",
        "improvement_people": "",
        "signature": signature_data_url(),
    }
    assert client.post(f"/confirm/{token}", data=form).status_code == 201
    conf = db_session.scalar(select(Confirmation).where(Confirmation.visit_id == job.visit.id))
    assert conf is not None and conf.channel == "link"
    assert conf.relationship_kept is False and conf.improvements == {"product": "A quieter gearbox"}


def test_a_photo_keeps_when_the_phone_took_it(client, db_session, job):
    """Sent from the outbox hours later, a photo keeps the phone's time; one from the future is not believed."""
    drive_to_site(client, job)
    url = f"/api/v1/jobs/{job.visit.id}/photos"
    taken = utcnow() - timedelta(hours=3)
    r = client.post(
        url,
        files={"file": ("a.jpg", tiny_jpeg(), "image/jpeg")},
        data={"taken_at": taken.isoformat()},
        headers=job.headers,
    )
    assert r.status_code == 201, r.text
    photo = db_session.get(JobPhoto, r.json()["id"])
    assert photo is not None and abs((photo.taken_at - taken).total_seconds()) < 0.01
    other = tiny_jpeg()[:-2] + b"\x00\xff\xd9"  # other bytes, still a JPEG to the sniffer
    r = client.post(
        url,
        files={"file": ("b.jpg", other, "image/jpeg")},
        data={"taken_at": (utcnow() + timedelta(days=1)).isoformat()},
        headers=job.headers,
    )
    assert r.status_code == 201, r.text
    assert db_session.get(JobPhoto, r.json()["id"]).taken_at <= utcnow()
    r = client.post(
        url, files={"file": ("c.jpg", tiny_jpeg(), "image/jpeg")}, data={"taken_at": "yesterday"}, headers=job.headers
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/taken_at"
