"""Shared request dependencies: the policy and the current time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request

from dispatch.core.clock import utcnow
from dispatch.domain.policy import Policy


def get_policy(request: Request) -> Policy:
    return request.app.state.policy


def get_now() -> datetime:
    return utcnow()


AppPolicy = Annotated[Policy, Depends(get_policy)]
Now = Annotated[datetime, Depends(get_now)]

# Ids are PostgreSQL integers: a larger number can name nothing, so it is refused up front (422).
MAX_ID = 2_147_483_647
DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="Record id")]
