from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from dispatch.core.auth import Principal, require_roles
from dispatch.core.db import DbSession
from dispatch.core.geo import latlon
from dispatch.core.types import Role
from dispatch.workforce.models import Depot, Technician
from dispatch.workforce.schemas import DepotOut, TechnicianOut

router = APIRouter(tags=["workforce"])
OfficeStaff = Annotated[Principal, require_roles(Role.dispatcher, Role.manager, Role.agent)]


@router.get("/technicians", response_model=list[TechnicianOut], summary="Technicians with skills and positions")
def list_technicians(
    session: DbSession,
    _who: OfficeStaff,
    skill: Annotated[str | None, Query(max_length=40, description="Only technicians with this skill")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TechnicianOut]:
    query = select(Technician).order_by(Technician.id).limit(limit).offset(offset)
    if skill:
        query = query.where(Technician.skills.contains([skill]))
    return [
        TechnicianOut(
            id=t.id,
            name=t.name,
            phone=t.phone,
            home_depot_id=t.home_depot_id,
            skills=list(t.skills),
            is_active=t.is_active,
            last_position=latlon(t.last_position),
            last_position_at=t.last_position_at,
        )
        for t in session.scalars(query)
    ]


@router.get("/depots", response_model=list[DepotOut], summary="Service centres and partner service points")
def list_depots(session: DbSession, _who: OfficeStaff) -> list[DepotOut]:
    return [
        DepotOut(id=d.id, name=d.name, kind=d.kind, region=d.region, location=latlon(d.location))
        for d in session.scalars(select(Depot).order_by(Depot.id).limit(500))
    ]
