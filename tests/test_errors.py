"""Every error is application/problem+json; validation errors name the field."""

from __future__ import annotations

import pytest

from dispatch.core.types import Role
from tests.factories import auth_header, make_user


def test_invalid_body_names_the_fields(client, db_session, settings):
    """A bad request body gets a 422 problem listing each bad field's JSON pointer."""
    admin = make_user(db_session, role=Role.admin)
    r = client.post(
        "/api/v1/users",
        json={"username": "x", "full_name": "X", "password": "short", "role": "wizard"},
        headers=auth_header(settings, admin),
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    pointers = {e["pointer"] for e in body["errors"]}
    assert {"/username", "/password", "/role"} <= pointers
    assert body["type"].endswith("validation-error") and body["instance"] == "/api/v1/users"


def test_malformed_json_and_bad_query_are_422_not_500(client, db_session, settings):
    """Broken JSON and out-of-range query parameters are client errors with a problem body."""
    admin = make_user(db_session, role=Role.admin)
    headers = {**auth_header(settings, admin), "content-type": "application/json"}
    r = client.post("/api/v1/users", content=b"{not json", headers=headers)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    r = client.get("/api/v1/users?limit=100000", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/query/limit"


def test_unknown_route_is_problem_json(client):
    """A wrong URL answers 404 in the same error format."""
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_database_outage_is_a_503_problem_with_retry_after(settings):
    """While the database cannot be reached the API answers 503 problem+json with Retry-After, not a 500."""
    from fastapi.testclient import TestClient

    from dispatch.app import create_app
    from tests.harness.net import free_port

    unreachable = settings.model_copy(
        update={
            "database_url": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/onsite24?connect_timeout=2",
            "db_connect_patience_seconds": 0.5,  # waited out first, then answered
        }
    )
    with TestClient(create_app(unreachable), raise_server_exceptions=False) as c:
        r = c.post("/api/v1/auth/token", data={"username": "agent1", "password": "not-the-password"})
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json" and r.headers["retry-after"] == "2"
    assert r.json()["type"].endswith("/unavailable") and r.json()["instance"] == "/api/v1/auth/token"


def test_request_during_a_short_database_restart_waits_for_it_instead_of_failing(settings, postgres, live_db):
    """A request that arrives while the database refuses connections (a restart) is answered once it is back,
    within the configured patience, instead of with a 503; /readyz meanwhile reports the outage at once."""
    import threading
    import time

    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from dispatch.app import create_app
    from tests.harness.net import LateTcpProxy

    with Session(live_db) as s:
        dispatcher = make_user(s, role=Role.dispatcher)
        s.commit()
        headers = auth_header(settings, dispatcher)
    proxy = LateTcpProxy(postgres.port)
    restarting = settings.model_copy(
        update={
            "database_url": live_db.url.set(port=proxy.port).render_as_string(hide_password=False),
            "db_connect_patience_seconds": 15,
        }
    )
    try:
        with TestClient(create_app(restarting), raise_server_exceptions=False) as c:
            probe = c.get("/readyz")  # the probe does not wait
            assert probe.status_code == 503 and probe.json()["checks"]["database"]["ok"] is False
            threading.Timer(1.5, proxy.open).start()
            started = time.monotonic()
            r = c.get("/api/v1/users/me", headers=headers)
            waited = time.monotonic() - started
            assert r.status_code == 200, r.text
            assert r.json()["username"] == dispatcher.username
            assert waited >= 1.0  # it was answered after the database came back, not before
    finally:
        proxy.close()


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-12:00", "1900-01-01T00:00:00Z"])
def test_a_time_the_system_cannot_store_is_a_field_error_not_a_500(client, db_session, settings, when):
    """Issue 19: a complaint reported near year 1 overflowed (500); year 9999 with a negative offset became
    year 10000. Both are refused with a pointer at the field, in the reader's language."""
    agent = make_user(db_session, role=Role.agent)
    r = client.post(
        "/api/v1/complaints",
        json={"description": "Hoist stops between floors", "reported_at": when},
        headers={**auth_header(settings, agent), "Accept-Language": "en"},
    )
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert [e["pointer"] for e in errors if e["pointer"] == "/reported_at"] == ["/reported_at"]
    assert any("between 1970-01-01 and 2199-12-31" in e["detail"] for e in errors)
