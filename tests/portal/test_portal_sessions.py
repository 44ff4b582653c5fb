"""Portal sessions end on the server, and sign-in requests cannot be used to lock a customer out (issue 19)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dispatch.core.clock import utcnow
from dispatch.notifications.models import Notification
from dispatch.portal.auth import SESSION_COOKIE
from dispatch.portal.models import PortalLoginLink, PortalSession
from dispatch.portal.service import end_customer_sessions
from tests.portal.conftest import csrf_of, make_account, sign_in
from tests.test_cli import onsite24


def _from(client: TestClient, address: str) -> TestClient:
    """Another browser, on another client address, of the same running app."""
    return TestClient(client.app, client=(address, 40000), raise_server_exceptions=False)


def _replay(client: TestClient, cookie: str) -> TestClient:
    other = _from(client, "198.51.100.9")
    other.cookies.set(SESSION_COOKIE, cookie)
    return other


def test_replaying_the_cookie_after_sign_out_does_not_sign_in(client, db_session, settings, account):
    """The attack: copy the session cookie, let the customer sign out, replay the cookie. Refused."""
    sign_in(client, db_session, settings, account.customer)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie and _replay(client, cookie).get("/portal").status_code == 200
    page = client.get("/portal")
    client.post("/portal/sign-out", data={"csrf": csrf_of(page.text)})

    thief = _replay(client, cookie)
    home = thief.get("/portal", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/portal/sign-in"
    assert thief.get("/portal/tickets/1/status.json").status_code == 401
    row = db_session.scalars(select(PortalSession).where(PortalSession.customer_id == account.customer.id)).one()
    assert row.revoked_at is not None


def test_the_cookie_is_random_and_stored_only_hashed(client, db_session, settings, account):
    sign_in(client, db_session, settings, account.customer)
    cookie = client.cookies.get(SESSION_COOKIE)
    assert len(cookie) >= 32 and cookie.count(".") == 0  # no JWT a client could read or forge
    stored = db_session.scalar(select(PortalSession.token_hash).where(PortalSession.customer_id == account.customer.id))
    assert stored != cookie and len(stored) == 64


def test_an_expired_session_signs_in_no_more(client, db_session, settings, account):
    sign_in(client, db_session, settings, account.customer)
    row = db_session.scalars(select(PortalSession).where(PortalSession.customer_id == account.customer.id)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert client.get("/portal", follow_redirects=False).status_code == 303


def test_support_signs_a_customer_out_everywhere(client, db_session, settings, account):
    laptop, phone = client, _from(client, "203.0.113.20")
    sign_in(laptop, db_session, settings, account.customer)
    sign_in(phone, db_session, settings, account.customer)
    assert end_customer_sessions(db_session, customer_id=account.customer.id, now=utcnow()) == 2
    for browser in (laptop, phone):
        assert browser.get("/portal", follow_redirects=False).status_code == 303


def test_cli_ends_a_customers_portal_sessions(live_db, database_url):
    from sqlalchemy.orm import Session

    env = {"ONSITE24_DATABASE_URL": database_url, "ONSITE24_ENVIRONMENT": "test"}
    with Session(live_db, expire_on_commit=False) as s:
        account = make_account(s)
        s.add(
            PortalSession(
                customer_id=account.customer.id,
                token_hash="0" * 64,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        s.commit()
    r = onsite24("portal", "end-sessions", "--customer", str(account.customer.id), env=env)
    assert r.returncode == 0, r.stderr
    assert "1 portal session(s) ended" in r.stdout
    with Session(live_db) as s:
        assert s.scalar(select(PortalSession.revoked_at).where(PortalSession.customer_id == account.customer.id))


def _ask(browser: TestClient, contact: str):  # type: ignore[no-untyped-def]
    token = csrf_of(browser.get("/portal/sign-in").text)
    return browser.post("/portal/sign-in", data={"csrf": token, "contact": contact})


def test_a_stranger_cannot_block_a_customers_sign_in(client, db_session, settings):
    """Today's attack: three requests for the customer's e-mail blocked their sign-in for 15 minutes. Now the
    stranger is limited at their own address, the customer still gets an answer, and a flood from many
    addresses sends no more than a few links, each of which still signs the customer in."""
    account = make_account(db_session, email="ops@example.com")
    stranger = _from(client, "203.0.113.66")
    for _ in range(settings.portal_link_requests_per_contact_and_address):
        assert _ask(stranger, "ops@example.com").status_code == 200
    assert _ask(stranger, "ops@example.com").status_code == 429

    customer = _from(client, "198.51.100.5")
    assert _ask(customer, "ops@example.com").status_code == 200

    # A flood from many addresses: every answer is the same page, but the inbox gets a bounded number.
    for i in range(10):
        assert _ask(_from(client, f"192.0.2.{i + 1}"), "ops@example.com").status_code == 200
    sent = db_session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "customer.sign_in")
    )
    assert sent == settings.portal_links_outstanding_per_contact
    links = db_session.scalars(select(PortalLoginLink).where(PortalLoginLink.customer_id == account.customer.id))
    assert all(link.used_at is None and link.expires_at > utcnow() for link in links)


def test_the_address_limit_stops_one_address_spraying_contacts(client, db_session, settings):
    sprayer = _from(client, "203.0.113.99")
    for i in range(settings.portal_link_requests_per_address):
        assert _ask(sprayer, f"nobody{i}@example.com").status_code == 200
    assert _ask(sprayer, "someone-else@example.com").status_code == 429
    assert _ask(_from(client, "198.51.100.77"), "someone-else@example.com").status_code == 200
