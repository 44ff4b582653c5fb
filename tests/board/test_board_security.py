"""The board in Chromium against its attacks: signing out ends the session on the server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from dispatch.core.types import Role
from tests.board.conftest import LiveServer
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_board_sign_out_ends_the_token_on_the_server(page: Any, live_server: LiveServer, live_session: Session) -> None:
    """A token copied from the board before its user signs out no longer opens anything afterwards."""
    user = make_user(live_session, role=Role.dispatcher)
    page.goto(f"{live_server.url}/board")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_selector("#view-queue[data-loaded='true']")
    token = page.evaluate("sessionStorage.getItem('onsite24.token')")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{live_server.url}/api/v1/board/config", headers=headers).status_code == 200
    page.click("#logout-button")
    page.wait_for_selector("#username")
    assert page.evaluate("sessionStorage.getItem('onsite24.token')") is None
    assert httpx.get(f"{live_server.url}/api/v1/board/config", headers=headers).status_code == 401
