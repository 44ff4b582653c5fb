"""Customer notices: in the customer's language, on the customer's channels, delivered by e-mail and SMS."""

from __future__ import annotations

from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatch.core.clock import utcnow
from dispatch.core.policy import policy_for
from dispatch.core.settings import Settings
from dispatch.core.types import Category, Channel, TicketStatus
from dispatch.escalation.service import update_eta
from dispatch.notifications.models import Notification
from dispatch.notifications.service import deliver_pending
from dispatch.tickets.schemas import Impact
from dispatch.tickets.service import open_complaint
from tests.factories import make_site
from tests.portal.mailservers import sms_gateway, smtp_server


def _complaint(session: Session, settings: Settings, *, language: str = "zh-CN", channels=("email", "sms", "in_app")):  # type: ignore[no-untyped-def]
    site, unit = make_site(session)
    site.customer.language = language
    site.customer.email = "wang@example.com"
    site.customer.notice_channels = list(channels)
    session.flush()
    result = open_complaint(
        session,
        policy=policy_for(settings),
        now=utcnow(),
        actor="customer",
        actor_user_id=None,
        channel=Channel.web,
        category=Category.EQUIPMENT,
        symptom="起升机构齿轮箱异响",
        impact=Impact(equipment_down=True),
        equipment_id=unit.id,
        public_base_url="https://portal.example.com",
    )
    return result.ticket


def _notices(session: Session, ticket_id: int, kind: str) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.ticket_id == ticket_id, Notification.kind == kind)
            .order_by(Notification.id)
        )
    )


def test_complaint_received_reaches_each_chosen_channel_in_the_customers_language(db_session, settings):
    """A Chinese-speaking customer gets the receipt (deadline, tracking link) on e-mail, SMS and in-app."""
    ticket = _complaint(db_session, settings)
    rows = _notices(db_session, ticket.id, "customer.received")
    assert sorted(r.channel for r in rows) == ["email", "in_app", "sms"]
    email_row = next(r for r in rows if r.channel == "email")
    assert email_row.recipient == "wang@example.com" and email_row.status == "pending"
    assert "我们已收到您的报修" in email_row.body and "https://portal.example.com/t/" in email_row.body
    assert next(r for r in rows if r.channel == "in_app").status == "delivered"


def test_a_customer_who_chose_only_email_gets_no_sms(db_session, settings):
    """Preferences decide the channels."""
    ticket = _complaint(db_session, settings, language="ko", channels=("email",))
    rows = _notices(db_session, ticket.id, "customer.received")
    assert [r.channel for r in rows] == ["email"]
    assert "신고가 접수되었습니다" in rows[0].body


def test_late_notice_once_per_slip_and_again_after_recovery(db_session, settings):
    """An ETA past the deadline tells the customer at once, not on every re-plan; a new slip later is told again."""
    ticket = _complaint(db_session, settings, channels=("in_app",))
    policy = policy_for(settings)
    now = utcnow()
    late = ticket.due_on_site_at + timedelta(hours=1)
    update_eta(db_session, ticket, late, policy, now)
    update_eta(db_session, ticket, late + timedelta(minutes=20), policy, now)
    assert len(_notices(db_session, ticket.id, "customer.late")) == 1
    update_eta(db_session, ticket, ticket.due_on_site_at - timedelta(hours=1), policy, now)
    assert len(_notices(db_session, ticket.id, "customer.late")) == 1
    update_eta(db_session, ticket, late, policy, now)
    rows = _notices(db_session, ticket.id, "customer.late")
    assert len(rows) == 2 and "无法按承诺" in rows[-1].body


def test_no_late_notice_while_the_plan_keeps_the_promise(db_session, settings):
    """An ETA inside the deadline is not news."""
    ticket = _complaint(db_session, settings, channels=("in_app",))
    update_eta(db_session, ticket, ticket.due_on_site_at - timedelta(minutes=5), policy_for(settings), utcnow())
    assert ticket.status is TicketStatus.new
    assert _notices(db_session, ticket.id, "customer.late") == []


def test_email_and_sms_are_delivered_through_real_servers(db_session, settings, session_factory: sessionmaker[Session]):
    """The worker hands e-mail to the SMTP server (UTF-8 Chinese subject) and SMS to the gateway with its token."""
    ticket = _complaint(db_session, settings)
    db_session.commit()
    with smtp_server() as (port, inbox), sms_gateway() as (url, gateway):
        configured = settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": port,
                "smtp_starttls": False,
                "smtp_from": "Onsite24 <noreply@onsite24.test>",
                "sms_gateway_url": url,
                "sms_gateway_token": SecretStr("gw-token"),
            }
        )
        assert deliver_pending(session_factory, configured, utcnow() + timedelta(seconds=1)) >= 2
        assert len(inbox.messages) == 1
        mail = inbox.messages[0]
        assert mail["To"] == "wang@example.com" and "我们已收到您的报修" in mail["Subject"]
        assert "/t/" in mail.get_content()
        assert len(gateway.requests) == 1
        sent = gateway.requests[0]
        assert sent["json"]["to"].startswith("1380000") and "/t/" in sent["json"]["text"]
        assert sent["headers"]["authorization"] == "Bearer gw-token"
    db_session.expire_all()
    rows = _notices(db_session, ticket.id, "customer.received")
    assert {r.channel: r.status for r in rows} == {"email": "delivered", "sms": "delivered", "in_app": "delivered"}


def test_a_failing_gateway_is_retried_with_backoff(db_session, settings, session_factory: sessionmaker[Session]):
    """A gateway error leaves the notice pending with its error and a later attempt time."""
    ticket = _complaint(db_session, settings, channels=("sms",))
    db_session.commit()
    with sms_gateway() as (url, gateway):
        gateway.status = 503
        configured = settings.model_copy(update={"sms_gateway_url": url})
        now = utcnow() + timedelta(seconds=1)
        deliver_pending(session_factory, configured, now)
    db_session.expire_all()
    row = _notices(db_session, ticket.id, "customer.received")[0]
    assert row.status == "pending" and row.attempts == 1 and "503" in (row.last_error or "")
    assert row.next_attempt_at is not None and row.next_attempt_at > now


def test_nobody_planned_near_the_deadline_tells_the_customer_once(db_session, settings, session_factory):
    """When no technician can be planned, the escalation worker's pre-breach check tells the customer, once."""
    from dispatch.escalation.service import run_due_escalations

    ticket = _complaint(db_session, settings, channels=("in_app",))
    db_session.commit()
    near = ticket.due_on_site_at - timedelta(minutes=20)
    run_due_escalations(session_factory, settings, near)
    run_due_escalations(session_factory, settings, near + timedelta(minutes=5))
    db_session.expire_all()
    rows = _notices(db_session, ticket.id, "customer.late_unplanned")
    assert len(rows) == 1 and "调度中心" in rows[0].body


def test_technician_on_the_way_and_assignment_name_the_technician(db_session, settings):
    """The customer learns who comes and when; the page never gets the technician's position."""
    from dispatch.notifications import customer as customer_notices
    from tests.factories import make_technician

    ticket = _complaint(db_session, settings, channels=("in_app",))
    tech = make_technician(db_session)
    eta = ticket.due_on_site_at - timedelta(hours=2)
    customer_notices.technician_assigned(db_session, ticket, technician_id=tech.id, eta=eta, now=utcnow())
    ticket.eta_at = eta
    customer_notices.on_the_way(db_session, ticket, technician_id=tech.id, now=utcnow())
    assigned = _notices(db_session, ticket.id, "customer.assigned")[0]
    on_way = _notices(db_session, ticket.id, "customer.on_the_way")[0]
    assert tech.name in assigned.body and tech.name in on_way.body and "预计" in on_way.body


def test_a_sign_in_link_is_mailed_and_then_removed_from_the_log(db_session, settings, session_factory):
    """The e-mail carries the link; once sent, the notice log no longer holds it."""
    from dispatch.notifications.service import REDACTED
    from dispatch.portal.service import request_sign_in

    site, _unit = make_site(db_session)
    site.customer.email = "ops@example.com"
    db_session.commit()
    request_sign_in(db_session, settings=settings, contact="ops@example.com", client_address="10.0.0.1", now=utcnow())
    with smtp_server() as (port, inbox):
        configured = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False})
        deliver_pending(session_factory, configured, utcnow() + timedelta(seconds=1))
    assert "/portal/sign-in/" in inbox.messages[0].get_content()
    db_session.expire_all()
    row = db_session.scalars(select(Notification).where(Notification.kind == "customer.sign_in")).one()
    assert row.status == "delivered" and row.body == REDACTED


def test_worker_tells_a_late_customer_whom_no_hook_told(db_session, settings, session_factory):
    """Safety net of the 2-hour rule: an ETA past the deadline written by any path is told by the worker, once."""
    from dispatch.cli import WORKER_JOB_MODULES
    from dispatch.notifications.customer import tell_late_customers
    from dispatch.worker import registered_jobs

    ticket = _complaint(db_session, settings, channels=("in_app",))
    ticket.eta_at = ticket.due_on_site_at + timedelta(hours=1)  # bypasses update_eta on purpose
    db_session.commit()
    assert tell_late_customers(session_factory, settings, utcnow()) == 1
    assert tell_late_customers(session_factory, settings, utcnow()) == 0
    db_session.expire_all()
    assert len(_notices(db_session, ticket.id, "customer.late")) == 1
    assert "customer_late_notices" in [j.name for j in registered_jobs(WORKER_JOB_MODULES)]
