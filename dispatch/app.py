"""The FastAPI application: `create_app(settings)` wires engine, routers and the error format."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.gzip import GZipMiddleware

from device_gateway.api import router as device_gateway_router
from dispatch import health
from dispatch.board.api import router as board_router
from dispatch.board.hub import EventHub
from dispatch.board.reports import router as reports_router
from dispatch.board.static import install_board
from dispatch.core.db import make_engine, make_sessionmaker
from dispatch.core.openapi import install_problem_openapi
from dispatch.core.policy import policy_for
from dispatch.core.problem import install_problem_handlers
from dispatch.core.settings import Settings
from dispatch.customers.api import router as registry_router
from dispatch.escalation.api import router as escalation_router
from dispatch.notifications.api import router as notifications_router
from dispatch.plans.api import router as plans_router
from dispatch.portal.pages import STATIC_DIR as PORTAL_STATIC
from dispatch.portal.pages import router as portal_router
from dispatch.roads.api import router as roads_router
from dispatch.tickets.api import router as tickets_router
from dispatch.users.api import router as users_router
from dispatch.workforce.api import router as workforce_router
from technician_api.api import install_app
from technician_api.api import public_router as customer_router
from technician_api.api import router as technician_router

API_PREFIX = "/api/v1"
# Phones on a poor signal (a crane cab, a basement machine room) pay per byte: a 20-job page of about 44 KB of
# JSON is under 3 KB gzipped, for about 0.1 ms of CPU at level 6 (level 9 doubles the CPU for 5 % less).
# Event streams and images are left alone (Starlette's default exclusions).
GZIP_MINIMUM_BYTES = 1024
GZIP_LEVEL = 6


def create_app(settings: Settings, *, session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    """The app. `session_factory` replaces the engine's sessions (tests bind it to a rolled-back transaction)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, connect_patience_s=settings.db_connect_patience_seconds)
        app.state.engine = engine
        # The readiness probe must tell an outage at once, not wait it out: its own small engine, no patience.
        app.state.probe_engine = make_engine(settings.database_url, pool_size=1)
        app.state.sessionmaker = session_factory or make_sessionmaker(engine)
        try:
            yield
        finally:
            await app.state.event_hub.stop()
            engine.dispose()
            app.state.probe_engine.dispose()

    app = FastAPI(
        title="Onsite24",
        version="0.1.0",
        description="On-site repair dispatch that keeps the 24-hour promise. Errors are application/problem+json.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    if session_factory is not None:
        app.state.sessionmaker = session_factory
    app.state.policy = policy_for(settings)
    # One LISTEN connection per process feeds every open event stream (started by the first subscriber).
    app.state.event_hub = EventHub(settings.database_url)
    install_problem_handlers(app)
    install_problem_openapi(app)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES, compresslevel=GZIP_LEVEL)
    app.include_router(health.router)
    app.include_router(users_router, prefix=API_PREFIX)
    app.include_router(workforce_router, prefix=API_PREFIX)
    app.include_router(tickets_router, prefix=API_PREFIX)
    app.include_router(registry_router, prefix=API_PREFIX)
    app.include_router(escalation_router, prefix=API_PREFIX)
    app.include_router(notifications_router, prefix=API_PREFIX)
    app.include_router(plans_router, prefix=API_PREFIX)
    app.include_router(roads_router, prefix=API_PREFIX)
    app.include_router(device_gateway_router, prefix=API_PREFIX)
    app.include_router(technician_router, prefix=API_PREFIX)
    app.include_router(customer_router)
    app.include_router(board_router, prefix=API_PREFIX)
    app.include_router(reports_router, prefix=API_PREFIX)
    app.include_router(portal_router)
    app.mount("/portal/static", StaticFiles(directory=PORTAL_STATIC), name="portal-static")
    install_board(app)
    install_app(app)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `onsite24 serve`: settings from the environment."""
    app = create_app(Settings())
    # One app per server process, alive as long as the process: move what start-up loaded (app, models,
    # policy, catalogues) out of the collector's reach, so a full collection during a request does not walk
    # it (it showed as a latency tail on /me/jobs).
    gc.freeze()
    return app
