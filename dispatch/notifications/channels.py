"""Addressed outbound channels: e-mail through SMTP and SMS through a generic HTTP gateway.

Both deliver one notice to `notification.recipient` (an address or a phone number) and raise
`DeliveryError` on any failure, so the worker's `deliver_pending` retries with backoff and finally records
the notice as failed. Configured from settings (`smtp_*`, `sms_gateway_*`); unconfigured = not registered.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

import httpx

from dispatch.core.settings import Settings
from dispatch.notifications.models import Notification
from dispatch.notifications.service import DeliveryError, register_channel


class EmailChannel:
    """Plain-text UTF-8 e-mail over SMTP (STARTTLS and login when configured)."""

    name = "email"
    addressed = True

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    def message(self, notification: Notification) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = notification.recipient or ""
        msg["Subject"] = notification.subject
        # A stable id per notice lets a mail system drop the duplicate of a retried delivery.
        msg["Message-ID"] = make_msgid(idstring=f"notice-{notification.id}", domain="onsite24")
        msg.set_content(notification.body or notification.subject, charset="utf-8")
        return msg

    def deliver(self, notification: Notification) -> None:
        if not notification.recipient or "@" not in notification.recipient:
            raise DeliveryError("no e-mail address to deliver to")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(self.message(notification))
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {exc.__class__.__name__}: {exc}") from exc


class SmsChannel:
    """POSTs `{"to", "text", "reference"}` as JSON with a bearer token to an SMS gateway; 2xx = accepted."""

    name = "sms"
    addressed = True

    def __init__(self, url: str, token: str | None, timeout: float = 5.0) -> None:
        self.url, self.token, self.timeout = url, token, timeout

    def deliver(self, notification: Notification) -> None:
        if not notification.recipient:
            raise DeliveryError("no phone number to deliver to")
        headers = {"idempotency-key": f"onsite24-notice-{notification.id}"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        body = {
            "to": notification.recipient,
            "text": notification.body or notification.subject,
            "reference": str(notification.id),
        }
        try:
            response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{exc.__class__.__name__}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryError(f"SMS gateway answered {response.status_code}")


def _email(settings: Settings) -> EmailChannel | None:
    if not settings.smtp_host:
        return None
    return EmailChannel(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_seconds,
    )


def _sms(settings: Settings) -> SmsChannel | None:
    if not settings.sms_gateway_url:
        return None
    token = settings.sms_gateway_token.get_secret_value() if settings.sms_gateway_token else None
    return SmsChannel(settings.sms_gateway_url, token)


register_channel("email", _email)
register_channel("sms", _sms)
