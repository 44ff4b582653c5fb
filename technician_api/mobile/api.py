"""Routes of the phone app (role technician): its configuration, the day's drive home, the live stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from dispatch.board.hub import EventHub
from dispatch.core.auth import Principal, decode_access_token, live_principal, oauth2_scheme
from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import RequestLocale
from dispatch.core.errors import Forbidden, Unauthorized
from dispatch.core.i18n import tag
from dispatch.core.settings import Settings
from dispatch.core.types import Role
from dispatch.users.models import User
from technician_api.deps import AppRules, TechnicianCaller
from technician_api.mobile import service
from technician_api.mobile.schemas import AppConfigOut, AppUserOut, DayOut

router = APIRouter(tags=["technician"])

#: Change notices that can touch a technician's jobs (ids are ticket ids; `null` means many: reload).
JOB_KINDS = frozenset({"ticket.updated", "ticket.status", "ticket.regraded", "visit.updated", "alarm.received"})
#: Notices that arrive within this many seconds of each other become one "jobs.changed".
COALESCE_SECONDS = 0.3


@router.get("/me/app", response_model=AppConfigOut, summary="What the phone app keeps to work offline")
def app_config(
    request: Request, session: DbSession, me: TechnicianCaller, rules: AppRules, locale: RequestLocale
) -> AppConfigOut:
    assert me.technician_id is not None
    user = session.get(User, me.user_id)
    assert user is not None
    transitions, actions = service.lifecycle()
    settings: Settings = request.app.state.settings
    return AppConfigOut(
        user=AppUserOut(id=user.id, username=user.username, full_name=user.full_name, technician_id=me.technician_id),
        home=service.home_of(session, me.technician_id),
        transitions=transitions,
        actions=actions,
        texts=service.texts(locale),
        geofence_radius_m=rules.policy.geofence.radius_m,
        max_upload_bytes=settings.max_upload_bytes,
        locale=tag(locale),
    )


@router.get("/me/day", response_model=DayOut, summary="The end of my planned day: the drive home")
def my_day(session: DbSession, me: TechnicianCaller) -> DayOut:
    assert me.technician_id is not None
    return service.day_of(session, me.technician_id, utcnow())


@router.get(
    "/me/stream",
    summary="Server-Sent Events: `jobs.changed` whenever one of my jobs changes (then GET /me/jobs with its ETag)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def my_stream(request: Request, bearer: Annotated[str | None, Depends(oauth2_scheme)]) -> StreamingResponse:
    """Open it with the bearer token in the header (fetch), not in a URL. It ends when the sign-in ends.

    The caller is checked with a short session of its own (not the request's): a database session held for
    the life of a stream would keep a transaction open for hours."""
    settings: Settings = request.app.state.settings
    if not bearer:
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.", key="error.auth.missing")
    claimed = decode_access_token(settings, bearer)

    def check() -> Principal:
        with request.app.state.sessionmaker() as session:
            try:
                return live_principal(session, claimed)[0]
            finally:
                session.rollback()

    me = await run_in_threadpool(check)
    if me.role is not Role.technician or me.technician_id is None:
        raise Forbidden("The job stream is for technicians.", key="error.auth.no-technician")
    technician_id = me.technician_id
    hub: EventHub = request.app.state.event_hub
    sub, _backlog = hub.subscribe(None, user_id=me.user_id, token_id=me.token_id)
    heartbeat = float(getattr(request.app.state, "sse_heartbeat_seconds", 15.0))
    session_ends = claimed.expires_at or utcnow()
    recheck_every = settings.stream_session_check_seconds
    loop = asyncio.get_running_loop()
    next_check = loop.time() + recheck_every

    def mine() -> set[int]:
        with request.app.state.sessionmaker() as session:
            try:
                return service.active_ticket_ids(session, technician_id)
            finally:
                session.rollback()

    def still_signed_in_now() -> bool:
        try:
            return check().technician_id == technician_id
        except Unauthorized:
            return False

    async def still_signed_in() -> bool:
        nonlocal next_check
        if sub.ended:
            return False
        if loop.time() < next_check:
            return True
        next_check = loop.time() + recheck_every
        try:
            return await run_in_threadpool(still_signed_in_now)
        except SQLAlchemyError:
            return True  # the database is away; the next check decides

    async def body() -> AsyncIterator[str]:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hub.listening.wait(), timeout=5)
            known = await run_in_threadpool(mine)
            yield f"retry: 3000\ndata: {json.dumps({'kind': 'hello', 'listening': hub.listening.is_set()})}\n\n"
            while True:
                left = (session_ends - utcnow()).total_seconds()
                if left <= 0 or not await still_signed_in():
                    yield 'data: {"kind":"expired","reason":"the sign-in ended; sign in again"}\n\n'
                    return
                try:
                    event = await asyncio.wait_for(sub.queue.get(), timeout=min(heartbeat, left, recheck_every))
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                touched: set[int] | None = set()
                events = [event]
                # A plan applied or a burst of intake changes many rows at once: one notice for all of them.
                with contextlib.suppress(TimeoutError):
                    while True:
                        events.append(await asyncio.wait_for(sub.queue.get(), timeout=COALESCE_SECONDS))
                for ev in events:
                    try:
                        data = json.loads(ev.data)
                    except ValueError:
                        continue
                    kind = data.get("kind")
                    if kind == "resync":
                        touched = None
                    elif kind in JOB_KINDS and touched is not None:
                        ids = data.get("ids")
                        touched = None if ids is None else touched | {int(i) for i in ids if isinstance(i, int)}
                if touched is not None and not touched:
                    continue
                now_mine = await run_in_threadpool(mine)
                relevant = touched is None or bool(touched & (known | now_mine)) or now_mine != known
                known = now_mine
                if relevant:
                    yield 'data: {"kind":"jobs.changed"}\n\n'
        finally:
            hub.unsubscribe(sub)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)
