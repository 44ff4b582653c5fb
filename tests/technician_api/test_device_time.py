"""Offline sync refuses device times that contradict the ticket's own history, with the reason."""

from __future__ import annotations

from datetime import timedelta

from dispatch.core.clock import utcnow
from dispatch.tickets.models import Visit


def test_accept_stamped_before_the_assignment_is_refused_with_the_reason(client, db_session, job):
    """An accept whose phone time is before the job existed comes back refused, saying what it contradicts."""
    visit = db_session.get(Visit, job.visit.id)
    event = {
        "kind": "accept",
        "idempotency_key": f"job{job.visit.id}-accept-early",
        "job_id": job.visit.id,
        "device_at": (visit.created_at - timedelta(minutes=10)).isoformat(),
    }
    out = client.post("/api/v1/me/sync", json={"events": [event]}, headers=job.headers).json()
    result = out["results"][0]
    assert result["status"] == "conflict" and result["reason"] == "device-time-contradicts-history"
    assert "before the job was" in result["detail"]
    db_session.expire_all()
    assert db_session.get(Visit, job.visit.id).status.value == "assigned"
    fine = {**event, "idempotency_key": f"job{job.visit.id}-accept-ok", "device_at": utcnow().isoformat()}
    out = client.post("/api/v1/me/sync", json={"events": [fine]}, headers=job.headers).json()
    assert out["results"][0]["status"] == "applied"
