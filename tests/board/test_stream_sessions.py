"""The board's event stream ends with the sign-in behind it: deactivation, signing out, ended sessions."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import update
from sqlalchemy.orm import Session

from dispatch.core.types import Role
from dispatch.users.models import User
from tests.board.conftest import LiveServer, wait_for
from tests.board.test_events import StreamReader
from tests.factories import PASSWORD, make_user, token_for


def _login(server: LiveServer, user: User) -> str:
    r = httpx.post(f"{server.url}/api/v1/auth/token", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _open_like_the_board(server: LiveServer, access: str) -> StreamReader:
    """As board/src/live.js does: a 60-second stream token, then the EventSource URL with it."""
    r = httpx.post(f"{server.url}/api/v1/events/token", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 200, r.text
    reader = StreamReader(f"{server.url}/api/v1/events/stream?access_token={r.json()['token']}")
    wait_for(lambda: "hello" in reader.kinds(), what="the stream's hello")
    return reader


def _ended(reader: StreamReader, within: float) -> float:
    started = time.monotonic()
    wait_for(lambda: "expired" in reader.kinds(), timeout=within, what="the stream to say the sign-in ended")
    reader._thread.join(5)
    assert not reader._thread.is_alive(), "the server closed the stream"
    return time.monotonic() - started


def test_deactivating_a_dispatcher_closes_their_open_board_stream(
    live_server: LiveServer, live_session: Session
) -> None:
    """Well before any re-check or token expiry (30 s, 30 min): the notice reaches every API process."""
    admin = make_user(live_session, role=Role.admin)
    dispatcher = make_user(live_session, role=Role.dispatcher)
    colleague = make_user(live_session, role=Role.dispatcher)
    access = _login(live_server, dispatcher)
    reader = _open_like_the_board(live_server, access)
    bystander = _open_like_the_board(live_server, _login(live_server, colleague))
    try:
        r = httpx.post(
            f"{live_server.url}/api/v1/users/{dispatcher.id}/deactivate",
            headers={"Authorization": f"Bearer {token_for(live_server.settings, admin)}"},
        )
        assert r.status_code == 200, r.text
        assert _ended(reader, within=5) < 5
        reopen = httpx.post(f"{live_server.url}/api/v1/events/token", headers={"Authorization": f"Bearer {access}"})
        assert reopen.status_code == 401
        # Another user's stream goes on, and never sees the session notice itself.
        assert bystander._thread.is_alive()
        assert "session.ended" not in bystander.kinds() and "expired" not in bystander.kinds()
    finally:
        reader.close()
        bystander.close()


def test_signing_out_closes_the_stream_of_that_sign_in_only(live_server: LiveServer, live_session: Session) -> None:
    user = make_user(live_session, role=Role.dispatcher)
    board, second_screen = _login(live_server, user), _login(live_server, user)
    reader = _open_like_the_board(live_server, board)
    other = _open_like_the_board(live_server, second_screen)
    try:
        out = httpx.post(f"{live_server.url}/api/v1/auth/sign-out", headers={"Authorization": f"Bearer {board}"})
        assert out.status_code == 204
        _ended(reader, within=5)
        assert other._thread.is_alive() and "expired" not in other.kinds()
        # The stream token minted before the sign-out does not open a new stream either.
        stale = httpx.get(
            f"{live_server.url}/api/v1/events/stream", headers={"Authorization": f"Bearer {board}"}, timeout=5
        )
        assert stale.status_code == 401
    finally:
        reader.close()
        other.close()


def test_a_missed_notice_is_caught_by_the_periodic_recheck(live_server: LiveServer, live_session: Session) -> None:
    """Sessions ended without a notice reaching this process (it was reconnecting) still end the stream."""
    live_server.app.state.settings = live_server.settings.model_copy(update={"stream_session_check_seconds": 1.0})
    user = make_user(live_session, role=Role.dispatcher)
    reader = _open_like_the_board(live_server, _login(live_server, user))
    try:
        live_session.execute(update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1))
        live_session.commit()  # no "session.ended" published
        _ended(reader, within=6)
    finally:
        reader.close()
