"""The one settings object. Every value comes from the environment (prefix ONSITE24_) or a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# A key that only `onsite24 demo` and the test suite may run with; anything else must set its own.
DEMO_SECRET_KEY = "onsite24-demo-secret-key-do-not-use-in-production"  # noqa: S105 (public by design: demo only)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ONSITE24_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    environment: Literal["production", "demo", "test"] = "production"
    database_url: str = "postgresql+psycopg://onsite24@127.0.0.1:5432/onsite24"
    # An API request that cannot get a database connection waits this long for one (a restart, a fail-over)
    # before it is answered 503; readiness probes do not wait.
    db_connect_patience_seconds: float = Field(default=10.0, ge=0, le=120)
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    mqtt_username: str | None = None
    mqtt_password: SecretStr | None = None
    mqtt_client_id: str = "onsite24-gateway"
    mqtt_tls_ca_file: Path | None = None
    # The device gateway: the broker's config directory (passwd, acl, pid file) for provisioning, and how many
    # unacknowledged messages a gateway may hold (MQTT ReceiveMaximum) and store per transaction.
    mosquitto_dir: Path | None = None
    gateway_receive_maximum: int = Field(default=1000, ge=1, le=65535)
    gateway_batch_max: int = Field(default=500, ge=1, le=65535)
    # Several gateways share the stream through $share/onsite24-gateway/…; a lone gateway may subscribe plainly,
    # which Mosquitto restores after a broker restart (it does not restore shared ones: device_gateway/client.py).
    gateway_shared_subscription: bool = True
    secret_key: SecretStr = SecretStr("")
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # An open event stream ends at once when its sign-in ends (signed out, deactivated): every API process
    # hears it. In case that notice was missed (the process was reconnecting to PostgreSQL), each stream also
    # re-reads its account this often.
    stream_session_check_seconds: float = Field(default=30.0, gt=0, le=3600)
    # Brute-force brake: failed logins allowed per account and per client address within the window.
    login_failures_per_account: int = Field(default=5, ge=1)
    login_failures_per_address: int = Field(default=20, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    policy_file: Path | None = None
    public_base_url: str = "http://127.0.0.1:8024"
    # Where photos and customers' uploads are kept: files under upload_dir, or a bucket of an S3-compatible store
    # (credentials from the s3_* settings, else boto3's chain: AWS_* variables, the instance's role).
    storage_backend: Literal["disk", "s3"] = "disk"
    upload_dir: Path = Path("var/uploads")
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_prefix: str = "onsite24/"
    max_upload_bytes: int = 10 * 1024 * 1024
    tile_url: str = ""
    log_level: str = "INFO"
    # Language of pages, notices and API texts when neither the user nor the browser names one we ship
    # (zh-CN, en, ko); the demo region sets zh-CN.
    default_locale: Literal["zh-CN", "en", "ko"] = "en"
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    # Outgoing webhook that receives every notification as JSON (retried with backoff); empty = none.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    # Customer notices by e-mail (SMTP) and SMS (a generic HTTP gateway: POST JSON with a bearer token).
    # Empty host / URL = that channel is not configured (notices on it stay recorded as failed, never lost).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "Onsite24 <noreply@onsite24.invalid>"
    smtp_starttls: bool = True
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    sms_gateway_url: str = ""
    sms_gateway_token: SecretStr | None = None
    # The customer portal: how long a sign-in link and a session last, and how often a link may be asked for:
    # per contact from one client address and per address within the window (no limit that one stranger can
    # fill for someone else's phone), and at most so many unused links out to one contact at a time.
    portal_session_minutes: int = Field(default=7 * 24 * 60, ge=5)
    portal_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    portal_link_requests_per_contact_and_address: int = Field(default=3, ge=1)
    portal_link_requests_per_address: int = Field(default=10, ge=1)
    portal_links_outstanding_per_contact: int = Field(default=3, ge=1)
    portal_link_window_minutes: int = Field(default=15, ge=1)
    portal_max_photos: int = Field(default=5, ge=0, le=20)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        key = self.secret_key.get_secret_value()
        if self.environment == "production" and (not key or key == DEMO_SECRET_KEY or len(key) < 32):
            raise ValueError(
                "ONSITE24_SECRET_KEY must be set to a random value of at least 32 characters "
                "(for example: python -c 'import secrets; print(secrets.token_urlsafe(48))'). "
                "Only `onsite24 demo` runs with the built-in demo key."
            )
        if self.environment != "production" and not key:
            object.__setattr__(self, "secret_key", SecretStr(DEMO_SECRET_KEY))
        return self

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise ValueError("ONSITE24_STORAGE_BACKEND=s3 needs ONSITE24_S3_BUCKET (an existing, private bucket).")
        if self.s3_endpoint_url and not self.s3_endpoint_url.startswith(("http://", "https://")):
            raise ValueError("ONSITE24_S3_ENDPOINT_URL must be an http:// or https:// URL (e.g. https://minio:9000).")
        return self

    @model_validator(mode="after")
    def _demo_region_speaks_chinese(self) -> Settings:
        # The demo region is around Changsha: its pages default to zh-CN unless ONSITE24_DEFAULT_LOCALE says.
        if self.environment == "demo" and "default_locale" not in self.model_fields_set:
            object.__setattr__(self, "default_locale", "zh-CN")
        return self

    @property
    def mqtt_host(self) -> str:
        return urlparse(self.mqtt_url).hostname or "127.0.0.1"

    @property
    def mqtt_port(self) -> int:
        parsed = urlparse(self.mqtt_url)
        return parsed.port or (8883 if parsed.scheme == "mqtts" else 1883)

    @property
    def mqtt_tls(self) -> bool:
        return urlparse(self.mqtt_url).scheme == "mqtts"


@lru_cache
def get_settings() -> Settings:
    """Settings read from the environment once per process (CLI entry points only; the app gets them passed)."""
    return Settings()
