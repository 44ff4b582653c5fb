"""The customer portal over HTTP against real PostgreSQL: sign-in, ownership, complaints, tracking, settings."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from dispatch.core.clock import utcnow
from dispatch.notifications.models import Notification
from dispatch.portal.auth import SESSION_COOKIE
from dispatch.portal.models import PortalLoginLink, TicketPhoto
from dispatch.tickets.models import Ticket
from tests.portal.conftest import csrf_of, make_account, sign_in


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 80, 40)).save(out, format="JPEG")
    return out.getvalue()


def _report(client, account, files=None, **extra):  # type: ignore[no-untyped-def]
    form = client.get("/portal/complaint")
    data = {
        "csrf": csrf_of(form.text),
        "equipment_id": str(account.equipment.id),
        "category": "equipment",
        "symptom": "起升机构齿轮箱断齿，无法起吊",
        "location_detail": "起升机构",
        "working_condition": "满载起吊时",
        "equipment_down": "on",
        "special_request": "更换齿轮箱",
        **extra,
    }
    if files:
        return client.post("/portal/complaint", data=data, files=files)
    return client.post("/portal/complaint", data=data)


def test_sign_in_link_sets_an_httponly_session_cookie_once(client, db_session, settings, account):
    """The link signs the customer in with an HttpOnly SameSite cookie and cannot be used twice."""
    from dispatch.portal.service import issue_sign_in_link

    url = issue_sign_in_link(db_session, settings=settings, customer_id=account.customer.id, now=utcnow())
    db_session.commit()
    path = "/" + url.split("/", 3)[3]
    page = client.get(path)
    r = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert SESSION_COOKIE in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    home = client.get("/portal")
    assert home.status_code == 200 and account.customer.name in home.text
    again = client.post(path, data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert again.status_code == 410


def test_forms_refuse_a_missing_csrf_token(client, db_session, settings, account):
    """A cross-site form post (no CSRF token) changes nothing."""
    sign_in(client, db_session, settings, account.customer)
    r = client.post("/portal/settings", data={"channels": ["sms"], "language": "en"})
    assert r.status_code == 403
    db_session.refresh(account.customer)
    assert account.customer.notice_channels == ["in_app"]


def test_sign_in_request_does_not_reveal_who_is_a_customer_and_is_rate_limited(client, db_session, settings):
    """Known and unknown contacts get the same answer; only known ones get a link; floods are refused."""
    account = make_account(db_session, email="li@example.com")
    page = client.get("/portal/sign-in")
    token = csrf_of(page.text)
    known = client.post("/portal/sign-in", data={"csrf": token, "contact": "LI@example.com"})
    unknown = client.post("/portal/sign-in", data={"csrf": token, "contact": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda html: re.sub(r'name="csrf" value="[0-9a-f]+"', "", html)  # noqa: E731
    assert strip(known.text) == strip(unknown.text)
    sent = db_session.scalars(select(Notification).where(Notification.kind == "customer.sign_in")).all()
    assert len(sent) == 1 and sent[0].recipient == "LI@example.com" and "/portal/sign-in/" in sent[0].body
    assert db_session.scalar(select(PortalLoginLink).where(PortalLoginLink.customer_id == account.customer.id))
    for _ in range(settings.portal_link_requests_per_contact_and_address - 1):
        client.post("/portal/sign-in", data={"csrf": token, "contact": "li@example.com"})
    limited = client.post("/portal/sign-in", data={"csrf": token, "contact": "li@example.com"})
    assert limited.status_code == 429


def test_web_complaint_in_chinese_answers_grade_and_deadline_and_stores_photos(client, db_session, settings, account):
    """The four questions go through the same intake as a phone call; the answer shows grade and deadline."""
    sign_in(client, db_session, settings, account.customer)
    r = _report(client, account, files=[("photos", ("gear.jpg", _jpeg(), "image/jpeg"))])
    assert r.status_code == 200, r.text
    assert "已收到您的报修" in r.text and "严重" in r.text and "最迟到场时间" in r.text
    ticket = db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).one()
    assert ticket.channel.value == "web" and ticket.grade.value == "serious"
    assert ticket.working_condition == "满载起吊时" and ticket.special_request == "更换齿轮箱"
    photo = db_session.scalars(select(TicketPhoto).where(TicketPhoto.ticket_id == ticket.id)).one()
    served = client.get(f"/portal/tickets/{ticket.id}/photos/{photo.id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert photo.storage_key not in r.text  # never a guessable storage path on the page
    home = client.get("/portal")
    assert f"工单 {ticket.id}" in home.text and account.equipment.serial_number in home.text
    assert "已收到您的报修" in home.text  # the in-app notice


def test_a_fake_photo_is_refused_with_a_message(client, db_session, settings, account):
    """A file that is not an image is refused by its bytes, and nothing is opened."""
    sign_in(client, db_session, settings, account.customer)
    r = _report(client, account, files=[("photos", ("x.jpg", b"<?php echo 1; ?>", "image/jpeg"))])
    assert r.status_code == 422 and "JPEG" in r.text
    assert db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).first() is None


def test_another_customers_ticket_and_equipment_are_not_found(client, db_session, settings, account):
    """Ownership everywhere: someone else's ticket id is a 404, their machine cannot be reported."""
    other = make_account(db_session)
    sign_in(client, db_session, settings, other.customer)
    _report(client, other)
    theirs = db_session.scalars(select(Ticket).where(Ticket.customer_id == other.customer.id)).one()
    client.cookies.clear()
    sign_in(client, db_session, settings, account.customer)
    assert client.get(f"/portal/tickets/{theirs.id}").status_code == 404
    assert client.get(f"/portal/tickets/{theirs.id}/status.json").status_code == 404
    assert client.get(f"/portal/tickets/{theirs.id}/report.pdf").status_code == 404
    assert client.get("/portal/tickets/abc").status_code == 404
    r = _report(client, account, equipment_id=str(other.equipment.id))
    assert r.status_code == 422
    home = client.get("/portal")
    assert other.equipment.serial_number not in home.text and theirs.symptom[:10] not in home.text


def test_status_json_has_only_this_tickets_status_and_times(client, db_session, settings, account):
    """The live endpoint carries status, technician name, ETA and deadline — no positions or other tickets."""
    sign_in(client, db_session, settings, account.customer)
    _report(client, account)
    ticket = db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).one()
    doc = client.get(f"/portal/tickets/{ticket.id}/status.json").json()
    assert set(doc) == {
        "ticket_id",
        "status",
        "status_label",
        "technician",
        "eta",
        "eta_text",
        "deadline",
        "deadline_text",
        "late",
        "done",
        "timeline",
    }
    assert doc["status_label"] == "已受理"
    client.cookies.clear()
    assert client.get(f"/portal/tickets/{ticket.id}/status.json").status_code == 401


def test_tracking_link_from_the_notice_shows_the_ticket_until_it_closes(client, db_session, settings, account):
    """The link in the 'received' notice opens that ticket without an account, and dies when it closes."""
    sign_in(client, db_session, settings, account.customer)
    _report(client, account)
    notice = db_session.scalars(
        select(Notification).where(Notification.kind == "customer.received", Notification.channel == "in_app")
    ).one()
    path = re.search(r"/t/[A-Za-z0-9_-]+", notice.body).group(0)
    client.cookies.clear()
    page = client.get(path)
    assert page.status_code == 200 and "工单" in page.text
    assert client.get(path + "/status.json").json()["ticket_id"] == notice.ticket_id
    assert client.get("/t/not-a-real-token").status_code == 410
    ticket = db_session.get(Ticket, notice.ticket_id)
    ticket.closed_at = utcnow()
    db_session.commit()
    assert client.get(path).status_code == 410


def test_settings_change_channels_and_language(client, db_session, settings, account):
    """The customer picks notice channels and language; later pages and notices follow."""
    sign_in(client, db_session, settings, account.customer)
    page = client.get("/portal/settings")
    r = client.post(
        "/portal/settings",
        data={"csrf": csrf_of(page.text), "channels": ["sms", "email"], "language": "ko"},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "저장되었습니다" in r.text
    db_session.refresh(account.customer)
    assert account.customer.notice_channels == ["sms", "email"] and account.customer.language == "ko"
    bad = client.post("/portal/settings", data={"csrf": csrf_of(page.text), "language": "ko"})
    assert bad.status_code == 422


def test_sign_out_ends_the_session(client, db_session, settings, account):
    """After signing out, the portal asks to sign in again."""
    sign_in(client, db_session, settings, account.customer)
    page = client.get("/portal")
    client.post("/portal/sign-out", data={"csrf": csrf_of(page.text)})
    r = client.get("/portal", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/portal/sign-in"


def test_bad_input_never_causes_a_server_error(client, db_session, settings, account):
    """Odd ids, tokens, bodies and oversized fields get the 4xx that names the problem, never a 500."""
    sign_in(client, db_session, settings, account.customer)
    token = csrf_of(client.get("/portal/complaint").text)
    # Each odd request gets the answer that says what is wrong with it: no such ticket or photo (404), a sign-in
    # or tracking link that is not (or no longer) valid (410), no form token (403), a body that is not a form
    # (400), fields that do not validate (422).
    multipart = {"content-type": "multipart/form-data"}
    oversized = {"csrf": token, "equipment_id": str(account.equipment.id), "symptom": "x" * 5000, "category": "?"}
    probes = [
        (404, client.get("/portal/tickets/99999999999999999999")),
        (404, client.get("/portal/tickets/-1/status.json")),
        (404, client.get("/portal/tickets/0/report.pdf")),
        (404, client.get("/portal/tickets/1/photos/" + "x" * 500)),
        (410, client.get("/portal/sign-in/" + "x" * 300)),
        (410, client.get("/t/" + "%00" * 10)),
        (404, client.get("/t/" + "y" * 300 + "/status.json")),
        (403, client.post("/portal/complaint", json={"symptom": "x"})),
        (400, client.post("/portal/complaint", content=b"--broken\r\n", headers=multipart)),
        (422, client.post("/portal/complaint", data={"csrf": token, "equipment_id": "abc", "symptom": ""})),
        (422, client.post("/portal/complaint", data=oversized)),
        (422, client.post("/portal/sign-in", data={"csrf": token, "contact": "\x00" * 50})),
        (422, client.post("/portal/settings", data={"csrf": token, "channels": ["fax"], "language": "xx"})),
    ]
    for expected, response in probes:
        assert response.status_code == expected, (response.request.url, response.status_code, response.text[:200])
    assert db_session.scalars(select(Ticket).where(Ticket.customer_id == account.customer.id)).first() is None


def test_a_phone_number_is_recognised_however_it_is_written(client, db_session, settings, account):
    """'0731-500 0001' typed with spaces finds the customer stored as '0731-5000001'; the SMS goes to the digits."""
    account.customer.phone = "0731-5000001"
    db_session.commit()
    token = csrf_of(client.get("/portal/sign-in").text)
    assert client.post("/portal/sign-in", data={"csrf": token, "contact": "0731 500 0001"}).status_code == 200
    sms = db_session.scalars(select(Notification).where(Notification.kind == "customer.sign_in")).one()
    assert sms.channel == "sms" and sms.recipient == "07315000001"


def test_a_fault_already_known_from_an_alarm_is_answered_with_the_current_eta(client, db_session, settings, account):
    """When the machine's alarm already opened a ticket, the web report joins it and shows the planned arrival."""
    from datetime import timedelta

    from dispatch.core.policy import policy_for
    from dispatch.core.types import Category, Channel
    from dispatch.tickets.schemas import Impact
    from dispatch.tickets.service import open_complaint

    alarm = open_complaint(
        db_session,
        policy=policy_for(settings),
        now=utcnow(),
        actor="device:test",
        actor_user_id=None,
        channel=Channel.device,
        category=Category.EQUIPMENT,
        symptom="HOIST_GEARBOX_FAULT",
        impact=Impact(equipment_down=True),
        equipment_id=account.equipment.id,
    ).ticket
    alarm.eta_at = utcnow() + timedelta(hours=2)
    db_session.commit()
    sign_in(client, db_session, settings, account.customer)
    r = _report(client, account)
    assert r.status_code == 200
    assert "我们已经知道这个故障" in r.text and f"工单 {alarm.id}" in r.text and "技术人员预计" in r.text
    assert db_session.scalars(select(Ticket).where(Ticket.equipment_id == account.equipment.id)).all() == [alarm]
