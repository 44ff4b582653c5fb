"""Read side of the technician app: the job list and one job, as JSON built by PostgreSQL in one query.

The list is polled by every phone every few seconds (issue 6: p99 ≤ 50 ms at 200 rps), so the page is
one statement: the technician's visits in route order, joined to ticket, site and equipment, with the
equipment's last tickets and raised alarms as correlated `LIMIT`ed subqueries (index scans), and the
whole page assembled with `json_build_object`. Python only passes the bytes on. The shape is
`schemas.JobPage` / `schemas.JobOut` (tests validate it). Queries never commit.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from dispatch.core.errors import NotFound
from dispatch.core.i18n import LOCALES
from dispatch.core.texts import word
from dispatch.core.types import Grade, TicketStatus, VisitStatus
from technician_api.jobs.service import technician_actions

#: Jobs the technician still has to do or is doing.
ACTIVE = [
    s.value
    for s in (VisitStatus.assigned, VisitStatus.accepted, VisitStatus.en_route, VisitStatus.on_site, VisitStatus.paused)
]
HISTORY_PER_EQUIPMENT = 3
ALARMS_PER_EQUIPMENT = 10
SYMPTOM_CHARS = 280
HISTORY_SYMPTOM_CHARS = 120
CUSTOMER_PHOTOS = 20  # the portal's most per complaint (settings.portal_max_photos allows up to 20)

_JOB_JSON = f"""
json_build_object(
  'id', v.id, 'ticket_id', t.id, 'status', v.status, 'ticket_status', t.status, 'grade', t.grade,
  'status_text', CAST(:labels AS jsonb) -> 'status' ->> CAST(v.status AS text),
  'ticket_status_text', CAST(:labels AS jsonb) -> 'status' ->> CAST(t.status AS text),
  'grade_text', CAST(:labels AS jsonb) -> 'grade' ->> CAST(t.grade AS text),
  'action_texts', CAST(:labels AS jsonb) -> 'action',
  'sequence', v.sequence, 'eta', v.planned_arrival_at, 'planned_start_at', v.planned_start_at,
  'planned_end_at', v.planned_end_at, 'due_on_site_at', t.due_on_site_at,
  'symptom', left(t.symptom, {SYMPTOM_CHARS}), 'working_condition', t.working_condition,
  'special_request', t.special_request, 'location_detail', t.location_detail, 'impact', t.impact,
  'reported_model', t.reported_model, 'reported_serial', t.reported_serial,
  'customer_photos', (SELECT coalesce(json_agg('/api/v1/jobs/' || v.id || '/customer-photos/' || p.id
          ORDER BY p.created_at), '[]')
        FROM (SELECT p.id, p.created_at FROM ticket_photos p WHERE p.ticket_id = t.id
              ORDER BY p.created_at LIMIT {CUSTOMER_PHOTOS}) p),
  'site', CASE WHEN s.id IS NULL THEN NULL ELSE json_build_object(
      'id', s.id, 'name', s.name, 'address', s.address,
      'lat', ST_Y(s.location::geometry), 'lon', ST_X(s.location::geometry),
      'timezone', s.timezone, 'access_hours', s.access_hours) END,
  'contact', json_build_object('name', coalesce(s.contact_name, t.reporter_name),
                               'phone', coalesce(s.contact_phone, t.reporter_phone)),
  'equipment', CASE WHEN e.id IS NULL THEN NULL ELSE json_build_object(
      'id', e.id, 'equipment_type', e.equipment_type, 'model', e.model, 'serial_number', e.serial_number,
      'manufacture_date', e.manufacture_date,
      'history', (SELECT coalesce(json_agg(json_build_object(
            'id', h.id, 'reported_at', h.reported_at, 'grade', h.grade, 'status', h.status,
            'symptom', left(h.symptom, {HISTORY_SYMPTOM_CHARS}), 'resolved_at', h.resolved_at)
            ORDER BY h.reported_at DESC), '[]')
          FROM (SELECT h.id, h.reported_at, h.grade, h.status, h.symptom, h.resolved_at
                FROM tickets h WHERE h.equipment_id = e.id AND h.id <> t.id
                ORDER BY h.reported_at DESC LIMIT {HISTORY_PER_EQUIPMENT}) h),
      'open_alarms', (SELECT coalesce(json_agg(json_build_object(
            'id', a.id, 'code', a.code, 'severity', a.severity, 'message', a.message,
            'device_at', a.device_at, 'received_at', a.received_at) ORDER BY a.received_at DESC), '[]')
          FROM (SELECT a.id, a.code, a.severity, a.message, a.device_at, a.received_at
                FROM alarms a WHERE a.equipment_id = e.id AND a.state = 'raised'
                ORDER BY a.received_at DESC LIMIT {ALARMS_PER_EQUIPMENT}) a)) END,
  'arrival_outside_geofence', v.arrival_outside_geofence, 'arrival_distance_m', v.arrival_distance_m,
  'allowed_actions', CASE
      WHEN v.status = 'completed' AND EXISTS (
          SELECT 1 FROM confirmation_links l WHERE l.visit_id = v.id AND l.used_at IS NULL
          AND l.revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.visit_id = v.id))
      THEN (CAST(:actions AS jsonb) -> v.status) || '["signature_refused"]'::jsonb
      ELSE CAST(:actions AS jsonb) -> v.status END
)"""  # noqa: S608 (built from module constants only; values are bound parameters)

_FROM = """
FROM visits v
JOIN tickets t ON t.id = v.ticket_id
LEFT JOIN sites s ON s.id = t.site_id
LEFT JOIN equipment e ON e.id = t.equipment_id
"""

_LIST = text(f"""
WITH page AS (
  SELECT v.id, count(*) OVER () AS total,
         row_number() OVER (ORDER BY date_trunc('day', v.planned_start_at) NULLS LAST, v.sequence NULLS LAST,
                                     v.planned_start_at NULLS LAST, v.id) AS rn
  FROM visits v
  WHERE v.technician_id = :tid AND v.status = ANY(:active)
  ORDER BY rn LIMIT :limit OFFSET :offset
)
SELECT json_build_object(
  'items', coalesce(json_agg({_JOB_JSON} ORDER BY p.rn), '[]'),
  'total', coalesce(max(p.total), 0), 'limit', :limit, 'offset', :offset)::text AS body,
  count(p.id) AS n
FROM page p JOIN visits v ON v.id = p.id
JOIN tickets t ON t.id = v.ticket_id
LEFT JOIN sites s ON s.id = t.site_id
LEFT JOIN equipment e ON e.id = t.equipment_id
""")  # noqa: S608 (module constants only)

_COUNT = text("""
SELECT count(*) FROM visits v WHERE v.technician_id = :tid AND v.status = ANY(:active)
""")

_ONE = text(f"SELECT {_JOB_JSON}::text {_FROM} WHERE v.id = :vid AND v.technician_id = :tid")


@lru_cache(maxsize=len(LOCALES))
def _labels_json(locale: str) -> str:
    """Words for the codes a job carries (states, grades, the technician's actions) in one language.

    Handed to SQL as one JSON parameter so the page is still built by PostgreSQL in one statement."""
    actions = sorted({a for s in VisitStatus for a in technician_actions(s.value)} | {"signature_refused"})
    return json.dumps(
        {
            "status": {s: word("status", s, locale) for s in {*VisitStatus, *TicketStatus}},
            "grade": {g: word("grade", g, locale) for g in Grade},
            "action": {a: word("action", a, locale) for a in actions},
        }
    )


@lru_cache(maxsize=1)
def _actions_json() -> str:
    """The technician's allowed events per visit state, handed to SQL as one JSON parameter."""
    return json.dumps({s.value: technician_actions(s.value) for s in VisitStatus if s.value != "reassigned"})


def list_jobs_json(session: Session, *, technician_id: int, limit: int, offset: int, locale: str = "en") -> bytes:
    """Today's and upcoming jobs in route order (planned day, then route sequence), as a JobPage.

    Every job still to do or in progress is listed: one planned on an earlier day that is still open is
    today's work (it sorts first), not history.
    """
    params: dict[str, Any] = {
        "tid": technician_id,
        "active": ACTIVE,
        "limit": limit,
        "offset": offset,
        "actions": _actions_json(),
        "labels": _labels_json(locale),
    }
    row = session.execute(_LIST, params).one()
    body: str = row.body
    if row.n == 0 and offset > 0:  # past the end: the window count is not there, count separately
        total = session.scalar(_COUNT, params) or 0
        body = json.dumps({"items": [], "total": total, "limit": limit, "offset": offset})
    return body.encode()


def get_job_json(session: Session, *, technician_id: int, visit_id: int, locale: str = "en") -> bytes:
    """One of the caller's jobs (any status); another technician's job is 404, never 403."""
    params = {"vid": visit_id, "tid": technician_id, "actions": _actions_json(), "labels": _labels_json(locale)}
    body = session.scalar(_ONE, params)
    if body is None:
        raise NotFound(f"Job {visit_id} not found.", key="error.job.not-found", params={"job_id": visit_id})
    return body.encode()
