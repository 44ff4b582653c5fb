"""The offline sync contract: a batch of queued events, each with its own key and device time."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.core.timestamps import Timestamp


class SyncEventIn(BaseModel):
    """One queued event. The rest of the event (reason, position, report…) rides in the same object."""

    model_config = ConfigDict(extra="allow")

    idempotency_key: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    job_id: int = Field(gt=0)
    kind: str = Field(min_length=1, max_length=32)
    device_at: Timestamp


class SyncBatchIn(BaseModel):
    events: list[SyncEventIn] = Field(min_length=1, max_length=500)


class SyncEventResult(BaseModel):
    idempotency_key: str
    job_id: int
    kind: str
    status: Literal["applied", "duplicate", "conflict", "rejected"]
    reason: str | None = None
    detail: str | None = Field(default=None, description="Why, in the reader's language")
    result: dict[str, Any] | None = None
    # What `detail` is made from, kept with the stored event so a replay is explained in the language of the
    # phone that sends it (not the one that first did). Not part of the answer.
    text_key: str | None = Field(default=None, exclude=True)
    text_params: dict[str, Any] = Field(default_factory=dict, exclude=True)


class SyncBatchOut(BaseModel):
    results: list[SyncEventResult] = Field(description="One per event, in the order they were applied")
    applied: int
    duplicates: int
    conflicts: int
    rejected: int
