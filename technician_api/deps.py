"""Dependencies shared by the technician routers: the policy and the technician caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from dispatch.core.auth import Principal, require_roles
from dispatch.core.errors import Forbidden
from dispatch.core.types import Role
from dispatch.domain.calendar import WorkingCalendar
from dispatch.domain.policy import Policy, load_policy


@dataclass(frozen=True)
class Rules:
    """The policy and the region's working calendar, loaded once per app."""

    policy: Policy
    calendar: WorkingCalendar

    @classmethod
    def load(cls, policy: Policy) -> Rules:
        return cls(policy=policy, calendar=WorkingCalendar.from_policy(policy))


def rules_of(request: Request) -> Rules:
    rules = getattr(request.app.state, "technician_rules", None)
    if rules is None:
        rules = Rules.load(load_policy(request.app.state.settings.policy_file))
        request.app.state.technician_rules = rules
    return rules


async def get_rules(request: Request) -> Rules:
    return rules_of(request)  # the policy file is read once per app; after that no I/O, so no thread hop


AppRules = Annotated[Rules, Depends(get_rules)]


async def _technician(principal: Annotated[Principal, require_roles(Role.technician)]) -> Principal:
    if principal.technician_id is None:
        raise Forbidden("This account is not linked to a technician.", key="error.auth.no-technician")
    return principal


TechnicianCaller = Annotated[Principal, Depends(_technician)]
OfficeStaff = Annotated[Principal, require_roles(Role.dispatcher, Role.manager, Role.agent)]
ReportReaders = Annotated[Principal, require_roles(Role.dispatcher, Role.manager)]
AnyUser = Annotated[Principal, require_roles(Role.dispatcher, Role.manager, Role.agent, Role.technician)]
