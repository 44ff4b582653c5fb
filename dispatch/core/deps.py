"""Shared request dependencies: the policy, the current time and the reader's language."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Path, Request

from dispatch.core.clock import utcnow
from dispatch.core.i18n import negotiate
from dispatch.domain.policy import Policy


# The dependencies below do no I/O, so they are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, and each such hop cost a thread hand-off on every request (bench/me_jobs.py, py-spy).
async def get_policy(request: Request) -> Policy:
    return request.app.state.policy


async def get_now() -> datetime:
    return utcnow()


# Routes that know the signed-in user's or the customer's language put it here before texts are rendered.
LOCALE_STATE = "preferred_locale"
LANG_COOKIE = "onsite24_lang"


async def request_locale(request: Request) -> str:
    """Dependency form of `get_locale` (no thread hop)."""
    return get_locale(request)


def get_locale(request: Request) -> str:
    """The reader's language: ?lang=, then their saved setting, the language cookie, Accept-Language, default."""
    return negotiate(
        request.query_params.get("lang"),
        getattr(request.state, LOCALE_STATE, None),
        request.cookies.get(LANG_COOKIE),
        accept_language=request.headers.get("accept-language"),
        default=request.app.state.settings.default_locale,
    )


AppPolicy = Annotated[Policy, Depends(get_policy)]
Now = Annotated[datetime, Depends(get_now)]
RequestLocale = Annotated[str, Depends(request_locale)]

# Ids are PostgreSQL integers: a larger number can name nothing, so it is refused up front (422).
MAX_ID = 2_147_483_647
DbId = Annotated[int, Path(ge=1, le=MAX_ID, description="Record id")]
