"""Shared request dependencies: the policy and the current time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from dispatch.core.clock import utcnow
from dispatch.domain.policy import Policy


def get_policy(request: Request) -> Policy:
    return request.app.state.policy


def get_now() -> datetime:
    return utcnow()


AppPolicy = Annotated[Policy, Depends(get_policy)]
Now = Annotated[datetime, Depends(get_now)]
