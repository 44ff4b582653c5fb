"""The live-update pipe: publish in a transaction → delivered on commit only → every open event stream."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import httpx
import pytest
from geoalchemy2.elements import WKTElement
from sqlalchemy.orm import Session

from dispatch.board.hub import EventHub
from dispatch.core.types import Grade, Role
from dispatch.events import encode, publish
from tests.board.conftest import LiveServer, wait_for
from tests.factories import make_technician, make_ticket, make_user, token_for


class StreamReader:
    """Reads an SSE response in a thread and keeps every decoded `data:` payload and event id."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.ids: list[str] = []
        self.status: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url, headers or {}), daemon=True)
        self._thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with httpx.Client(timeout=httpx.Timeout(5, read=30)) as c, c.stream("GET", url, headers=headers) as r:
            self.status = r.status_code
            if r.status_code != 200:
                return
            for line in r.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith("data: "):
                    self.events.append(json.loads(line[6:]))
                elif line.startswith("id: "):
                    self.ids.append(line[4:])

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def dispatcher_token(live_session: Session, live_server: LiveServer) -> str:
    return token_for(live_server.settings, make_user(live_session, role=Role.dispatcher))


def test_committed_event_reaches_open_stream_and_rolled_back_one_does_not(
    live_server: LiveServer, live_session: Session, dispatcher_token: str
) -> None:
    """A dispatcher's open stream gets what was committed, and never what was rolled back."""
    reader = StreamReader(f"{live_server.url}/api/v1/events/stream", {"Authorization": f"Bearer {dispatcher_token}"})
    try:
        wait_for(lambda: "hello" in reader.kinds(), what="the stream's hello")
        assert reader.events[0]["listening"] is True
        publish(live_session, "ticket.created", {"ticket_id": 999, "grade": "major"})
        live_session.rollback()
        publish(live_session, "ticket.updated", {"ticket_id": 1000})
        live_session.commit()
        wait_for(lambda: "ticket.updated" in reader.kinds(), what="the committed event")
        assert "ticket.created" not in reader.kinds()
        assert reader.events[-1] == {"kind": "ticket.updated", "ticket_id": 1000}
        assert reader.ids and reader.ids[-1].startswith(live_server.app.state.event_hub.epoch)
    finally:
        reader.close()


def test_stream_accepts_short_lived_token_in_query_and_replays_after_last_event_id(
    live_server: LiveServer, live_session: Session, dispatcher_token: str
) -> None:
    """EventSource can open the stream with a 60-second token in the URL and catch up on reconnect."""
    r = httpx.post(f"{live_server.url}/api/v1/events/token", headers={"Authorization": f"Bearer {dispatcher_token}"})
    assert r.status_code == 200 and r.json()["expires_in"] == 60
    url = f"{live_server.url}/api/v1/events/stream?access_token={r.json()['token']}"
    first = StreamReader(url)
    try:
        wait_for(lambda: "hello" in first.kinds(), what="hello")
        for n in range(3):
            publish(live_session, "plan.updated", {"plan_id": n})
            live_session.commit()
        wait_for(lambda: first.kinds().count("plan.updated") == 3, what="three events")
    finally:
        first.close()
    again = StreamReader(url, {"Last-Event-ID": first.ids[0]})
    try:
        wait_for(lambda: again.kinds().count("plan.updated") == 2, what="the two missed events replayed")
        assert [e["plan_id"] for e in again.events if e["kind"] == "plan.updated"] == [1, 2]
    finally:
        again.close()


def test_technician_and_anonymous_cannot_open_the_stream(live_server: LiveServer, live_session: Session) -> None:
    """Only office roles that watch dispatch get the event stream."""
    tech = make_user(live_session, role=Role.technician)
    url = f"{live_server.url}/api/v1/events/stream"
    assert httpx.get(url, params={"access_token": token_for(live_server.settings, tech)}).status_code == 403
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, params={"access_token": "nonsense"}).status_code == 401


def test_stream_resyncs_and_keeps_delivering_after_database_restart(
    live_server: LiveServer, live_session: Session, dispatcher_token: str, postgres: Any
) -> None:
    """A PostgreSQL restart does not kill the live board: the hub reconnects and tells clients to reload."""
    reader = StreamReader(f"{live_server.url}/api/v1/events/stream", {"Authorization": f"Bearer {dispatcher_token}"})
    try:
        wait_for(lambda: "hello" in reader.kinds(), what="hello")
        live_session.close()
        postgres.restart()
        wait_for(lambda: "resync" in reader.kinds(), timeout=20, what="a resync after the restart")
        publish(live_session, "technician.position", {"technician_id": 7})
        live_session.commit()
        wait_for(lambda: "technician.position" in reader.kinds(), what="events after the restart")
    finally:
        reader.close()


def test_row_changes_publish_themselves_once_per_kind_on_commit(
    live_server: LiveServer, live_session: Session, dispatcher_token: str
) -> None:
    """Services need not remember to publish: committed ticket and position changes reach the board."""
    reader = StreamReader(f"{live_server.url}/api/v1/events/stream", {"Authorization": f"Bearer {dispatcher_token}"})
    try:
        wait_for(lambda: "hello" in reader.kinds(), what="hello")
        first = make_ticket(live_session, grade=Grade.MAJOR)
        second = make_ticket(live_session, grade=Grade.GENERAL)
        tech = make_technician(live_session)
        live_session.commit()
        wait_for(lambda: "ticket.created" in reader.kinds(), what="ticket.created")
        created = [e for e in reader.events if e["kind"] == "ticket.created"]
        assert created == [{"kind": "ticket.created", "ids": [first.id, second.id], "count": 2, "major": True}]
        tech.last_position = WKTElement("POINT(112.9 28.2)", srid=4326)
        second.at_risk = True
        live_session.commit()
        wait_for(lambda: "technician.position" in reader.kinds(), what="technician.position")
        wait_for(lambda: "ticket.updated" in reader.kinds(), what="ticket.updated")
        updated = next(e for e in reader.events if e["kind"] == "ticket.updated")
        assert updated["ids"] == [second.id] and updated["major"] is False
        make_ticket(live_session, grade=Grade.SERIOUS)
        live_session.rollback()
        publish(live_session, "marker", {})
        live_session.commit()
        wait_for(lambda: "marker" in reader.kinds(), what="the marker")
        assert [e["kind"] for e in reader.events].count("ticket.created") == 1
    finally:
        reader.close()


def test_oversized_payload_is_refused_before_it_reaches_postgres() -> None:
    """Publishers send ids, not objects; a big payload fails loudly in the publisher."""
    with pytest.raises(ValueError, match="too big"):
        encode("ticket.updated", {"blob": "x" * 5000})
    assert json.loads(encode("ticket.created", {"ticket_id": 1})) == {"kind": "ticket.created", "ticket_id": 1}


async def _idle_hub_lets_its_connection_go(database_url: str) -> None:
    hub = EventHub(database_url, liveness_seconds=0.1, idle_seconds=0.3)
    sub, _ = hub.subscribe()
    await asyncio.wait_for(hub.listening.wait(), 10)
    hub.unsubscribe(sub)
    for _ in range(100):
        if not hub.listening.is_set():
            break
        await asyncio.sleep(0.05)
    assert not hub.listening.is_set()
    # A client that last saw an event from before the quiet period is told to reload.
    assert [json.loads(e.data)["kind"] for e in hub._backlog(f"{hub.epoch}-0")] == ["resync"]
    again, _ = hub.subscribe()
    await asyncio.wait_for(hub.listening.wait(), 10)
    hub.unsubscribe(again)
    await hub.stop()


def test_idle_hub_releases_its_listen_connection_and_restarts_on_demand(database_url: str) -> None:
    """An API process with nobody watching holds no LISTEN connection; the next viewer starts it again."""
    asyncio.run(_idle_hub_lets_its_connection_go(database_url))


def _short_access_token(settings, user, seconds: int) -> str:  # type: ignore[no-untyped-def]
    """An access token like the login's, but expiring in a few seconds."""
    from datetime import timedelta

    from dispatch.core.auth import Principal, create_access_token

    principal = Principal(user.id, user.username, user.role, user.technician_id)
    return create_access_token(settings, principal, lifetime=timedelta(seconds=seconds))


@pytest.mark.parametrize("via", ["bearer", "stream token"])
def test_stream_ends_when_the_sign_in_behind_it_expires(
    live_server: LiveServer, live_session: Session, via: str
) -> None:
    """An open stream does not outlive the login that opened it: it says so and closes; reopening is refused."""
    user = make_user(live_session, role=Role.dispatcher)
    access = _short_access_token(live_server.settings, user, seconds=10)
    if via == "bearer":
        reader = StreamReader(f"{live_server.url}/api/v1/events/stream", {"Authorization": f"Bearer {access}"})
    else:
        r = httpx.post(f"{live_server.url}/api/v1/events/token", headers={"Authorization": f"Bearer {access}"})
        assert r.status_code == 200
        reader = StreamReader(f"{live_server.url}/api/v1/events/stream?access_token={r.json()['token']}")
    try:
        wait_for(lambda: "hello" in reader.kinds(), what="hello")
        wait_for(lambda: "expired" in reader.kinds(), what="the expiry notice", timeout=40)
        reader._thread.join(5)
        assert not reader._thread.is_alive(), "the server closed the stream"
        again = httpx.post(f"{live_server.url}/api/v1/events/token", headers={"Authorization": f"Bearer {access}"})
        assert again.status_code == 401
    finally:
        reader.close()
