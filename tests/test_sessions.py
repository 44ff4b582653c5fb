"""Sessions end when they should: deactivation, signing out, ended sessions and role changes take effect on
the very next request, not when the token expires (issue 19, "a token keeps working after its user is
deactivated")."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dispatch.core.types import Role
from dispatch.users.models import AccountEvent, User
from tests.factories import PASSWORD, make_technician, make_user, token_for
from tests.test_cli import onsite24


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _login(client, user: User) -> str:
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_deactivated_users_token_is_refused_at_once(client, db_session, settings):
    """A technician's 30-minute token, still fresh, opens nothing once an admin deactivates the account; the
    account can no longer log in; the deactivation is in the account's audit with who and why."""
    admin = make_user(db_session, role=Role.admin)
    tech = make_user(db_session, role=Role.technician)
    token = _login(client, tech)
    assert client.get("/api/v1/me/jobs", headers=_bearer(token)).status_code == 200

    r = client.post(
        f"/api/v1/users/{tech.id}/deactivate",
        json={"reason": "left the company"},
        headers=_bearer(token_for(settings, admin)),
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False

    for path in ("/api/v1/me/jobs", "/api/v1/users/me", "/api/v1/me/settings"):
        refused = client.get(path, headers=_bearer(token))
        assert refused.status_code == 401, (path, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert "deactivated" in client.get("/api/v1/users/me", headers=_bearer(token)).json()["detail"]
    again = client.post("/api/v1/auth/token", data={"username": tech.username, "password": PASSWORD})
    assert again.status_code == 401

    events = client.get(f"/api/v1/users/{tech.id}/events", headers=_bearer(token_for(settings, admin))).json()
    assert [(e["action"], e["actor"], e["reason"]) for e in events] == [
        ("deactivate", f"user:{admin.id}", "left the company")
    ]


def test_reactivated_account_signs_in_again_but_its_old_tokens_stay_void(client, db_session, settings):
    admin = make_user(db_session, role=Role.admin)
    user = make_user(db_session, role=Role.dispatcher)
    old = _login(client, user)
    admin_headers = _bearer(token_for(settings, admin))
    assert client.post(f"/api/v1/users/{user.id}/deactivate", headers=admin_headers).status_code == 200
    assert client.post(f"/api/v1/users/{user.id}/activate", headers=admin_headers).status_code == 200
    assert client.get("/api/v1/users/me", headers=_bearer(old)).status_code == 401
    fresh = _login(client, user)
    assert client.get("/api/v1/users/me", headers=_bearer(fresh)).status_code == 200
    actions = [e["action"] for e in client.get(f"/api/v1/users/{user.id}/events", headers=admin_headers).json()]
    assert actions == ["activate", "deactivate"]


def test_signed_out_token_is_refused_and_the_other_devices_stay_signed_in(client, db_session):
    """Signing out ends this token (replaying it is refused); another device's token of the same user keeps
    working until that one signs out everywhere."""
    user = make_user(db_session, role=Role.dispatcher)
    board, phone = _login(client, user), _login(client, user)
    assert client.post("/api/v1/auth/sign-out", headers=_bearer(board)).status_code == 204
    replay = client.get("/api/v1/users/me", headers=_bearer(board))
    assert replay.status_code == 401 and "ended" in replay.json()["detail"]
    assert client.post("/api/v1/auth/sign-out", headers=_bearer(board)).status_code == 401
    assert client.get("/api/v1/users/me", headers=_bearer(phone)).status_code == 200

    other = _login(client, user)
    assert client.post("/api/v1/auth/sign-out?everywhere=true", headers=_bearer(phone)).status_code == 204
    assert client.get("/api/v1/users/me", headers=_bearer(other)).status_code == 401
    assert client.get("/api/v1/users/me", headers=_bearer(_login(client, user))).status_code == 200


def test_admin_ends_sessions_without_deactivating(client, db_session, settings):
    """A lost phone: every token of the account stops working; the user signs in again."""
    admin = make_user(db_session, role=Role.admin)
    tech = make_user(db_session, role=Role.technician)
    token = _login(client, tech)
    r = client.post(
        f"/api/v1/users/{tech.id}/end-sessions",
        json={"reason": "phone lost"},
        headers=_bearer(token_for(settings, admin)),
    )
    assert r.status_code == 200 and r.json()["is_active"] is True
    assert client.get("/api/v1/me/jobs", headers=_bearer(token)).status_code == 401
    assert client.get("/api/v1/me/jobs", headers=_bearer(_login(client, tech))).status_code == 200


def test_role_change_is_not_served_with_the_old_role(client, db_session, settings):
    """A dispatcher made an agent: the dispatcher token stops opening dispatch endpoints at once; the new
    sign-in has the new role; the change is audited with before and after."""
    admin = make_user(db_session, role=Role.admin)
    user = make_user(db_session, role=Role.dispatcher)
    token = _login(client, user)
    assert client.get("/api/v1/board/config", headers=_bearer(token)).status_code == 200
    r = client.put(f"/api/v1/users/{user.id}/role", json={"role": "agent"}, headers=_bearer(token_for(settings, admin)))
    assert r.status_code == 200 and r.json()["role"] == "agent"
    assert client.get("/api/v1/board/config", headers=_bearer(token)).status_code == 401
    fresh = _login(client, user)
    assert client.get("/api/v1/users/me", headers=_bearer(fresh)).json()["role"] == "agent"
    assert client.get("/api/v1/board/config", headers=_bearer(fresh)).status_code == 403
    event = db_session.scalar(select(AccountEvent).where(AccountEvent.user_id == user.id))
    assert event.action == "change-role"
    assert event.data == {
        "from": {"role": "dispatcher", "technician_id": None},
        "to": {"role": "agent", "technician_id": None},
    }

    tech = make_technician(db_session)
    missing = client.put(
        f"/api/v1/users/{user.id}/role", json={"role": "technician"}, headers=_bearer(token_for(settings, admin))
    )
    assert missing.status_code == 422 and missing.json()["errors"][0]["pointer"] == "/technician_id"
    made = client.put(
        f"/api/v1/users/{user.id}/role",
        json={"role": "technician", "technician_id": tech.id},
        headers=_bearer(token_for(settings, admin)),
    )
    assert made.status_code == 200 and made.json()["technician_id"] == tech.id


def test_admin_cannot_lock_themselves_out_and_unknown_users_are_404(client, db_session, settings):
    admin = make_user(db_session, role=Role.admin)
    headers = _bearer(token_for(settings, admin))
    assert client.post(f"/api/v1/users/{admin.id}/deactivate", headers=headers).status_code == 403
    assert client.put(f"/api/v1/users/{admin.id}/role", json={"role": "agent"}, headers=headers).status_code == 403
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    for path in ("deactivate", "activate", "end-sessions"):
        r = client.post(f"/api/v1/users/2000000000/{path}", headers=headers)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


def test_account_audit_is_append_only(db_session: Session, client, settings):
    admin = make_user(db_session, role=Role.admin)
    user = make_user(db_session)
    client.post(f"/api/v1/users/{user.id}/deactivate", headers=_bearer(token_for(settings, admin)))
    event = db_session.scalar(select(AccountEvent).where(AccountEvent.user_id == user.id))
    event.reason = "rewritten"
    with pytest.raises(DBAPIError, match="append-only"):
        db_session.flush()
    db_session.rollback()


def test_cli_deactivates_and_reactivates_a_login(live_db, database_url, settings):
    """`onsite24 users deactivate NAME` ends the sessions of a login that is still signed in; audited as the
    operator at the command line."""
    from fastapi.testclient import TestClient

    from dispatch.app import create_app

    env = {"ONSITE24_DATABASE_URL": database_url, "ONSITE24_ENVIRONMENT": "test"}
    with Session(live_db, expire_on_commit=False) as s:
        user = make_user(s, role=Role.dispatcher)
    with TestClient(create_app(settings)) as client:
        token = _login(client, user)
        assert client.get("/api/v1/users/me", headers=_bearer(token)).status_code == 200
        r = onsite24("users", "deactivate", user.username, "--reason", "offboarding", env=env)
        assert r.returncode == 0, r.stderr
        assert "deactivated" in r.stdout
        assert client.get("/api/v1/users/me", headers=_bearer(token)).status_code == 401
        assert (
            client.post("/api/v1/auth/token", data={"username": user.username, "password": PASSWORD}).status_code == 401
        )
        assert onsite24("users", "activate", user.username, env=env).returncode == 0
        assert client.get("/api/v1/users/me", headers=_bearer(_login(client, user))).status_code == 200
        missing = onsite24("users", "deactivate", "nobody-of-that-name", env=env)
        assert missing.returncode == 1 and "nobody-of-that-name" in missing.stderr
    with Session(live_db) as s:
        events = s.execute(
            select(AccountEvent.action, AccountEvent.actor, AccountEvent.reason)
            .where(AccountEvent.user_id == user.id)
            .order_by(AccountEvent.id)
        ).all()
    assert [e.action for e in events] == ["deactivate", "activate"]
    assert events[0].actor.startswith("cli:") and events[0].reason == "offboarding"
