"""The offline sync endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from dispatch.core.clock import utcnow
from dispatch.core.db import DbSession
from dispatch.core.deps import RequestLocale
from dispatch.core.errors import DomainError, IllegalTransition
from dispatch.core.problem import localised
from technician_api.deps import AppRules, TechnicianCaller
from technician_api.jobs.service import Actor
from technician_api.sync.schemas import SyncBatchIn, SyncBatchOut
from technician_api.sync.service import sync_batch

router = APIRouter(tags=["technician"])


@router.post("/me/sync", response_model=SyncBatchOut, summary="Send events queued while offline")
def post_sync(
    request: Request,
    batch: SyncBatchIn,
    session: DbSession,
    me: TechnicianCaller,
    rules: AppRules,
    *,
    locale: RequestLocale,
) -> SyncBatchOut:
    assert me.technician_id is not None
    out = sync_batch(
        session,
        actor=Actor(user_id=me.user_id, technician_id=me.technician_id),
        batch=batch,
        received_at=utcnow(),
        rules=rules,
        settings=request.app.state.settings,
    )
    for result in out.results:
        if result.text_key and result.detail:
            result.detail = _in_language(result.text_key, result.detail, result.text_params, locale)
    return out


def _in_language(key: str, detail: str, params: dict[str, Any], locale: str) -> str:
    """A stored refusal's words in the reader's language, as the same error answered live would have them."""
    if key.startswith("error.illegal-transition") and {"state", "action", "allowed"} <= params.keys():
        error: DomainError = IllegalTransition(params["state"], params["action"], list(params["allowed"]))
        error.key = key
    else:
        error = DomainError(detail, key=key, params=params)
    return localised(error, locale)[1]
