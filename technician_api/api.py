"""The technician API's routers, for `dispatch.app.create_app` to include.

`router` goes under /api/v1 (technician app, photos, parts, return visits, confirmations, PDF);
`public_router` is mounted at the root: the customer's `/confirm/{token}` pages need no account;
`install_app` serves the technician's phone app at `/app`.
"""

from fastapi import APIRouter

from technician_api.confirmation.api import public_router
from technician_api.confirmation.api import router as confirmation_router
from technician_api.jobs.api import router as jobs_router
from technician_api.mobile.api import router as mobile_router
from technician_api.sync.api import router as sync_router
from technician_api.webapp.static import install_app

router = APIRouter()
router.include_router(jobs_router)
router.include_router(sync_router)
router.include_router(mobile_router)
router.include_router(confirmation_router)

__all__ = ["install_app", "public_router", "router"]
