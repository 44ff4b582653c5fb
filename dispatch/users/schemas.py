from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.core.types import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the token expires")
    role: Role


# The BCP 47 tags of the languages the screens are translated into (dispatch.core.i18n.TAGS).
LocaleTag = Literal["zh-CN", "en", "ko"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    role: Role
    technician_id: int | None = None
    email: str | None = Field(default=None, max_length=200)
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en|ko)$")
    locale: LocaleTag | None = None


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: Role
    technician_id: int | None
    email: str | None
    language: str
    locale: LocaleTag | None
    is_active: bool


class UserSettingsOut(BaseModel):
    """The signed-in user's own settings, and the language the screens actually use for them now."""

    locale: LocaleTag | None = Field(description="The chosen language; null follows the browser")
    effective_locale: LocaleTag = Field(description="The language of this response (choice, browser or default)")


class UserSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    locale: LocaleTag | None = Field(description="zh-CN, en or ko; null to follow the browser again")


class AccountChange(BaseModel):
    """Why an admin deactivates or activates an account or ends its sessions (kept in the account's audit)."""

    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=500)


class RoleChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    technician_id: int | None = Field(default=None, ge=1, le=2_147_483_647, description="Required for technician")
    reason: str | None = Field(default=None, max_length=500)


class AccountEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    action: str
    reason: str | None
    data: dict[str, Any]
