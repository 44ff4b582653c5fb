"""The photo store of a request's app: built from the settings on first use, then kept on the app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dispatch.photos.storage import Storage, storage_from_settings


def get_storage(request: Request) -> Storage:
    storage = getattr(request.app.state, "storage", None)
    if storage is None:
        storage = storage_from_settings(request.app.state.settings)
        request.app.state.storage = storage
    return storage


async def app_storage(request: Request) -> Storage:
    return get_storage(request)


AppStorage = Annotated[Storage, Depends(app_storage)]
