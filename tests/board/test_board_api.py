"""The board's read models and reports over HTTP: ordering, filters, bounds, roles, CSV."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from geoalchemy2.elements import WKTElement
from sqlalchemy.orm import Session

from dispatch.confirmations.models import Confirmation, ConfirmationLink
from dispatch.core.clock import utcnow
from dispatch.core.settings import Settings
from dispatch.core.types import EquipmentType, Grade, Role, TicketStatus, VisitStatus
from dispatch.devices.models import Alarm
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Visit
from dispatch.workforce.models import TechnicianShift
from tests.factories import auth_header, make_site, make_technician, make_ticket, make_user


def _dispatcher(db_session: Session, settings: Settings) -> dict[str, str]:
    return auth_header(settings, make_user(db_session, role=Role.dispatcher))


def test_queue_groups_by_grade_and_orders_by_time_left(client: TestClient, db_session: Session, settings) -> None:
    """Within a grade the least time left comes first; counts per grade come with every page."""
    now = utcnow()
    late = make_ticket(db_session, grade=Grade.GENERAL, reported_at=now - timedelta(hours=23))
    early = make_ticket(db_session, grade=Grade.GENERAL, reported_at=now - timedelta(hours=1))
    major = make_ticket(db_session, grade=Grade.MAJOR, reported_at=now - timedelta(hours=1))
    make_ticket(db_session, grade=Grade.GENERAL, status=TicketStatus.closed)
    db_session.add(
        Alarm(device_id="d1", alarm_id="a1", ticket_id=major.id, code="BRAKE", severity="critical", state="active")
    )
    db_session.flush()
    headers = _dispatcher(db_session, settings)

    page = client.get("/api/v1/board/queue", params={"grade": "general"}, headers=headers).json()
    assert [t["id"] for t in page["items"]] == [late.id, early.id]
    assert page["counts"] == {"major": 1, "serious": 0, "general": 2} and page["total"] == 2
    first = page["items"][0]
    assert 0 < first["next_clock"]["seconds_left"] <= 3600 and first["next_clock"]["breached"] is False
    everything = client.get("/api/v1/board/queue", headers=headers).json()
    assert everything["items"][0]["id"] == major.id and everything["items"][0]["alarm_count"] == 1


def test_queue_filters_search_and_refuses_unbounded_pages(client: TestClient, db_session: Session, settings) -> None:
    """Dispatchers narrow the queue by equipment type and search by serial; pages are capped at 200."""
    _site, lift = make_site(db_session, equipment_type=EquipmentType.elevator)
    wanted = make_ticket(db_session, equipment=lift)
    make_ticket(db_session)
    headers = _dispatcher(db_session, settings)
    by_type = client.get("/api/v1/board/queue", params={"equipment_type": "elevator"}, headers=headers).json()
    assert [t["id"] for t in by_type["items"]] == [wanted.id]
    by_serial = client.get("/api/v1/board/queue", params={"q": lift.serial_number.lower()}, headers=headers).json()
    assert [t["id"] for t in by_serial["items"]] == [wanted.id]
    assert client.get("/api/v1/board/queue", params={"limit": 1000}, headers=headers).status_code == 422


def test_technician_and_agent_are_refused_board_data(client: TestClient, db_session: Session, settings) -> None:
    """The board's data is refused on the server to technician and agent accounts."""
    for role in (Role.technician, Role.agent):
        headers = auth_header(settings, make_user(db_session, role=role))
        for path in ("/api/v1/board/config", "/api/v1/board/queue", "/api/v1/board/map", "/api/v1/reports/on-time"):
            assert client.get(path, headers=headers).status_code == 403, (role, path)


def test_schedule_shows_shifts_visits_and_late_or_unassigned_work(
    client: TestClient, db_session: Session, settings
) -> None:
    """The Gantt gets each technician's shift and visits, late visits and unplanned tickets with a reason."""
    now = utcnow().replace(microsecond=0)
    tech = make_technician(db_session)
    db_session.add(
        TechnicianShift(technician_id=tech.id, starts_at=now - timedelta(hours=2), ends_at=now + timedelta(hours=6))
    )
    ticket = make_ticket(db_session, grade=Grade.MAJOR, reported_at=now - timedelta(hours=3))
    db_session.add(
        Visit(
            ticket_id=ticket.id,
            technician_id=tech.id,
            status=VisitStatus.assigned,
            planned_departure_at=now + timedelta(minutes=30),
            planned_arrival_at=now + timedelta(hours=2),
            planned_start_at=now + timedelta(hours=2),
            planned_end_at=now + timedelta(hours=3),
        )
    )
    lonely = make_ticket(db_session, grade=Grade.SERIOUS)
    db_session.flush()
    body = client.get(
        "/api/v1/board/schedule",
        params={"start": (now - timedelta(hours=4)).isoformat()},
        headers=_dispatcher(db_session, settings),
    ).json()
    row = next(r for r in body["rows"] if r["technician"]["id"] == tech.id)
    assert len(row["shifts"]) == 1 and row["visits"][0]["ticket_id"] == ticket.id
    assert row["visits"][0]["late"] is True and body["late"][0]["reason"].startswith("planned arrival 1 h")
    assert lonely.id in [u["ticket_id"] for u in body["unassigned"]]


def test_map_has_sites_by_worst_grade_technicians_and_depots(client: TestClient, db_session: Session, settings) -> None:
    """The map shows each site with open tickets once, coloured by its worst grade."""
    site, unit = make_site(db_session, lat=28.1, lon=112.8)
    make_ticket(db_session, grade=Grade.GENERAL, equipment=unit)
    make_ticket(db_session, grade=Grade.SERIOUS, equipment=unit)
    tech = make_technician(db_session)
    tech.last_position = WKTElement("POINT(112.9 28.3)", srid=4326)
    db_session.flush()
    body = client.get("/api/v1/board/map", headers=_dispatcher(db_session, settings)).json()
    mine = next(s for s in body["sites"] if s["site_id"] == site.id)
    assert mine["grade"] == "serious" and mine["tickets"] == 2 and abs(mine["lat"] - 28.1) < 1e-9
    me = next(t for t in body["technicians"] if t["id"] == tech.id)
    assert (me["lat"], me["lon"]) == (28.3, 112.9)
    assert body["depots"]


def test_on_time_report_and_csv_match_the_tickets(client: TestClient, db_session: Session, settings) -> None:
    """The on-time report counts a ticket on time when it was on site by its deadline; CSV has the same rows."""
    now = utcnow()
    kept = make_ticket(db_session, grade=Grade.MAJOR, reported_at=now - timedelta(days=2))
    kept.on_site_at = kept.reported_at + timedelta(hours=3)
    missed = make_ticket(db_session, grade=Grade.MAJOR, reported_at=now - timedelta(days=2))
    missed.on_site_at = missed.reported_at + timedelta(hours=5)
    make_ticket(db_session, grade=Grade.GENERAL, reported_at=now - timedelta(hours=1))  # not decided yet
    db_session.flush()
    headers = _dispatcher(db_session, settings)
    body = client.get("/api/v1/reports/on-time", headers=headers).json()
    assert body["overall"] == {"tickets": 2, "on_time": 1, "rate": 0.5}
    csv = client.get("/api/v1/reports/on-time", params={"format": "csv"}, headers=headers)
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0] == "week,grade,tickets,on_time,rate" and lines[1].endswith(",major,2,1,0.5")
    shares = client.get("/api/v1/reports/breakdown", params={"by": "equipment_type"}, headers=headers).json()
    assert shares["rows"] == [{"key": "tower_crane", "tickets": 3, "share": 1.0}]
    times = client.get("/api/v1/reports/response-times", headers=headers).json()
    assert {r["grade"] for r in times["rows"]} == {"major", "general"}
    for empty in ("satisfaction", "return-visits"):
        assert client.get(f"/api/v1/reports/{empty}", headers=headers).json()["rows"] == []
    assert (
        client.get("/api/v1/reports/on-time", params={"from": "2020-01-01T00:00:00Z"}, headers=headers).status_code
        == 422
    )


def test_queue_groups_gives_first_page_of_every_grade_in_one_answer(
    client: TestClient, db_session: Session, settings
) -> None:
    """The board's first paint needs one request: the most urgent tickets of each grade, with totals."""
    now = utcnow()
    generals = [make_ticket(db_session, grade=Grade.GENERAL, reported_at=now - timedelta(hours=h)) for h in (1, 5, 3)]
    major = make_ticket(db_session, grade=Grade.MAJOR, reported_at=now)
    body = client.get(
        "/api/v1/board/queue/groups", params={"limit": 2}, headers=_dispatcher(db_session, settings)
    ).json()
    assert body["counts"] == {"major": 1, "serious": 0, "general": 3}
    assert [t["id"] for t in body["groups"]["general"]["items"]] == [generals[1].id, generals[2].id]
    assert body["groups"]["general"]["total"] == 3 and body["groups"]["serious"]["items"] == []
    assert [t["id"] for t in body["groups"]["major"]["items"]] == [major.id]


def test_satisfaction_and_return_visit_reports_read_confirmations_and_tasks(
    client: TestClient, db_session: Session, settings
) -> None:
    """Performance is the mean rating per dimension; importance follows overall satisfaction; return visits
    count as on time when done by their deadline."""
    now = utcnow()
    for i, (satisfied, quality, speed) in enumerate([(True, 5, 4), (True, 4, 2), (False, 1, 3)]):
        ticket = make_ticket(db_session, reported_at=now - timedelta(days=3))
        visit = Visit(ticket_id=ticket.id, status=VisitStatus.completed)
        db_session.add(visit)
        db_session.flush()
        jti = f"jti-{ticket.id}"
        db_session.add(ConfirmationLink(jti=jti, ticket_id=ticket.id, visit_id=visit.id, issued_at=now, expires_at=now))
        db_session.flush()
        db_session.add(
            Confirmation(
                ticket_id=ticket.id,
                visit_id=visit.id,
                link_jti=jti,
                satisfied=satisfied,
                ratings={"quality": quality, "speed": speed},
                signer_name="Site manager",
                signer_role="manager",
                signature_png=b"png",
                signed_at=now - timedelta(days=1),
                work_report={},
                outcome="confirmed" if satisfied else "reopened",
                document_sha256="0" * 64,
            )
        )
        db_session.add(
            ReturnVisitTask(
                ticket_id=ticket.id,
                reason="completion",
                status="done" if i < 2 else "open",
                due_at=now - timedelta(days=1),
                done_at=(now - timedelta(days=2)) if i == 0 else (now - timedelta(hours=2)) if i == 1 else None,
            )
        )
    db_session.flush()
    headers = _dispatcher(db_session, settings)
    sat = client.get("/api/v1/reports/satisfaction", headers=headers).json()
    by_dim = {r["dimension"]: r for r in sat["rows"]}
    assert by_dim["quality"]["performance"] == round((5 + 4 + 1) / 3, 2) and by_dim["quality"]["answers"] == 3
    assert by_dim["quality"]["importance"] > by_dim["speed"]["importance"]
    visits = client.get("/api/v1/reports/return-visits", headers=headers).json()
    assert [(r["due"], r["done"], r["on_time"]) for r in visits["rows"]] == [(3, 2, 1)]
