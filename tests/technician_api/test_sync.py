"""Offline sync: queued events sent later in one batch, replayed, out of order, or conflicting."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from dispatch.audit.models import AuditEntry
from dispatch.core.clock import utcnow
from dispatch.core.types import TicketStatus, VisitStatus
from dispatch.tickets.models import Ticket, Visit
from dispatch.visits.models import JobEvent
from tests.factories import make_technician
from tests.technician_api.conftest import REPORT, SITE_LAT, SITE_LON, make_job


def _batch(job, start, *, complete=True):  # type: ignore[no-untyped-def]
    """The events of a whole job as the phone queues them, one minute apart."""
    steps = [
        {"kind": "accept"},
        {"kind": "en_route", "position": {"lat": SITE_LAT - 0.1, "lon": SITE_LON}},
        {"kind": "position", "position": {"lat": SITE_LAT - 0.05, "lon": SITE_LON}},
        {"kind": "arrived", "position": {"lat": SITE_LAT, "lon": SITE_LON}},
    ]
    if complete:
        steps.append({"kind": "completed", "report": REPORT})
    return [
        {
            **s,
            "idempotency_key": f"job{job.visit.id}-{i:03d}",
            "job_id": job.visit.id,
            "device_at": (start + timedelta(minutes=20 * i)).isoformat(),
        }
        for i, s in enumerate(steps)
    ]


def _audit_count(db_session, ticket_id):  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.ticket_id == ticket_id))


def test_replaying_a_batch_twice_never_duplicates(client, db_session, job):
    """Sending the same batch again (lost answer, app restart) changes nothing and answers 'duplicate' per event."""
    events = _batch(job, utcnow() - timedelta(hours=2))
    first = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers)
    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["applied"] * 5
    audits = _audit_count(db_session, job.ticket.id)

    for _ in range(2):
        again = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers).json()
        assert [r["status"] for r in again["results"]] == ["duplicate"] * 5
        assert again["duplicates"] == 5 and again["applied"] == 0
    # part of the batch, too
    part = client.post("/api/v1/me/sync", json={"events": events[2:4]}, headers=job.headers).json()
    assert [r["status"] for r in part["results"]] == ["duplicate", "duplicate"]
    assert part["results"][1]["result"]["job_status"] == "on_site"

    assert _audit_count(db_session, job.ticket.id) == audits
    assert db_session.scalar(select(func.count()).select_from(JobEvent).where(JobEvent.visit_id == job.visit.id)) == 5
    db_session.expire_all()
    assert db_session.get(Ticket, job.ticket.id).status is TicketStatus.resolved


def test_events_are_applied_in_device_time_order_and_sla_uses_device_arrival(client, db_session, job):
    """A batch that arrives shuffled is applied in the order things happened; the arrival keeps its device time."""
    start = utcnow() - timedelta(hours=3)
    events = _batch(job, start, complete=False)
    shuffled = [events[3], events[0], events[2], events[1]]
    out = client.post("/api/v1/me/sync", json={"events": shuffled}, headers=job.headers).json()
    assert [r["kind"] for r in out["results"]] == ["accept", "en_route", "position", "arrived"]
    assert all(r["status"] == "applied" for r in out["results"])
    arrival = out["results"][3]["result"]["arrival"]
    assert arrival["source"] == "device"
    db_session.expire_all()
    ticket = db_session.get(Ticket, job.ticket.id)
    assert ticket.on_site_at == start + timedelta(minutes=60)  # the phone's arrival, not the upload time


def test_implausible_device_arrival_falls_back_to_server_time(client, db_session, job):
    """An arrival stamped before departure is not trusted for the promise: the server's time is used."""
    start = utcnow() - timedelta(hours=1)
    events = _batch(job, start, complete=False)
    events[3]["device_at"] = (start - timedelta(hours=1)).isoformat()  # before en_route, before accept
    out = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers).json()
    arrived = next(r for r in out["results"] if r["kind"] == "arrived")
    # sorted first by device time, so it came before en_route: the lifecycle refuses it
    assert arrived["status"] == "conflict" and arrived["reason"] == "illegal_transition"
    fixed = {**events[3], "idempotency_key": "retry-arrival-1", "device_at": (start - timedelta(minutes=1)).isoformat()}
    # still before en_route: accepted by the lifecycle now (it is sent after), but SLA uses the server time
    out = client.post("/api/v1/me/sync", json={"events": [fixed]}, headers=job.headers).json()
    result = out["results"][0]
    assert result["status"] == "applied"
    assert result["result"]["arrival"]["source"] == "server"
    assert "before en_route" in result["result"]["arrival"]["reason"]


def test_conflict_on_a_reassigned_job_and_the_others_still_apply(client, db_session, settings, job):
    """A job reassigned while the phone was offline answers a per-event conflict; events of other jobs apply."""
    other_job = make_job(db_session, settings, technician=job.technician, sequence=2)
    start = utcnow() - timedelta(hours=2)
    accept = _batch(job, start)[:1]
    assert client.post("/api/v1/me/sync", json={"events": accept}, headers=job.headers).json()["applied"] == 1

    # The dispatcher gives the first job to someone else.
    colleague = make_technician(db_session)
    db_session.expire_all()
    visit = db_session.get(Visit, job.visit.id)
    visit.technician_id = colleague.id
    visit.status = VisitStatus.assigned
    db_session.commit()

    events = _batch(job, start)[1:4] + _batch(other_job, start + timedelta(minutes=5), complete=False)
    out = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers).json()
    by_job = {}
    for r in out["results"]:
        by_job.setdefault(r["job_id"], []).append(r)
    assert {r["status"] for r in by_job[job.visit.id]} == {"conflict"}
    assert {r["reason"] for r in by_job[job.visit.id]} == {"job_reassigned"}
    assert [r["status"] for r in by_job[other_job.visit.id]] == ["applied"] * 4
    # the reassigned job is untouched
    db_session.expire_all()
    assert db_session.get(Visit, job.visit.id).status is VisitStatus.assigned
    # replaying answers the same conflicts, never applies them later
    again = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers).json()
    assert {r["status"] for r in again["results"]} == {"duplicate"}


def test_invalid_event_in_a_batch_is_rejected_alone(client, job):
    """One malformed queued event is answered 'rejected' and does not block the rest of the queue."""
    events = _batch(job, utcnow() - timedelta(hours=1), complete=False)
    events[1] = {**events[1], "position": None}
    out = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers).json()
    statuses = [r["status"] for r in out["results"]]
    assert statuses[0] == "applied" and statuses[1] == "rejected"


def test_duplicate_keys_inside_one_batch_apply_once(client, db_session, job):
    """The same event queued twice in one batch is applied once."""
    events = _batch(job, utcnow() - timedelta(hours=1), complete=False)[:1]
    out = client.post("/api/v1/me/sync", json={"events": events * 3}, headers=job.headers).json()
    assert [r["status"] for r in out["results"]] == ["applied"]
    assert _audit_count(db_session, job.ticket.id) == 2  # open + accept


def test_events_for_a_colleagues_job_are_answered_not_found(client, db_session, settings, job):
    """Syncing events for a job that was never mine answers 'job_not_found' and reveals nothing about it."""
    colleague_job = make_job(db_session, settings)
    events = _batch(colleague_job, utcnow() - timedelta(hours=1), complete=False)[:1]
    out = client.post("/api/v1/me/sync", json={"events": events}, headers=job.headers).json()
    assert out["results"][0]["status"] == "conflict" and out["results"][0]["reason"] == "job_not_found"
    db_session.expire_all()
    assert db_session.get(Visit, colleague_job.visit.id).status is VisitStatus.assigned
