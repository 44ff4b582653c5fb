"""Worker job: a return-visit call not logged by its due time is escalated to the department head, once.

Domain: "everything has a return visit", within 2 working days of completion. The task row is locked while
its notice is written, and the notice itself marks it as escalated, so racing workers escalate it once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.settings import Settings
from dispatch.notifications.models import Notification
from dispatch.notifications.service import notify
from dispatch.return_visits.models import ReturnVisitTask
from dispatch.worker import Job, register

KIND = "return_visit.overdue"


def escalate_overdue_return_visits(factory: sessionmaker[Session], settings: Settings, now: datetime) -> int:
    with factory() as session:
        already = exists().where(
            Notification.kind == KIND,
            Notification.ticket_id == ReturnVisitTask.ticket_id,
            Notification.payload["task_id"].as_integer() == ReturnVisitTask.id,
        )
        tasks = session.scalars(
            select(ReturnVisitTask)
            .where(ReturnVisitTask.status == "open", ReturnVisitTask.due_at <= now, ~already)
            .order_by(ReturnVisitTask.due_at)
            .limit(50)
            .with_for_update(skip_locked=True)
        ).all()
        for task in tasks:
            notify(
                session,
                settings,
                kind=KIND,
                audience="department_head",
                ticket_id=task.ticket_id,
                now=now,
                subject=f"Ticket {task.ticket_id}: the return-visit call is overdue",
                body=f"Due {task.due_at.isoformat()} ({task.reason}); log the call on the ticket.",
                payload={"task_id": task.id, "due_at": task.due_at.isoformat()},
            )
        session.commit()
        return len(tasks)


register(Job("return_visits", escalate_overdue_return_visits, every_seconds=30.0))
