"""The service-feedback form (domain.md "Closing": satisfied?, five dimensions, comment, who signed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dispatch.core.timestamps import Timestamp

#: The five perceived dimensions of the power-grid seed, in the order the form asks them.
DIMENSIONS: tuple[str, ...] = ("quality", "speed", "attitude", "accurate_information", "safety")
#: What the form asks to improve (domain.md "Closing"): the product, the service process, the people.
IMPROVEMENT_AREAS: tuple[str, ...] = ("product", "process", "people")
DIMENSION_LABELS: dict[str, str] = {
    "quality": "Quality of the repair",
    "speed": "Speed",
    "attitude": "Attitude of the technician",
    "accurate_information": "Accurate information",
    "safety": "Safety",
}


class ConfirmationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    satisfied: bool
    quality: int = Field(ge=1, le=5)
    speed: int = Field(ge=1, le=5)
    attitude: int = Field(ge=1, le=5)
    accurate_information: int = Field(ge=1, le=5)
    safety: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=4000)
    signer_name: str = Field(min_length=1, max_length=200)
    signer_role: str = Field(min_length=1, max_length=200)
    signature: str = Field(min_length=30, max_length=800_000, description="data:image/png;base64,… from the canvas")
    # Domain.md "Closing": is the relationship kept, and what should improve in the product, the service
    # process and the people who came (optional answers).
    relationship_kept: bool | None = None
    improvement_product: str | None = Field(default=None, max_length=2000)
    improvement_process: str | None = Field(default=None, max_length=2000)
    improvement_people: str | None = Field(default=None, max_length=2000)

    def ratings(self) -> dict[str, int]:
        return {d: getattr(self, d) for d in DIMENSIONS}

    def improvements(self) -> dict[str, str]:
        return {a: v for a in IMPROVEMENT_AREAS if (v := getattr(self, f"improvement_{a}"))}


class DeviceConfirmationIn(ConfirmationIn):
    """The form as filled in and signed on the technician's phone; `signed_at` is the phone's clock."""

    signed_at: Timestamp | None = None


class DeviceConfirmationOut(BaseModel):
    ticket_id: int
    visit_id: int
    outcome: str
    signed_at: datetime
    document_sha256: str
    duplicate: bool = Field(description="True when this key was already recorded (a resend): nothing changed")


class ConfirmationOut(BaseModel):
    id: int
    ticket_id: int
    visit_id: int
    satisfied: bool
    ratings: dict[str, int]
    comment: str
    signer_name: str
    signer_role: str
    signed_at: datetime
    ip: str | None
    user_agent: str | None
    outcome: str
    document_sha256: str
    signature_png: str = Field(description="data URL of the drawn signature")
    work_report: dict[str, Any]
    relationship_kept: bool | None = None
    improvements: dict[str, str] = Field(default_factory=dict)
    channel: str = Field(
        default="link", description="link: the customer's one-time link; device: the technician's phone"
    )


class ConfirmationStatus(BaseModel):
    """Everything the dispatcher sees about the closing of a ticket."""

    ticket_id: int
    ticket_status: str
    confirmation: ConfirmationOut | None
    links: list[dict[str, Any]]
    return_visits: list[dict[str, Any]]


class VerifyOut(BaseModel):
    ticket_id: int
    confirmation_id: int
    valid: bool
    stored_sha256: str
    computed_sha256: str


class SubmittedOut(BaseModel):
    ticket_id: int
    outcome: str
    document_sha256: str
    report_url: str
