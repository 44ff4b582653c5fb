"""tests/i18n reuses the board's live server and Chromium fixtures, and the planning tests' fast policy."""

from tests.board.conftest import board_settings, browser, built_board, live_server, live_session, page  # noqa: F401
from tests.dispatch.plans.test_planning import fast, fast_client  # noqa: F401
