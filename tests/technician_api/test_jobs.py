"""The technician's job list and job detail."""

from __future__ import annotations

from datetime import timedelta

from dispatch.core.clock import utcnow
from dispatch.core.types import Grade, TicketStatus
from dispatch.devices.models import Alarm
from technician_api.jobs.schemas import JobOut, JobPage
from tests.factories import make_ticket
from tests.technician_api.conftest import SITE_LAT, SITE_LON, make_job


def test_my_jobs_in_route_order_with_site_contact_history_and_alarms(client, db_session, settings, job):
    """A technician sees today's jobs in route order with where, whom to call, what happened before and live alarms."""
    second = make_job(db_session, settings, technician=job.technician, sequence=2)
    old = make_ticket(
        db_session, equipment=job.equipment, reported_at=utcnow() - timedelta(days=40), grade=Grade.SERIOUS
    )
    old.symptom = "Slewing brake noise"
    db_session.add(
        Alarm(
            device_id=job.equipment.device_id,
            alarm_id="a1",
            equipment_id=job.equipment.id,
            code="BRAKE_WEAR",
            severity="major",
            state="raised",
        )
    )
    db_session.add(
        Alarm(
            device_id=job.equipment.device_id,
            alarm_id="a2",
            equipment_id=job.equipment.id,
            code="OLD",
            severity="minor",
            state="cleared",
        )
    )
    db_session.commit()

    r = client.get("/api/v1/me/jobs", headers=job.headers)
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2
    assert [j["id"] for j in page["items"]] == [job.visit.id, second.visit.id]
    first = page["items"][0]
    assert first["site"]["lat"] == SITE_LAT and first["site"]["lon"] == SITE_LON
    assert first["site"]["access_hours"] == {"mon": [["07:00", "19:00"]]}
    assert first["contact"] == {"name": "Site manager Wang", "phone": "13800000001"}
    assert first["eta"] is not None
    assert [h["symptom"] for h in first["equipment"]["history"]] == ["Slewing brake noise"]
    assert [a["code"] for a in first["equipment"]["open_alarms"]] == ["BRAKE_WEAR"]
    assert first["allowed_actions"][:2] == ["accept", "decline"]
    JobPage.model_validate(page)  # the documented shape


def test_job_detail_matches_the_list_entry(client, job):
    """The detail of a job is the same object the list shows."""
    listed = client.get("/api/v1/me/jobs", headers=job.headers).json()["items"][0]
    detail = client.get(f"/api/v1/me/jobs/{job.visit.id}", headers=job.headers).json()
    assert detail == listed
    JobOut.model_validate(detail)


def test_offset_past_the_end_still_reports_the_total(client, job):
    """Paging past the last job answers an empty page with the right total."""
    r = client.get("/api/v1/me/jobs?offset=50", headers=job.headers).json()
    assert r == {"items": [], "total": 1, "limit": 20, "offset": 50}


def test_etag_answers_304_until_something_changes(client, job):
    """The app can poll cheaply: an unchanged list answers 304, a change gives a new version."""
    r = client.get("/api/v1/me/jobs", headers=job.headers)
    etag = r.headers["etag"]
    again = client.get("/api/v1/me/jobs", headers={**job.headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    client.post(f"/api/v1/jobs/{job.visit.id}/events", json={"kind": "accept"}, headers=job.headers)
    changed = client.get("/api/v1/me/jobs", headers={**job.headers, "If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_the_page_travels_gzipped_to_a_phone_that_accepts_it(client, db_session, settings, job):
    """On a poor signal every byte counts: the page goes out gzipped, and its ETag still answers 304 either way."""
    for seq in (2, 3, 4):
        make_job(db_session, settings, technician=job.technician, sequence=seq)
    plain = client.get("/api/v1/me/jobs", headers={**job.headers, "Accept-Encoding": "identity"})
    gzipped = client.get("/api/v1/me/jobs", headers={**job.headers, "Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert gzipped.headers["content-encoding"] == "gzip" and "Accept-Encoding" in gzipped.headers["vary"]
    wire = int(gzipped.headers["content-length"])
    assert wire < len(plain.content) / 3  # the JSON repeats its keys: it shrinks a lot
    assert gzipped.json() == plain.json()  # httpx inflates it
    # One version of the page, whatever the transfer coding: a validator from either answers 304.
    assert gzipped.headers["etag"] == plain.headers["etag"]
    for encoding in ("gzip", "identity"):
        again = client.get(
            "/api/v1/me/jobs",
            headers={**job.headers, "Accept-Encoding": encoding, "If-None-Match": plain.headers["etag"]},
        )
        assert again.status_code == 304


def test_pagination(client, db_session, settings, job):
    """Long days come in pages: limit and offset, with the total."""
    for seq in (2, 3):
        make_job(db_session, settings, technician=job.technician, sequence=seq)
    r = client.get("/api/v1/me/jobs?limit=2&offset=2", headers=job.headers).json()
    assert r["total"] == 3 and len(r["items"]) == 1 and r["items"][0]["sequence"] == 3


def test_another_technicians_job_is_404_for_reading_and_acting(client, db_session, settings, job):
    """A technician can neither see nor act on a colleague's job, and cannot tell it exists (404, not 403)."""
    other = make_job(db_session, settings)
    assert client.get(f"/api/v1/me/jobs/{job.visit.id}", headers=other.headers).status_code == 404
    r = client.post(f"/api/v1/jobs/{job.visit.id}/events", json={"kind": "accept"}, headers=other.headers)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    missing = client.post("/api/v1/jobs/999999/events", json={"kind": "accept"}, headers=other.headers)
    assert missing.status_code == 404 and missing.json()["detail"] == r.json()["detail"].replace(
        str(job.visit.id), "999999"
    )
    up = client.post(
        f"/api/v1/jobs/{job.visit.id}/photos",
        files={"file": ("a.jpg", b"\xff\xd8\xff" + b"0" * 10)},
        headers=other.headers,
    )
    assert up.status_code == 404
    ids = [j["id"] for j in client.get("/api/v1/me/jobs", headers=other.headers).json()["items"]]
    assert job.visit.id not in ids


def test_office_roles_cannot_use_the_technician_app(client, job, dispatcher_headers):
    """The technician endpoints are for technicians: office accounts are refused."""
    assert client.get("/api/v1/me/jobs", headers=dispatcher_headers).status_code == 403


def test_illegal_transition_answers_409_with_allowed_actions(client, job):
    """Arriving before accepting is refused with the actions that are possible now."""
    r = client.post(
        f"/api/v1/jobs/{job.visit.id}/events",
        json={"kind": "arrived", "position": {"lat": SITE_LAT, "lon": SITE_LON}},
        headers=job.headers,
    )
    assert r.status_code == 409
    body = r.json()
    assert body["allowed"] == ["accept", "decline", "cannot_meet_time"]
    assert "accept" in body["detail"]


def test_event_needs_its_fields(client, job):
    """A decline without a reason is refused with a pointer to what is missing."""
    r = client.post(f"/api/v1/jobs/{job.visit.id}/events", json={"kind": "decline"}, headers=job.headers)
    assert r.status_code == 422


def test_decline_sends_the_ticket_back_for_planning(client, db_session, job):
    """A declined job goes back to the dispatcher: ticket new again, notice raised, audit kept."""
    r = client.post(
        f"/api/v1/jobs/{job.visit.id}/events", json={"kind": "decline", "reason": "van broken"}, headers=job.headers
    )
    assert r.status_code == 200
    assert r.json()["job_status"] == "declined" and r.json()["ticket_status"] == "new"
    db_session.expire_all()
    assert db_session.get(type(job.ticket), job.ticket.id).status is TicketStatus.new


def test_a_job_left_open_from_yesterday_is_still_listed_first(client, db_session, settings, job):
    """Work planned on an earlier day that is still open is today's work: it is listed, first."""
    late = make_job(db_session, settings, technician=job.technician, sequence=5)
    db_session.expire_all()
    visit = db_session.get(type(late.visit), late.visit.id)
    visit.planned_start_at = utcnow() - timedelta(days=1)
    db_session.commit()
    ids = [j["id"] for j in client.get("/api/v1/me/jobs", headers=job.headers).json()["items"]]
    assert ids == [late.visit.id, job.visit.id]
