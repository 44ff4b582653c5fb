"""The offline sync endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Request

from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from technician_api.deps import AppRules, TechnicianCaller
from technician_api.jobs.service import Actor
from technician_api.sync.schemas import SyncBatchIn, SyncBatchOut
from technician_api.sync.service import sync_batch

router = APIRouter(tags=["technician"])


@router.post("/me/sync", response_model=SyncBatchOut, summary="Send events queued while offline")
def post_sync(
    request: Request, batch: SyncBatchIn, session: DbSession, me: TechnicianCaller, rules: AppRules
) -> SyncBatchOut:
    assert me.technician_id is not None
    return sync_batch(
        session,
        actor=Actor(user_id=me.user_id, technician_id=me.technician_id),
        batch=batch,
        received_at=utcnow(),
        rules=rules,
        settings=request.app.state.settings,
    )
