"""A whole job done on a phone with no network, then synced: nothing lost, nothing counted twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.confirmations.models import Confirmation
from dispatch.core.types import TicketStatus, VisitStatus
from dispatch.tickets.models import Ticket, Visit
from dispatch.visits.models import JobEvent, JobPhoto, WorkReport
from tests.app.conftest import screenshot
from tests.app.phone import (
    answer_sheet,
    camera_jpeg,
    draw_signature,
    outbox,
    pick,
    sign_in,
    tap_action,
    wait_for_worker,
)
from tests.app.world import SITE_LAT, SITE_LON, make_day
from tests.board.conftest import LiveServer
from tests.factories import token_for

pytestmark = pytest.mark.browser


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_whole_job_offline_then_synced_once(phone: Any, live_server: LiveServer, live_session: Session) -> None:
    """With the network cut after the job list loaded, the technician accepts, reports a delay, drives, checks in
    (the phone's own geofence answer), pauses and resumes, takes a camera photo, files the report with a part and
    has the customer rate and sign. Back online, the outbox empties by itself — even though the answer to the
    first sync is lost on the way (a phone dying mid-sync) — and the server holds exactly what was done, at the
    phone's times. Sending everything again changes nothing."""
    day = make_day(live_session, live_server.settings)
    visit_id = day.first.id
    context = phone(geolocation={"latitude": SITE_LAT + 0.0005, "longitude": SITE_LON})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, live_server, day.user.username)
    wait_for_worker(page)
    page.wait_for_function("document.querySelectorAll('li.job').length === 3")

    context.set_offline(True)
    page.wait_for_selector("#net[data-state='offline']")
    page.click(f"li.job[data-id='{visit_id}'] a")
    page.wait_for_selector("#screen[data-screen='job']")

    tap_action(page, "accept")
    page.wait_for_selector("#actions [data-action='en_route']")
    tap_action(page, "cannot_meet_time")
    page.click("dialog.sheet .chips button:nth-child(3)")  # +2 h
    answer_sheet(page, **{"eta-reason": "Traffic on the Xiangjiang bridge"})
    tap_action(page, "en_route")
    page.wait_for_selector("#actions [data-action='arrived']")
    tap_action(page, "arrived")
    page.wait_for_selector("#geofence[data-answer='ok']")
    assert "inside the 300 m geofence" in page.locator("#geofence").inner_text()
    tap_action(page, "paused")
    answer_sheet(page, reason="Waiting for the crane operator")
    tap_action(page, "resumed")
    page.wait_for_selector("#actions [data-action='completed']")
    original = camera_jpeg()
    page.set_input_files("#photo-input", files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": original}])
    page.wait_for_selector("#my-photos img[data-state='waiting']")
    screenshot(page, "job-offline-on-site-en")

    tap_action(page, "completed")
    page.wait_for_selector("#report-form")
    page.fill("#cause", "Hoist gearbox gear broken (tooth 14)")
    page.fill("#work", "Replaced the hoist gearbox, load-tested")
    page.click("#add-part")
    page.select_option("#parts select", index=1)
    page.fill("#minutes", "95")
    page.click("#report-submit")

    page.wait_for_selector("#close-form")
    pick(page, "satisfied", "yes")
    for name, value in (("quality", 5), ("speed", 4), ("attitude", 5), ("accurate_information", 4), ("safety", 5)):
        pick(page, name, str(value))
    pick(page, "relationship_kept", "yes")
    page.fill("textarea[name='improvement_process']", "Call before coming")
    page.fill("#signer-name", "Zhang Min")
    page.fill("#signer-role", "Site manager")
    page.click("#close-submit")
    assert page.locator(".form-error").inner_text()  # no signature yet: stopped on the phone
    draw_signature(page)
    screenshot(page, "close-signed-en", full_page=True)
    page.click("#close-submit")
    page.wait_for_selector("#thanks")

    rows = outbox(page)
    kinds = [r["kind"] for r in rows]
    assert kinds == [
        "accept",
        "cannot_meet_time",
        "en_route",
        "arrived",
        "paused",
        "resumed",
        "photo",
        "completed",
        "confirmation",
    ], kinds
    assert all(r["state"] == "waiting" for r in rows)
    assert page.locator("#outbox-chip").get_attribute("data-waiting") == "9"
    # Nothing reached the server.
    live_session.expire_all()
    assert live_session.get(Ticket, day.tickets[0].id).status is TicketStatus.assigned

    # Back online; the first answer from the sync is lost on the way (applied on the server, never seen).
    lost: list[int] = []

    def lose_first_answer(route: Any) -> None:
        if not lost:
            route.fetch()  # the server applies the batch…
            lost.append(1)
            route.abort("connectionreset")  # …and the phone never hears back
        else:
            route.continue_()

    context.route("**/api/v1/me/sync", lose_first_answer)
    context.set_offline(False)
    page.wait_for_selector("#outbox-chip[data-waiting='0']", timeout=30_000)
    assert lost, "the app synced on reconnection by itself"
    rows = outbox(page)
    assert {r["state"] for r in rows} == {"sent"}, [(r["kind"], r["state"], r["detail"]) for r in rows]
    # The replayed events came back as duplicates of the first (lost) answer.
    assert all(r["result"] for r in rows)

    live_session.expire_all()
    ticket = live_session.get(Ticket, day.tickets[0].id)
    visit = live_session.get(Visit, visit_id)
    assert ticket.status is TicketStatus.confirmed
    assert visit.status is VisitStatus.completed
    by_kind = {r["kind"]: r for r in rows}
    # Device times are the server's times.
    assert abs((visit.departed_at - _at(by_kind["en_route"]["device_at"])).total_seconds()) < 0.01
    assert abs((visit.arrived_at - _at(by_kind["arrived"]["device_at"])).total_seconds()) < 0.01
    events = live_session.scalars(select(JobEvent).where(JobEvent.visit_id == visit_id).order_by(JobEvent.id)).all()
    assert [e.kind for e in events] == [k for k in kinds if k not in ("photo", "confirmation")]
    for e in events:
        assert abs((e.device_at - _at(by_kind[e.kind]["device_at"])).total_seconds()) < 0.01, e.kind
    delay = next(e for e in events if e.kind == "cannot_meet_time").payload
    assert delay["reason"] == "Traffic on the Xiangjiang bridge"
    assert abs((_at(delay["new_eta"]) - _at(by_kind["cannot_meet_time"]["body"]["new_eta"])).total_seconds()) < 1
    # The photo: one, compressed on the phone, named in the report.
    photos = live_session.scalars(select(JobPhoto).where(JobPhoto.visit_id == visit_id)).all()
    assert len(photos) == 1
    assert photos[0].size_bytes < len(original) / 4, (photos[0].size_bytes, len(original))
    assert abs((photos[0].taken_at - _at(by_kind["photo"]["device_at"])).total_seconds()) < 0.01
    report = live_session.scalar(select(WorkReport).where(WorkReport.visit_id == visit_id))
    assert report is not None and report.photo_ids == [photos[0].id]
    assert report.minutes_spent == 95 and report.parts_used and report.parts_used[0]["quantity"] == 1
    conf = live_session.scalar(select(Confirmation).where(Confirmation.visit_id == visit_id))
    assert conf is not None and conf.channel == "device" and conf.signer_name == "Zhang Min"
    assert conf.ratings == {"quality": 5, "speed": 4, "attitude": 5, "accurate_information": 4, "safety": 5}
    assert conf.relationship_kept is True and conf.improvements == {"process": "Call before coming"}
    assert abs((conf.signed_at - _at(by_kind["confirmation"]["device_at"])).total_seconds()) < 0.01
    office = {"Authorization": f"Bearer {token_for(live_server.settings, _office(live_session))}"}
    verify = httpx.get(f"{live_server.url}/api/v1/tickets/{ticket.id}/confirmation/verify", headers=office).json()
    assert verify["valid"] is True
    timeline = [a.action for a in live_session.scalars(select(AuditEntry).where(AuditEntry.ticket_id == ticket.id))]
    for action in ("accept", "start_travel", "arrive", "complete", "confirm"):
        assert action in timeline, (action, timeline)

    # Sending everything again (the phone restored from a backup, a double tap) changes nothing.
    counts = _counts(live_session, visit_id, ticket.id)
    again = page.evaluate(
        """async (rows) => {
          const token = await new Promise((res) => {
            const o = indexedDB.open("onsite24-app");
            o.onsuccess = () => {
              const q = o.result.transaction("kv").objectStore("kv").get("token");
              q.onsuccess = () => res(q.result);
            };
          });
          const h = { Authorization: "Bearer " + token, "Content-Type": "application/json" };
          const events = rows.filter((r) => r.type === "event").map((r) => ({ idempotency_key: r.key, job_id: r.job_id,
            kind: r.kind, device_at: r.device_at, ...r.body,
            ...(r.body.report ? { report: { ...r.body.report, photo_ids: [] } } : {}) }));
          const body = JSON.stringify({ events });
          const sync = await (await fetch("/api/v1/me/sync", { method: "POST", headers: h, body })).json();
          const c = rows.find((r) => r.type === "confirmation");
          const conf = await fetch(`/api/v1/jobs/${c.job_id}/confirmation`, { method: "POST",
            headers: { ...h, "Idempotency-Key": c.key }, body: JSON.stringify({ ...c.body, signed_at: c.device_at }) });
          return { statuses: sync.results.map((r) => r.status), conf: conf.status, dup: (await conf.json()).duplicate };
        }""",
        rows,
    )
    assert set(again["statuses"]) == {"duplicate"}, again
    assert again["conf"] == 200 and again["dup"] is True
    assert _counts(live_session, visit_id, ticket.id) == counts
    # The check-in's geofence answer is now the server's (PostGIS), no longer the phone's estimate.
    page.goto(f"{live_server.url}/app/#/job/{visit_id}")
    page.wait_for_selector("#geofence[data-answer='ok']")
    assert page.locator("#geofence").inner_text().startswith("On site:")
    page.goto(f"{live_server.url}/app/#/outbox")
    page.wait_for_selector("#screen[data-screen='outbox']")
    screenshot(page, "outbox-sent-en", full_page=True)
    assert not errors, errors


def _office(session: Session):  # type: ignore[no-untyped-def]
    from dispatch.core.types import Role
    from tests.factories import make_user

    user = make_user(session, role=Role.dispatcher)
    session.commit()
    return user


def _counts(session: Session, visit_id: int, ticket_id: int) -> tuple[int, ...]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(JobEvent).where(JobEvent.visit_id == visit_id)) or 0,
        session.scalar(select(func.count()).select_from(JobPhoto).where(JobPhoto.visit_id == visit_id)) or 0,
        session.scalar(select(func.count()).select_from(Confirmation).where(Confirmation.visit_id == visit_id)) or 0,
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.ticket_id == ticket_id)) or 0,
    )
