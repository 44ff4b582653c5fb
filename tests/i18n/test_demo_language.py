"""The demo region is Chinese by default; a deployment names its default language, and only shipped ones."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dispatch.core.settings import Settings


def test_demo_defaults_to_chinese_and_production_to_english() -> None:
    assert Settings(environment="demo").default_locale == "zh-CN"
    assert Settings(environment="test").default_locale == "en"


def test_an_explicit_default_language_is_kept_even_in_the_demo() -> None:
    assert Settings(environment="demo", default_locale="ko").default_locale == "ko"


def test_an_unshipped_default_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="default_locale"):
        Settings(environment="test", default_locale="fr")


def test_the_board_page_carries_the_sites_default_language(settings, session_factory) -> None:  # type: ignore[no-untyped-def]
    """A visitor whose browser asks for no language we ship gets the login page in the site's default."""
    from fastapi.testclient import TestClient

    from dispatch.app import create_app
    from dispatch.board.static import STATIC_DIR

    if not (STATIC_DIR / "index.html").is_file():
        pytest.skip("the board is not built (make board)")
    app = create_app(settings.model_copy(update={"default_locale": "zh-CN"}), session_factory=session_factory)
    with TestClient(app) as client:
        page = client.get("/board")
    assert page.status_code == 200 and '<html lang="zh-CN" data-default-lang="zh-CN">' in page.text
