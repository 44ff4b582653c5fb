"""The six impact facts: the intake's "how big is the impact" answers (domain.md "Classification").

An agent asks them on the phone, the portal's complaint form asks the customer, and an alarm's mapping row
sets them (`alarms.mappings[].impact` in policy.toml); the grade rules read them by these names. This is the
one place they are declared: the API's request body (`dispatch.tickets.schemas.Impact`), the portal's form
and the gateway's alarm tickets are built on `Impact`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class Impact(BaseModel):
    """What the fault does to people, the equipment and the site; every fact defaults to false."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    injury: bool = Field(default=False, description="Someone is injured.")
    people_trapped: bool = Field(default=False, description="People are trapped (in a car, a cab, a hoist).")
    safety_risk: bool = Field(default=False, description="There is a risk to safety.")
    equipment_down: bool = Field(default=False, description="The equipment does not work.")
    site_stopped: bool = Field(default=False, description="Work on the site has stopped.")
    degraded: bool = Field(default=False, description="The equipment works, but worse.")

    @classmethod
    def from_facts(cls, facts: Mapping[str, object]) -> Impact:
        """The impact facts named in `facts` (an alarm mapping's row, a form); other keys are not impact facts."""
        return cls(**{name: bool(facts[name]) for name in IMPACT_FACTS if name in facts})

    def facts(self) -> dict[str, bool]:
        """The six facts by name (what grade-rule conditions test)."""
        return {name: bool(getattr(self, name)) for name in IMPACT_FACTS}


#: The impact facts' names, in the order the intake asks them (the fields of `Impact`).
IMPACT_FACTS: tuple[str, ...] = tuple(Impact.model_fields)
