"""Logging in, tokens, and role checks on a real database."""

from __future__ import annotations

import jwt

from dispatch.core.types import Role
from tests.factories import PASSWORD, auth_header, make_technician, make_user, token_for


def test_user_logs_in_and_reads_own_account(client, db_session):
    """A user with the right password gets a bearer token that opens the API."""
    user = make_user(db_session, role=Role.dispatcher)
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "dispatcher" and body["expires_in"] > 0
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == user.username
    assert "password" not in me.text


def test_wrong_password_and_unknown_user_are_refused_alike(client, db_session):
    """A wrong password and an unknown name get the same 401 problem, so names cannot be probed."""
    user = make_user(db_session)
    wrong = client.post("/api/v1/auth/token", data={"username": user.username, "password": "not the password"})
    unknown = client.post("/api/v1/auth/token", data={"username": "nobody-here", "password": "whatever123"})
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "Wrong username or password."


def test_tampered_and_expired_tokens_are_refused(client, db_session, settings):
    """A token whose claims were edited, or that has expired, opens nothing."""
    user = make_user(db_session, role=Role.technician)
    token = token_for(settings, user)
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["role"] = "admin"
    forged = jwt.encode(claims, "some other key that is long enough to sign", algorithm="HS256")
    expired = token_for(settings, user, minutes=-1)
    for bad in (forged, expired, token[:-4] + "AAAA"):
        r = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.headers["content-type"] == "application/problem+json"
    assert "expired" in client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {expired}"}).json()["detail"]
    assert client.get("/api/v1/users/me").status_code == 401


def test_technician_cannot_reach_office_endpoints(client, db_session, settings):
    """A technician's token is refused with 403 on dispatcher-only and admin-only endpoints."""
    tech = make_user(db_session, role=Role.technician)
    dispatcher = make_user(db_session, role=Role.dispatcher)
    r = client.get("/api/v1/technicians", headers=auth_header(settings, tech))
    assert r.status_code == 403 and r.json()["status"] == 403
    assert client.get("/api/v1/technicians", headers=auth_header(settings, dispatcher)).status_code == 200
    assert client.get("/api/v1/users", headers=auth_header(settings, dispatcher)).status_code == 403


def test_admin_creates_user_and_duplicate_name_conflicts(client, db_session, settings):
    """An admin creates accounts; a taken username is a 409, and passwords are never echoed."""
    admin = make_user(db_session, role=Role.admin)
    body = {"username": "new.agent", "full_name": "New Agent", "password": "a long enough password", "role": "agent"}
    r = client.post("/api/v1/users", json=body, headers=auth_header(settings, admin))
    assert r.status_code == 201, r.text
    assert "password" not in r.json()
    again = client.post("/api/v1/users", json=body, headers=auth_header(settings, admin))
    assert again.status_code == 409


def test_a_second_login_for_a_technician_is_a_409_with_a_field_pointer(client, db_session, settings):
    """Issue 19: a technician has one login; a second one is a conflict on /technician_id, not a 500."""
    admin = make_user(db_session, role=Role.admin)
    tech = make_technician(db_session)
    db_session.commit()
    body = {"full_name": "Field Tech", "password": "a long enough password", "role": "technician"}
    first = {**body, "username": "tech.one", "technician_id": tech.id}
    assert client.post("/api/v1/users", json=first, headers=auth_header(settings, admin)).status_code == 201
    second = {**body, "username": "tech.two", "technician_id": tech.id}
    r = client.post("/api/v1/users", json=second, headers=auth_header(settings, admin))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["pointer"] for e in r.json()["errors"]] == ["/technician_id"]
    assert "tech.one" in r.json()["detail"]


def test_brute_force_is_slowed_per_account(client, db_session, settings):
    """After 5 wrong passwords an account answers 429 with Retry-After, even to the right one; others log in."""
    victim = make_user(db_session)
    other = make_user(db_session)
    for _ in range(settings.login_failures_per_account):
        r = client.post("/api/v1/auth/token", data={"username": victim.username, "password": "guess-guess"})
        assert r.status_code == 401
    blocked = client.post("/api/v1/auth/token", data={"username": victim.username, "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert blocked.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/auth/token", data={"username": other.username, "password": PASSWORD}).status_code == 200


def test_brute_force_is_slowed_per_address(client, db_session, settings):
    """One address trying many accounts is stopped too."""
    for i in range(settings.login_failures_per_address):
        client.post("/api/v1/auth/token", data={"username": f"nobody{i}", "password": "guess-guess"})
    user = make_user(db_session)
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 429
