from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from dispatch.core.types import Role


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until the token expires")
    role: Role


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=80, pattern=r"^[A-Za-z0-9_.@-]+$")
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=200)
    role: Role
    technician_id: int | None = None
    email: str | None = Field(default=None, max_length=200)
    language: str = Field(default="zh-CN", pattern=r"^(zh-CN|en|ko)$")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: Role
    technician_id: int | None
    email: str | None
    language: str
    is_active: bool
