from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from dispatch.core.auth import AppSettings, CurrentPrincipal, Principal, create_access_token, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import LOCALE_STATE, RequestLocale, get_locale
from dispatch.core.i18n import tag
from dispatch.core.types import Role
from dispatch.users import service
from dispatch.users.models import User
from dispatch.users.schemas import TokenOut, UserCreate, UserOut, UserSettingsIn, UserSettingsOut

router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenOut, summary="Log in (OAuth2 password flow)")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: DbSession, settings: AppSettings
) -> TokenOut:
    """Too many failed attempts for the account or the client address answer 429 with Retry-After."""
    address = request.client.host if request.client else "unknown"
    principal = service.authenticate(
        session, username=form.username, password=form.password, address=address, settings=settings
    )
    token = create_access_token(settings, principal)
    return TokenOut(access_token=token, expires_in=settings.access_token_minutes * 60, role=principal.role)


@router.get("/users/me", response_model=UserOut, summary="The logged-in user")
def me(principal: CurrentPrincipal, session: DbSession) -> User:
    return service.get_user(session, principal.user_id)


@router.get("/me/settings", response_model=UserSettingsOut, tags=["settings"], summary="My settings (language)")
def my_settings(principal: CurrentPrincipal, session: DbSession, locale: RequestLocale) -> UserSettingsOut:
    """Any signed-in user; `effective_locale` is what the screens use now (the choice, else the browser's)."""
    user = service.get_user(session, principal.user_id)
    return UserSettingsOut(locale=user.locale, effective_locale=tag(locale))  # type: ignore[arg-type]


@router.patch("/me/settings", response_model=UserSettingsOut, tags=["settings"], summary="Change my settings")
def change_my_settings(
    body: UserSettingsIn, request: Request, principal: CurrentPrincipal, session: DbSession
) -> UserSettingsOut:
    """Set the language of the board, the API's texts and reports for this user (null: follow the browser)."""
    user = service.set_locale(session, user_id=principal.user_id, locale=body.locale)
    # This response is already in the new language (the dependency read the old one before the change).
    if user.locale:
        setattr(request.state, LOCALE_STATE, user.locale)
    elif hasattr(request.state, LOCALE_STATE):
        delattr(request.state, LOCALE_STATE)
    effective = get_locale(request)
    return UserSettingsOut(locale=user.locale, effective_locale=tag(effective))  # type: ignore[arg-type]


@router.post("/users", response_model=UserOut, status_code=201, summary="Create a user (admin)")
def create_user(body: UserCreate, session: DbSession, _admin: Annotated[Principal, require_roles(Role.admin)]) -> User:
    return service.create_user(session, **body.model_dump())


@router.get("/users", response_model=list[UserOut], summary="List users (admin)")
def list_users(
    session: DbSession,
    _admin: Annotated[Principal, require_roles(Role.admin)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id).limit(limit).offset(offset)))
