from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from dispatch.core.auth import AppSettings, CurrentPrincipal, Principal, create_access_token, require_roles
from dispatch.core.db import DbSession
from dispatch.core.deps import LOCALE_STATE, DbId, RequestLocale, get_locale
from dispatch.core.i18n import tag
from dispatch.core.types import Role
from dispatch.users import service
from dispatch.users.models import AccountEvent, User
from dispatch.users.schemas import (
    AccountChange,
    AccountEventOut,
    RoleChange,
    TokenOut,
    UserCreate,
    UserOut,
    UserSettingsIn,
    UserSettingsOut,
)

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


@router.post("/auth/sign-out", status_code=204, summary="Sign out: this token stops working at once")
def sign_out(
    principal: CurrentPrincipal,
    session: DbSession,
    everywhere: Annotated[bool, Query(description="End every session of the account (all devices)")] = False,
) -> Response:
    """The token of this request is refused from now on (and the event streams it opened end); with
    `everywhere=true` every token of the account is, on every device."""
    service.sign_out(session, principal, everywhere=everywhere)
    return Response(status_code=204)


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


Admin = Annotated[Principal, require_roles(Role.admin)]


@router.post("/users/{user_id}/deactivate", response_model=UserOut, summary="Deactivate a user (admin)")
def deactivate_user(user_id: DbId, session: DbSession, admin: Admin, body: AccountChange | None = None) -> User:
    """The account can no longer sign in, and every session it has ends now: its tokens are refused on the
    next request and its open event streams close. Audited; deactivating an inactive account changes nothing."""
    return service.deactivate_user(
        session, user_id=user_id, actor=admin.actor, actor_user_id=admin.user_id, reason=body.reason if body else None
    )


@router.post("/users/{user_id}/activate", response_model=UserOut, summary="Activate a deactivated user (admin)")
def activate_user(user_id: DbId, session: DbSession, admin: Admin, body: AccountChange | None = None) -> User:
    """The account may sign in again; the tokens it had before stay void. Audited."""
    return service.activate_user(
        session, user_id=user_id, actor=admin.actor, actor_user_id=admin.user_id, reason=body.reason if body else None
    )


@router.post("/users/{user_id}/end-sessions", response_model=UserOut, summary="End every session of a user (admin)")
def end_sessions(user_id: DbId, session: DbSession, admin: Admin, body: AccountChange | None = None) -> User:
    """For a lost phone or a shared password: every token of the account stops working, the account stays
    active (the user signs in again). Audited."""
    return service.end_sessions(
        session, user_id=user_id, actor=admin.actor, actor_user_id=admin.user_id, reason=body.reason if body else None
    )


@router.put("/users/{user_id}/role", response_model=UserOut, summary="Change a user's role (admin)")
def change_role(user_id: DbId, body: RoleChange, session: DbSession, admin: Admin) -> User:
    """A technician account names its technician. The user's sessions end (they sign in again with the new
    role); until then no request is served with the old one. Audited."""
    return service.change_role(
        session,
        user_id=user_id,
        role=body.role,
        technician_id=body.technician_id,
        actor=admin.actor,
        actor_user_id=admin.user_id,
        reason=body.reason,
    )


@router.get("/users/{user_id}/events", response_model=list[AccountEventOut], summary="A user's account audit (admin)")
def account_events(
    user_id: DbId,
    session: DbSession,
    _admin: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AccountEvent]:
    """Deactivations, activations, ended sessions and role changes of the account, newest first."""
    return service.account_events(session, user_id=user_id, limit=limit)
