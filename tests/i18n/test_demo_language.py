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
