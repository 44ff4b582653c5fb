"""The FastAPI application: `create_app(settings)` wires engine, routers and the error format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from dispatch import health
from dispatch.core.db import make_engine, make_sessionmaker
from dispatch.core.problem import install_problem_handlers
from dispatch.core.settings import Settings
from dispatch.users.api import router as users_router
from dispatch.workforce.api import router as workforce_router
from technician_api.api import public_router as customer_router
from technician_api.api import router as technician_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="Onsite24",
        version="0.1.0",
        description="On-site repair dispatch that keeps the 24-hour promise. Errors are application/problem+json.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(users_router, prefix=API_PREFIX)
    app.include_router(workforce_router, prefix=API_PREFIX)
    app.include_router(technician_router, prefix=API_PREFIX)
    app.include_router(customer_router)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` and `onsite24 serve`: settings from the environment."""
    return create_app(Settings())
