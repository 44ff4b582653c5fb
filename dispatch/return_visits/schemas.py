"""The return-visit call as the office logs it, and the tasks as they are shown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ReturnVisitIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Required: a call logged without saying how it went would close the ticket as if the customer was reached.
    outcome: Literal["reached", "unreachable", "complaint"] = Field(
        description="reached: the customer was spoken to; unreachable: try again; complaint: a new complaint"
    )
    note: str | None = Field(default=None, max_length=4000)


class ReturnVisitOut(BaseModel):
    id: int
    ticket_id: int
    reason: str
    status: str
    due_at: datetime
    done_at: datetime | None
    outcome: str | None
    note: str | None
    overdue: bool


class ReturnVisitLogged(BaseModel):
    task: ReturnVisitOut | None
    ticket_status: str
    closed: bool
