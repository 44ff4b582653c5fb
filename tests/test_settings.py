"""The service refuses to run with a default or empty secret unless it is the demo."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dispatch.core.settings import DEMO_SECRET_KEY, Settings


@pytest.mark.parametrize("key", ["", DEMO_SECRET_KEY, "short"])
def test_production_refuses_weak_secret(key):
    """Production settings with no, the demo, or a short secret key are refused with a clear message."""
    with pytest.raises(ValidationError, match="ONSITE24_SECRET_KEY"):
        Settings(environment="production", secret_key=key)


def test_demo_runs_with_builtin_key_and_env_is_read(monkeypatch):
    """The demo needs no key; every value comes from ONSITE24_ variables."""
    monkeypatch.setenv("ONSITE24_ENVIRONMENT", "demo")
    monkeypatch.setenv("ONSITE24_MQTT_URL", "mqtts://broker.example:8883")
    s = Settings()
    assert s.secret_key.get_secret_value() == DEMO_SECRET_KEY
    assert (s.mqtt_host, s.mqtt_port, s.mqtt_tls) == ("broker.example", 8883, True)
    assert DEMO_SECRET_KEY not in repr(s)  # secrets never appear in logs or reprs
