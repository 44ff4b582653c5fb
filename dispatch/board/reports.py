"""Manager and dispatcher reports (domain.md "Records and review"), each bounded by a date range and as CSV.

- on-time on-site rate by grade and week (a ticket counts once its deadline has passed or it is on site);
- tickets by category, nature or equipment type: the top complaints and their share;
- first-response and resolution times by grade (median and 90th percentile, minutes);
- satisfaction by dimension, importance against performance (from the customers' confirmations);
- return visits done on time.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy import Date, Float, String, Text, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from dispatch.audit.models import AuditEntry
from dispatch.board.api import BoardUser
from dispatch.confirmations.models import Confirmation
from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import AppPolicy, Now, RequestLocale
from dispatch.core.errors import Unprocessable
from dispatch.core.i18n import gettext as _
from dispatch.customers.models import Equipment
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.tickets.models import Ticket, Visit

router = APIRouter(prefix="/reports", tags=["reports"])
MAX_RANGE_DAYS = 400
Format = Literal["json", "csv"]
# Every report answers JSON, or CSV with ?format=csv.
CSV_OR_JSON: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}}
}
From = Annotated[datetime | None, Query(alias="from", description="Start (reported_at ≥); default 8 weeks ago")]
To = Annotated[datetime | None, Query(alias="to", description="End (reported_at <); default now")]


def _range(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = end or utcnow()
    start = start or end - timedelta(weeks=8)
    if start.tzinfo is None or end.tzinfo is None:
        raise Unprocessable(
            "from/to need a time zone offset, e.g. 2026-11-01T00:00:00+08:00", key="error.report.range-zone"
        )
    if end <= start or (end - start).days > MAX_RANGE_DAYS:
        raise Unprocessable(
            f"from must be before to, and the range at most {MAX_RANGE_DAYS} days",
            key="error.report.range",
            params={"days": MAX_RANGE_DAYS},
        )
    return start, end


def _csv(name: str, columns: list[str], rows: list[dict[str, Any]]) -> Response:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="onsite24-{name}.csv"'},
    )


def _out(fmt: Format, name: str, columns: list[str], body: dict[str, Any]) -> Any:
    return _csv(name, columns, body["rows"]) if fmt == "csv" else body


def on_time_rows(session: Session, *, start: datetime, end: datetime, now: datetime, tz: str) -> list[dict[str, Any]]:
    week = func.date_trunc("week", func.timezone(tz, Ticket.reported_at))
    decided = or_(Ticket.on_site_at.is_not(None), Ticket.due_on_site_at < now)
    on_time = and_(Ticket.on_site_at.is_not(None), Ticket.on_site_at <= Ticket.due_on_site_at)
    rows = session.execute(
        select(
            week.label("week"),
            Ticket.grade,
            func.count().label("tickets"),
            func.count().filter(on_time).label("on_time"),
        )
        .where(Ticket.reported_at >= start, Ticket.reported_at < end, decided, Ticket.nature != "invalid")
        .group_by(week, Ticket.grade)
        .order_by(week, Ticket.grade)
    ).all()
    return [
        {
            "week": r.week.date().isoformat(),
            "grade": str(r.grade),
            "tickets": r.tickets,
            "on_time": r.on_time,
            "rate": round(r.on_time / r.tickets, 4) if r.tickets else None,
        }
        for r in rows
    ]


@router.get("/on-time", summary="On-time on-site rate by grade and week", responses=CSV_OR_JSON)
def report_on_time(
    session: DbSession,
    policy: AppPolicy,
    now: Now,
    _who: BoardUser,
    start: From = None,
    end: To = None,
    format: Format = "json",
) -> Any:
    a, b = _range(start, end)
    tz = policy.calendar.timezone
    rows = on_time_rows(session, start=a, end=b, now=now, tz=tz)
    total = sum(r["tickets"] for r in rows)
    kept = sum(r["on_time"] for r in rows)
    body = {
        "from": a,
        "to": b,
        "timezone": tz,
        "rows": rows,
        "overall": {"tickets": total, "on_time": kept, "rate": round(kept / total, 4) if total else None},
    }
    return _out(format, "on-time", ["week", "grade", "tickets", "on_time", "rate"], body)


@router.get(
    "/breakdown",
    summary="Tickets by category, nature or equipment type: top complaints and share",
    responses=CSV_OR_JSON,
)
def report_breakdown(
    session: DbSession,
    _who: BoardUser,
    by: Literal["category", "nature", "equipment_type", "grade", "channel"] = "category",
    start: From = None,
    end: To = None,
    top: Annotated[int, Query(ge=1, le=50)] = 10,
    format: Format = "json",
) -> Any:
    a, b = _range(start, end)
    column = Equipment.equipment_type if by == "equipment_type" else getattr(Ticket, by)
    key = func.coalesce(cast(column, String), "unknown").label("key")
    query = (
        select(key, func.count().label("tickets"))
        .select_from(Ticket)
        .outerjoin(Equipment, Equipment.id == Ticket.equipment_id)
        .where(Ticket.reported_at >= a, Ticket.reported_at < b)
        .group_by(key)
        .order_by(func.count().desc(), key)
    )
    counted = session.execute(query).all()
    total = sum(r.tickets for r in counted)
    rows = [
        {"key": r.key, "tickets": r.tickets, "share": round(r.tickets / total, 4) if total else 0.0}
        for r in counted[:top]
    ]
    rest = sum(r.tickets for r in counted[top:])
    if rest:
        rows.append({"key": "other", "tickets": rest, "share": round(rest / total, 4)})
    body = {"from": a, "to": b, "by": by, "total": total, "rows": rows}
    return _out(format, f"by-{by}", ["key", "tickets", "share"], body)


@router.get("/response-times", summary="First-response and resolution times by grade (minutes)", responses=CSV_OR_JSON)
def report_response_times(
    session: DbSession, _who: BoardUser, start: From = None, end: To = None, format: Format = "json"
) -> Any:
    a, b = _range(start, end)
    first_visit = select(func.min(Visit.created_at)).where(Visit.ticket_id == Ticket.id).scalar_subquery()
    first_action = (
        select(func.min(AuditEntry.at))
        .where(AuditEntry.ticket_id == Ticket.id, AuditEntry.action != "open")
        .scalar_subquery()
    )
    # First response: the first thing anyone did about it after intake (an assignment or any audited action).
    first = func.least(first_visit, first_action)
    minutes = lambda later: func.extract("epoch", later - Ticket.reported_at) / 60.0  # noqa: E731
    pct = lambda p, expr: func.percentile_cont(p).within_group(cast(expr, Float))  # noqa: E731
    inner = (
        select(
            Ticket.grade.label("grade"),
            minutes(first).label("first"),
            minutes(Ticket.resolved_at).label("resolved"),
        )
        .where(Ticket.reported_at >= a, Ticket.reported_at < b)
        .subquery()
    )
    rows = []
    for r in session.execute(
        select(
            inner.c.grade,
            func.count().label("tickets"),
            func.count(inner.c.first).label("responded"),
            pct(0.5, inner.c.first),
            pct(0.9, inner.c.first),
            func.count(inner.c.resolved).label("resolved"),
            pct(0.5, inner.c.resolved),
            pct(0.9, inner.c.resolved),
        )
        .group_by(inner.c.grade)
        .order_by(case({"major": 0, "serious": 1, "general": 2}, value=inner.c.grade))
    ):
        rnd = lambda v: None if v is None else round(float(v), 1)  # noqa: E731
        rows.append(
            {
                "grade": str(r[0]),
                "tickets": r[1],
                "responded": r[2],
                "first_response_p50_min": rnd(r[3]),
                "first_response_p90_min": rnd(r[4]),
                "resolved": r[5],
                "resolution_p50_min": rnd(r[6]),
                "resolution_p90_min": rnd(r[7]),
            }
        )
    columns = list(rows[0]) if rows else ["grade", "tickets"]
    return _out(format, "response-times", columns, {"from": a, "to": b, "rows": rows})


def satisfaction_rows(session: Session, *, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Per rated dimension of the confirmations signed in [start, end): mean rating, its correlation with the
    customer being satisfied overall, and how many answers."""
    rating = func.jsonb_each(Confirmation.ratings).table_valued("key", "value", joins_implicitly=True).alias("d")
    score = cast(cast(rating.c.value, Text), Float)
    satisfied = case((Confirmation.satisfied, 1.0), else_=0.0)
    rows = session.execute(
        select(
            rating.c.key.label("dimension"),
            func.avg(score).label("performance"),
            func.corr(score, satisfied).label("importance"),
            func.count().label("answers"),
        )
        .select_from(Confirmation, rating)
        .where(
            Confirmation.signed_at >= start,
            Confirmation.signed_at < end,
            func.jsonb_typeof(rating.c.value) == "number",
        )
        .group_by(rating.c.key)
        .order_by(rating.c.key)
        .limit(50)
    )
    return [
        {
            "dimension": r.dimension,
            "importance": None if r.importance is None else round(float(r.importance), 3),
            "performance": round(float(r.performance), 2),
            "answers": r.answers,
        }
        for r in rows
    ]


SAT_COLUMNS = ["dimension", "importance", "performance", "answers"]


@router.get(
    "/satisfaction",
    summary="Satisfaction by dimension: importance against performance",
    responses=CSV_OR_JSON,
)
def report_satisfaction(
    session: DbSession,
    _who: BoardUser,
    locale: RequestLocale,
    start: From = None,
    end: To = None,
    format: Format = "json",
) -> Any:
    """Performance is the mean rating (1-5) per dimension of the customers' signed confirmations; importance is
    derived (seed 004's importance-performance analysis): how strongly the dimension's rating goes with the
    customer being satisfied overall (Pearson correlation, -1..1). Improve first: high importance, low
    performance."""
    a, b = _range(start, end)
    rows = satisfaction_rows(session, start=a, end=b)
    body = {
        "from": a,
        "to": b,
        "available": True,
        "reason": None if rows else _("report.reason.no-confirmations-in-period", locale),
        "rows": rows,
    }
    return _out(format, "satisfaction", SAT_COLUMNS, body)


RV_COLUMNS = ["week", "due", "done", "on_time", "rate"]


def return_visit_rows(session: Session, *, start: datetime, end: datetime, now: datetime) -> list[dict[str, Any]]:
    """Per week the tasks fell due in [start, end), counting those due by `now` and not superseded: how many
    were due, done, and done by their deadline."""
    week = func.date_trunc("week", ReturnVisitTask.due_at)
    on_time = ReturnVisitTask.done_at <= ReturnVisitTask.due_at
    rows = session.execute(
        select(
            cast(week, Date).label("week"),
            func.count().label("due"),
            func.count(ReturnVisitTask.done_at).label("done"),
            func.count().filter(on_time).label("on_time"),
        )
        .where(
            ReturnVisitTask.due_at >= start,
            ReturnVisitTask.due_at < end,
            ReturnVisitTask.due_at < now,
            ReturnVisitTask.status != "superseded",
        )
        .group_by(week)
        .order_by(week)
        .limit(60)
    )
    return [
        {
            "week": r.week.isoformat(),
            "due": r.due,
            "done": r.done,
            "on_time": r.on_time,
            "rate": round(r.on_time / r.due, 4) if r.due else None,
        }
        for r in rows
    ]


@router.get("/return-visits", summary="Return visits to the customer done within their deadline", responses=CSV_OR_JSON)
def report_return_visits(
    session: DbSession,
    now: Now,
    _who: BoardUser,
    locale: RequestLocale,
    start: From = None,
    end: To = None,
    format: Format = "json",
) -> Any:
    """Return-visit tasks (domain.md: within 2 working days of completion) by the week they fell due, counting
    those due by now: how many were done, and done by their deadline. Superseded tasks are left out."""
    a, b = _range(start, end)
    rows = return_visit_rows(session, start=a, end=b, now=now)
    body = {
        "from": a,
        "to": b,
        "available": True,
        "reason": None if rows else _("report.reason.no-return-visits-in-period", locale),
        "rows": rows,
    }
    return _out(format, "return-visits", RV_COLUMNS, body)
