"""After the technician completes the job, the office sees its clocks run and completes them; the return-visit call
needs an outcome."""

from __future__ import annotations

from dispatch.tickets.models import Ticket
from tests.technician_api.conftest import complete, drive_to_site


def test_completed_job_shows_running_clocks_without_breach(client, db_session, job, dispatcher_headers):
    """The on-site promise is met, the report-back and first-responder clocks run and can be completed."""
    drive_to_site(client, job)
    complete(client, job)
    t = client.get(f"/api/v1/tickets/{job.ticket.id}", headers=dispatcher_headers).json()
    assert t["status"] == "resolved"
    assert t["next_clock"]["breached"] is False
    by_name = {c["name"]: c for c in t["clocks"]}
    assert by_name["on_site"]["done_at"] is not None and by_name["on_site"]["breached"] is False
    assert by_name["report_back"]["completable"] is True and by_name["first_responder"]["completable"] is True
    assert "completed" not in by_name  # a fact, not a clock
    r = client.post(
        f"/api/v1/tickets/{job.ticket.id}/clocks/first_responder/complete",
        json={"note": "Told agent Zhou by phone"},
        headers=dispatcher_headers,
    )
    assert r.status_code == 200, r.text
    assert {c["name"]: c for c in r.json()["clocks"]}["first_responder"]["done_at"] is not None


def test_return_visit_call_requires_an_outcome(client, db_session, job, dispatcher_headers):
    """A call logged without saying whether the customer was reached is refused, and nothing closes."""
    drive_to_site(client, job)
    complete(client, job)
    r = client.post(f"/api/v1/tickets/{job.ticket.id}/return-visit", json={"note": "hm"}, headers=dispatcher_headers)
    assert r.status_code == 422
    assert [e["pointer"] for e in r.json()["errors"]] == ["/outcome"]
    db_session.expire_all()
    assert db_session.get(Ticket, job.ticket.id).closed_at is None
