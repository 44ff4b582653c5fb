"""The browser pages tests reuse the board's live server and Chromium fixtures."""

from tests.board.conftest import board_settings, browser, built_board, live_server, live_session, page  # noqa: F401
