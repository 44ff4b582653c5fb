"""Parsing what devices publish: pure, never raises. Every message becomes an Alarm or a Rejection with a reason.

Protocol: docs/device-protocol.md. Topics `devices/{device_id}/alarms|status|heartbeat`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

MAX_PAYLOAD_BYTES = 16 * 1024
DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
SEVERITIES = ("critical", "major", "minor", "warning")
STATES = ("raised", "cleared")
KNOWN_FIELDS = {"alarm_id", "code", "severity", "state", "at", "message", "data"}


@dataclass(frozen=True)
class Topic:
    device_id: str
    kind: str  # alarms | status | heartbeat


@dataclass(frozen=True)
class Alarm:
    device_id: str
    alarm_id: str
    code: str
    severity: str
    state: str
    at: datetime
    message: str | None
    data: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, kept as sent


@dataclass(frozen=True)
class Rejection:
    reason: str
    device_id: str | None = None


def parse_topic(topic: str) -> Topic | Rejection:
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "devices" or parts[2] not in ("alarms", "status", "heartbeat"):
        return Rejection(f"unknown topic '{topic[:200]}'")
    if not DEVICE_ID.match(parts[1]):
        return Rejection(f"invalid device id in topic '{topic[:200]}'")
    return Topic(parts[1], parts[2])


def parse_alarm(topic: str, raw: bytes) -> Alarm | Rejection:
    """The alarm in `raw`, or why it cannot be accepted (size, JSON, missing or invalid fields)."""
    where = parse_topic(topic)
    if isinstance(where, Rejection):
        return where
    device = where.device_id
    if where.kind != "alarms":
        return Rejection(f"not an alarm topic: {where.kind}", device)
    if len(raw) > MAX_PAYLOAD_BYTES:
        return Rejection(f"payload of {len(raw)} bytes exceeds the {MAX_PAYLOAD_BYTES}-byte limit", device)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return Rejection(f"payload is not UTF-8 JSON: {exc}", device)
    if not isinstance(body, dict):
        return Rejection("payload must be a JSON object", device)
    problems: list[str] = []
    alarm_id = body.get("alarm_id")
    if not isinstance(alarm_id, str | int) or isinstance(alarm_id, bool) or str(alarm_id) == "":
        problems.append("alarm_id: required string or integer")
    code = body.get("code")
    if not isinstance(code, str) or not code or len(code) > 100:
        problems.append("code: required string of at most 100 characters")
    severity = body.get("severity")
    if severity not in SEVERITIES:
        problems.append(f"severity: one of {', '.join(SEVERITIES)}")
    state = body.get("state", "raised")
    if state not in STATES:
        problems.append(f"state: one of {', '.join(STATES)}")
    at = None
    try:
        at = datetime.fromisoformat(str(body.get("at")))
        if at.tzinfo is None:
            problems.append("at: ISO time must carry a UTC offset")
    except ValueError:
        problems.append("at: required ISO 8601 time with offset")
    message = body.get("message")
    if message is not None and not isinstance(message, str):
        problems.append("message: string")
    data = body.get("data", {})
    if not isinstance(data, dict):
        problems.append("data: object")
    if problems:
        return Rejection("; ".join(problems), device)
    assert at is not None and isinstance(code, str) and isinstance(severity, str)  # checked above
    return Alarm(
        device_id=device,
        alarm_id=str(alarm_id),
        code=code,
        severity=severity,
        state=state,
        at=at,
        message=message,
        data=data,
        extra={k: v for k, v in body.items() if k not in KNOWN_FIELDS},
    )


@dataclass(frozen=True)
class Status:
    """`devices/{id}/status`: `online` or `offline` (plain text or {"status": …}); the last will is `offline`."""

    device_id: str
    online: bool


@dataclass(frozen=True)
class Heartbeat:
    """`devices/{id}/heartbeat`: any payload; optional JSON {"interval_s": n} announces the device's period."""

    device_id: str
    interval_s: int | None = None


def parse_status(topic: str, raw: bytes) -> Status | Rejection:
    where = parse_topic(topic)
    if isinstance(where, Rejection):
        return where
    text = raw[:200].decode("utf-8", "replace").strip()
    if text.startswith("{"):
        try:
            body = json.loads(raw.decode("utf-8"))
            text = str(body.get("status", "")) if isinstance(body, dict) else ""
        except (UnicodeDecodeError, ValueError):
            text = ""
    if text.lower() not in ("online", "offline"):
        return Rejection("status payload must be 'online' or 'offline'", where.device_id)
    return Status(where.device_id, text.lower() == "online")


def parse_heartbeat(topic: str, raw: bytes) -> Heartbeat | Rejection:
    where = parse_topic(topic)
    if isinstance(where, Rejection):
        return where
    interval: int | None = None
    if raw[:1] == b"{" and len(raw) <= MAX_PAYLOAD_BYTES:
        try:
            body = json.loads(raw.decode("utf-8"))
            value = body.get("interval_s") if isinstance(body, dict) else None
            if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 86400:
                interval = value
        except (UnicodeDecodeError, ValueError):
            pass
    return Heartbeat(where.device_id, interval)


def parse(topic: str, raw: bytes) -> Alarm | Status | Heartbeat | Rejection:
    """Whatever a device published on `topic`, parsed by its kind; never raises."""
    where = parse_topic(topic)
    if isinstance(where, Rejection):
        return where
    if where.kind == "alarms":
        return parse_alarm(topic, raw)
    if where.kind == "status":
        return parse_status(topic, raw)
    return parse_heartbeat(topic, raw)
