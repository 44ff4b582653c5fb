"""Every API endpoint, found from the app's own routes, refuses anonymous callers and the wrong roles."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from dispatch.app import create_app
from dispatch.core.settings import Settings
from dispatch.core.types import Role
from tests.factories import auth_header, make_user

# Endpoints anyone may call: logging in, probes, and pages reached by a signed link (checked elsewhere).
PUBLIC = {("POST", "/api/v1/auth/token")}
PUBLIC_PREFIXES = ("/confirm/", "/t/", "/board", "/healthz", "/readyz", "/docs", "/openapi", "/redoc", "/portal")


def _allowed_roles(dependant) -> frozenset[Role] | None:  # type: ignore[no-untyped-def]
    stack = list(dependant.dependencies)
    while stack:
        dep = stack.pop()
        roles = getattr(dep.call, "allowed_roles", None)
        if roles is not None:
            return roles
        stack.extend(dep.dependencies)
    return None


def iter_endpoints(app):  # type: ignore[no-untyped-def]
    """(path, methods, dependant) of every endpoint, also those of included routers (FastAPI ≥ 0.16x keeps
    them behind an included-router object that lists its effective routes)."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route.path, route.methods, route.dependant
        elif hasattr(route, "effective_route_contexts"):
            for ctx in route.effective_route_contexts():
                if ctx.methods and ctx.dependant is not None:
                    yield ctx.path, ctx.methods, ctx.dependant


def _routes() -> list[tuple[str, str, frozenset[Role] | None]]:
    app = create_app(Settings(environment="test"))
    out = []
    for path, methods, dependant in iter_endpoints(app):
        if not path.startswith("/api/v1"):
            continue
        for method in sorted(set(methods) - {"HEAD", "OPTIONS"}):
            if (method, path) in PUBLIC or path.startswith(PUBLIC_PREFIXES):
                continue
            out.append((method, path, _allowed_roles(dependant)))
    return sorted(out)


ROUTES = _routes()


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.mark.parametrize(("method", "path", "roles"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_endpoint_refuses_anonymous_and_wrong_roles(client, db_session, settings, method, path, roles):
    """No token → 401; a role the endpoint does not name → 403, before anything about the resource is looked up."""
    r = client.request(method, _url(path))
    assert r.status_code == 401, f"{method} {path} answered {r.status_code} to an anonymous caller"
    assert r.headers["content-type"] == "application/problem+json"
    if roles is None:
        return  # any logged-in user (their own data only: checked by the endpoint's own tests)
    for role in Role:
        if role in roles or (role is Role.admin and roles & {Role.agent, Role.dispatcher, Role.manager}):
            continue
        user = make_user(db_session, role=role)
        r = client.request(method, _url(path), headers=auth_header(settings, user), json={})
        assert r.status_code == 403, f"{method} {path} answered {r.status_code} to a {role.value}, not 403"


def test_matrix_covers_the_api():
    """The matrix is built from the real routes, so a new endpoint cannot escape it."""
    paths = {p for _, p, _ in ROUTES}
    assert {"/api/v1/complaints", "/api/v1/tickets", "/api/v1/plans/live", "/api/v1/escalations"} <= paths
    assert all(roles is not None for _, p, roles in ROUTES if p.startswith(("/api/v1/tickets", "/api/v1/plans")))
