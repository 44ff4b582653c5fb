"""The board's HTTP surface: the live event stream, the board's read models and its configuration.

Only office roles that steer or watch dispatch (dispatcher, manager; admin) may read these; a technician
or agent token is refused here on the server, whatever the page does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import jwt
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from dispatch.board import service
from dispatch.board.hub import Event, EventHub
from dispatch.board.schemas import BoardConfig, MapData, QueueGroups, QueuePage, Schedule
from dispatch.core import texts
from dispatch.core.auth import (
    JWT_ALGORITHM,
    AppSettings,
    Principal,
    decode_access_token,
    live_principal,
    oauth2_scheme,
    require_roles,
)
from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import LOCALE_STATE, AppPolicy, Now, RequestLocale
from dispatch.core.errors import Forbidden, Unauthorized
from dispatch.core.i18n import tag
from dispatch.core.settings import Settings
from dispatch.core.tokens import decode_token
from dispatch.core.types import Channel, EquipmentType, Grade, Role, TicketStatus
from dispatch.domain.policy import Policy
from dispatch.roads.geometry import follow_roads

router = APIRouter(tags=["board"])
BOARD_ROLES = frozenset({Role.dispatcher, Role.manager, Role.admin})
BoardUser = Annotated[Principal, require_roles(Role.dispatcher, Role.manager)]
STREAM_AUDIENCE = "onsite24:events"
STREAM_TOKEN_SECONDS = 60


# ---- live events ---------------------------------------------------------------------------------------------


def mint_stream_token(settings: Settings, principal: Principal) -> str:
    """A short token to open the stream; `sx` carries when the user's own access token expires, so the
    stream it opens ends then too (a stream must not outlive the sign-in that opened it), and `sj`/`sep` the
    access token's id and session epoch, so signing it out (or ending the account's sessions) ends the stream."""
    now = utcnow()
    session_expires_at = principal.expires_at or now + timedelta(minutes=settings.access_token_minutes)
    claims = {
        "sx": int(session_expires_at.timestamp()),
        "sub": str(principal.user_id),
        "usr": principal.username,
        "role": principal.role.value,
        "sj": principal.token_id,
        "sep": principal.session_epoch,
        "aud": STREAM_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(seconds=STREAM_TOKEN_SECONDS),
    }
    return jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)


def _stream_principal(settings: Settings, token: str) -> Principal:
    """An access token, or a 60-second stream token from POST /events/token (safer in a URL); its
    `expires_at` is when the sign-in behind it ends."""
    try:
        claims = decode_token(token, settings.secret_key.get_secret_value(), audience=STREAM_AUDIENCE)
        return Principal(
            user_id=int(claims["sub"]),
            username=str(claims.get("usr", "")),
            role=Role(claims["role"]),
            expires_at=datetime.fromtimestamp(int(claims["sx"]), UTC),
            token_id=str(claims["sj"]) if claims.get("sj") else None,
            session_epoch=int(claims.get("sep", 0)),
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The stream token has expired; ask for a new one.", key="error.auth.stream-expired") from exc
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError):
        return decode_access_token(settings, token)


def _check_session(request: Request, claimed: Principal) -> Principal:
    """The stream's user as their account stands now; 401 once it is deactivated or signed out."""
    with request.app.state.sessionmaker() as session:
        principal, _locale = live_principal(session, claimed)
        session.rollback()
        return principal


def get_hub(request: Request) -> EventHub:
    return request.app.state.event_hub


def _sse(event: Event) -> str:
    head = f"id: {event.id}\n" if event.id else ""
    return f"{head}data: {event.data}\n\n"


@router.post("/events/token", summary="A 60-second token for opening the event stream (EventSource URL)")
def stream_token(principal: BoardUser, settings: AppSettings) -> dict[str, object]:
    return {"token": mint_stream_token(settings, principal), "expires_in": STREAM_TOKEN_SECONDS}


@router.get(
    "/events/stream",
    summary="Server-Sent Events: ticket, plan, position and escalation changes, as they are committed",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def event_stream(
    request: Request,
    settings: AppSettings,
    bearer: Annotated[str | None, Depends(oauth2_scheme)],
    access_token: Annotated[str | None, Query(description="For EventSource, which cannot send headers")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    token = bearer or access_token
    if not token:
        raise Unauthorized("Log in first: send a bearer token or ?access_token=.", key="error.auth.stream-missing")
    claimed = _stream_principal(settings, token)
    principal = await run_in_threadpool(_check_session, request, claimed)
    # Always set: access tokens require `exp`, stream tokens carry `sx`.
    session_ends = principal.expires_at or utcnow()
    if principal.role not in BOARD_ROLES:
        raise Forbidden("The event stream is for dispatchers and managers.", key="error.auth.stream-roles")
    hub = get_hub(request)
    sub, backlog = hub.subscribe(
        last_event_id or request.query_params.get("lastEventId"),
        user_id=principal.user_id,
        token_id=principal.token_id,
    )
    heartbeat = float(getattr(request.app.state, "sse_heartbeat_seconds", 15.0))
    # The hub ends a stream at once when its session ends ("session.ended" from any API process); this
    # re-check of the account is the backstop for a notice missed while the hub was reconnecting.
    recheck_every = settings.stream_session_check_seconds
    next_check = asyncio.get_running_loop().time() + recheck_every

    async def still_signed_in() -> bool:
        nonlocal next_check
        if sub.ended:
            return False
        if asyncio.get_running_loop().time() < next_check:
            return True
        next_check = asyncio.get_running_loop().time() + recheck_every
        try:
            current = await run_in_threadpool(_check_session, request, claimed)
        except Unauthorized:
            return False
        except SQLAlchemyError:
            return True  # the database is away: the hub says resync; check again next time
        return current.role in BOARD_ROLES

    async def body() -> AsyncIterator[str]:
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hub.listening.wait(), timeout=5)
            hello = {"kind": "hello", "epoch": hub.epoch, "listening": hub.listening.is_set()}
            yield f"retry: 3000\ndata: {json.dumps(hello)}\n\n"
            for event in backlog:
                yield _sse(event)
            while True:
                left = (session_ends - utcnow()).total_seconds()
                if left <= 0:
                    # The sign-in expired: end the stream. The browser's reconnect is refused (401) and the
                    # board asks the user to log in again.
                    yield 'data: {"kind":"expired","reason":"the sign-in expired; log in again"}\n\n'
                    return
                if not await still_signed_in():
                    # Signed out, deactivated or sessions ended: the same notice, the same refused reconnect.
                    yield 'data: {"kind":"expired","reason":"the sign-in ended; log in again"}\n\n'
                    return
                try:
                    event = await asyncio.wait_for(sub.queue.get(), timeout=min(heartbeat, left, recheck_every))
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                if sub.ended:
                    continue  # said at the top of the loop
                if sub.overflowed:
                    sub.overflowed = False
                    yield 'data: {"kind":"resync","reason":"too many events; reload"}\n\n'
                yield _sse(event)
        finally:
            hub.unsubscribe(sub)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


# ---- configuration and read models ----------------------------------------------------------------------------


@router.get("/board/config", response_model=BoardConfig, summary="What the board page needs to start")
def board_config(
    principal: BoardUser, settings: AppSettings, policy: AppPolicy, request: Request, locale: RequestLocale
) -> BoardConfig:
    """`locale` is the user's saved language (null: the board follows the browser), `default_locale` the site's."""
    return BoardConfig(
        tile_url=settings.tile_url,
        tile_attribution="" if not settings.tile_url else "Map tiles: configured tile server",
        events_url="/api/v1/events/stream",
        timezone=policy.calendar.timezone,
        user={"id": principal.user_id, "name": principal.username},
        role=principal.role.value,
        # The auth dependency put the saved setting on the request; absent means "not chosen".
        locale=getattr(request.state, LOCALE_STATE, None),
        default_locale=tag(settings.default_locale),
        effective_locale=tag(locale),
    )


@router.get("/board/queue", response_model=QueuePage, summary="Open tickets by time left, with counts per grade")
def board_queue(
    session: DbSession,
    now: Now,
    _who: BoardUser,
    grade: Grade | None = None,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=80)] = None,
    equipment_type: EquipmentType | None = None,
    channel: Channel | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Customer, site, address or serial")] = None,
    at_risk: bool | None = None,
    due_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    *,
    policy: AppPolicy,
    locale: RequestLocale,
) -> dict[str, object]:
    page = service.queue_page(
        session,
        now=now,
        limit=limit,
        offset=offset,
        grade=grade,
        statuses=status,
        region=region,
        equipment_type=equipment_type,
        channel=channel,
        q=q,
        at_risk=at_risk,
        due_before=due_before,
    )
    return _with_reasons_in(page, locale, policy)


def _with_reasons_in(page: dict[str, Any], locale: str, policy: Policy) -> dict[str, Any]:
    """Grade reasons written in the reader's language (stored in the policy's words with their values)."""
    for item in page.get("items", []):
        item["grade_reasons"] = texts.grade_reasons(item.get("grade_reasons"), locale, policy)
    return page


@router.get("/board/queue/groups", response_model=QueueGroups, summary="The first page of each grade, in one answer")
def board_queue_groups(
    session: DbSession,
    now: Now,
    _who: BoardUser,
    status: Annotated[list[TicketStatus] | None, Query()] = None,
    region: Annotated[str | None, Query(max_length=80)] = None,
    equipment_type: EquipmentType | None = None,
    channel: Channel | None = None,
    q: Annotated[str | None, Query(max_length=100, description="Customer, site, address or serial")] = None,
    at_risk: bool | None = None,
    due_before: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Per grade")] = 50,
    *,
    policy: AppPolicy,
    locale: RequestLocale,
) -> dict[str, object]:
    groups = service.queue_groups(
        session,
        now=now,
        limit=limit,
        statuses=status,
        region=region,
        equipment_type=equipment_type,
        channel=channel,
        q=q,
        at_risk=at_risk,
        due_before=due_before,
    )
    for page in groups["groups"].values():
        _with_reasons_in(page, locale, policy)
    return groups


def _local_midnight(tz: str, now: datetime) -> datetime:
    local = now.astimezone(ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


@router.get("/board/schedule", response_model=Schedule, summary="Per technician: shifts, travel and work blocks")
def board_schedule(
    session: DbSession,
    now: Now,
    policy: AppPolicy,
    _who: BoardUser,
    start: Annotated[datetime | None, Query(description="Default: today 00:00 in the policy's time zone")] = None,
    hours: Annotated[int, Query(ge=1, le=96)] = 48,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    *,
    locale: RequestLocale,
) -> dict[str, object]:
    tz = policy.calendar.timezone
    begin = start if start is not None and start.tzinfo else _local_midnight(tz, now)
    return service.schedule(
        session, start=begin, hours=hours, limit=limit, offset=offset, now=now, locale=locale, tz=tz
    )


@router.get("/board/map", response_model=MapData, summary="Sites with open tickets, technicians and routes, depots")
def board_map(session: DbSession, policy: AppPolicy, now: Now, _who: BoardUser) -> dict[str, object]:
    begin = _local_midnight(policy.calendar.timezone, now)
    data = service.map_data(session, start=begin, end=begin + timedelta(hours=48))
    lines = follow_roads(session, policy, [tech["route"] for tech in data["technicians"]])
    for tech, (line, on_roads) in zip(data["technicians"], lines, strict=True):
        tech["route"], tech["route_on_roads"] = line, on_roads
    return data
