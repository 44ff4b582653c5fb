"""One LISTEN connection per API process, fanned out to every open event stream.

`EventHub` holds a psycopg async connection that LISTENs on `dispatch.events.CHANNEL` and copies each
notification into the queue of every subscriber (one per open SSE response). It starts with the first
subscriber and lets the connection go after a minute without any; it reconnects with backoff when
PostgreSQL restarts (telling subscribers to `resync`, since notifications sent while it was away are
lost), and numbers events `<epoch>-<seq>` so a reconnecting client that sends Last-Event-ID gets what it
missed from a small replay buffer (best effort, same process).

A `session.ended` notice (a user signed out, was deactivated, had their sessions ended) is not passed on:
it marks that user's subscriptions (all of them, or the one opened with the signed-out token) as ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import psycopg

from dispatch.core.backoff import Backoff
from dispatch.events import CHANNEL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One event as sent to clients: `id` for Last-Event-ID, `data` the JSON text (`{"kind": ..., ...}`)."""

    id: str
    data: str


SESSION_ENDED = "session.ended"  # dispatch.users.service publishes it


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(maxsize=1000))
    overflowed: bool = False
    # Whose stream this is, and the access token it was opened with; `ended` once that sign-in ends.
    user_id: int | None = None
    token_id: str | None = None
    ended: bool = False


def libpq_dsn(database_url: str) -> str:
    """SQLAlchemy's `postgresql+psycopg://` URL as a plain libpq URL for psycopg."""
    scheme, _, rest = database_url.partition("://")
    return f"{scheme.split('+', 1)[0]}://{rest}"


class EventHub:
    def __init__(
        self, database_url: str, *, replay: int = 500, liveness_seconds: float = 10.0, idle_seconds: float = 60.0
    ) -> None:
        self._dsn = libpq_dsn(database_url)
        self._subs: set[Subscription] = set()
        self._buffer: deque[tuple[int, Event]] = deque(maxlen=replay)
        self._seq = 0
        self._task: asyncio.Task[None] | None = None
        self._liveness = liveness_seconds
        self._idle = idle_seconds
        self._idle_since = time.monotonic()
        # Events after this seq may be missing: the hub stopped listening while nobody watched.
        self._gap_after: int | None = None
        self.epoch = uuid.uuid4().hex[:8]
        self.listening = asyncio.Event()
        self.reconnects = 0

    # ---- lifecycle -------------------------------------------------------------------------------------------
    def ensure_started(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="onsite24-event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    def _idle_too_long(self) -> bool:
        """Nobody has listened for a while: let the connection go (the next subscriber starts it again)."""
        return not self._subs and time.monotonic() - self._idle_since > self._idle

    async def _run(self) -> None:
        backoff = Backoff(0.2, 5.0)
        first = True
        while not self._idle_too_long():
            try:
                async with await psycopg.AsyncConnection.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    backoff.reset()
                    if not first:
                        self.reconnects += 1
                        self._control("resync", reason="event connection re-established; reload")
                    first = False
                    while not self._idle_too_long():
                        async for note in conn.notifies(timeout=self._liveness):
                            self._dispatch(note.payload)
                        await conn.execute("SELECT 1")  # quiet period: prove the connection is still alive
                    self.listening.clear()
                    self._gap_after = self._seq
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # any database failure: wait, reconnect, tell clients to resync
                self.listening.clear()
                delay = backoff.next_delay()
                log.warning("event hub lost its database connection (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    # ---- fan-out ---------------------------------------------------------------------------------------------
    def _next(self, data: str) -> Event:
        self._seq += 1
        event = Event(id=f"{self.epoch}-{self._seq}", data=data)
        self._buffer.append((self._seq, event))
        return event

    def _dispatch(self, payload: str) -> None:
        if SESSION_ENDED in payload[:40] and self._end_sessions(payload):
            return
        self._fan_out(self._next(payload))

    def _end_sessions(self, payload: str) -> bool:
        """Mark the subscriptions of a `session.ended` notice as ended; False when it is not one."""
        try:
            note = json.loads(payload)
            if note.get("kind") != SESSION_ENDED:
                return False
            user_id, token_id = int(note["user_id"]), note.get("token_id")
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        wake = Event(id="", data=json.dumps({"kind": SESSION_ENDED}))
        for sub in list(self._subs):
            if sub.user_id == user_id and (token_id is None or sub.token_id == token_id):
                sub.ended = True
                with contextlib.suppress(asyncio.QueueFull):  # a full queue wakes its reader anyway
                    sub.queue.put_nowait(wake)
        return True

    def _control(self, kind: str, **fields: Any) -> None:
        self._fan_out(self._next(json.dumps({"kind": kind, **fields})))

    def _fan_out(self, event: Event) -> None:
        for sub in list(self._subs):
            try:
                sub.queue.put_nowait(event)
            except asyncio.QueueFull:  # a stuck client: drop its backlog, make it reload
                sub.overflowed = True

    def subscribe(
        self, last_event_id: str | None = None, *, user_id: int | None = None, token_id: str | None = None
    ) -> tuple[Subscription, list[Event]]:
        """A new subscription and the events to send first (missed ones, or a resync when they are gone)."""
        self.ensure_started()
        sub = Subscription(user_id=user_id, token_id=token_id)
        self._subs.add(sub)
        return sub, self._backlog(last_event_id)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subs.discard(sub)
        if not self._subs:
            self._idle_since = time.monotonic()

    def _backlog(self, last_event_id: str | None) -> list[Event]:
        if not last_event_id:
            return []
        epoch, _, seq_text = last_event_id.partition("-")
        resync = Event(id="", data=json.dumps({"kind": "resync", "reason": "missed events; reload"}))
        if epoch != self.epoch or not seq_text.isdigit():
            return [resync]
        seq = int(seq_text)
        if self._gap_after is not None and seq <= self._gap_after:
            return [resync]
        if seq >= self._seq:
            return []
        if not self._buffer or self._buffer[0][0] > seq + 1:
            return [resync]
        return [e for s, e in self._buffer if s > seq]

    @property
    def subscribers(self) -> int:
        return len(self._subs)
