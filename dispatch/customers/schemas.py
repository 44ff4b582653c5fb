"""The registry as intake speaks it: search results, and a new customer, site or machine registered on the call."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dispatch.core.types import EquipmentType
from dispatch.domain.access import validate_access_hours

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)
_PHONE = r"^[0-9+() -]+$"


class CustomerIn(BaseModel):
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={"examples": [{"name": "Xiangjiang Builders", "phone": "13912345678", "language": "zh-CN"}]},
    )
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=_PHONE)
    email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")
    language: str | None = Field(default=None, pattern=r"^(zh-CN|en|ko)$")


class Position(BaseModel):
    """Where the site is: picked on the map, or coordinates typed in (WGS 84 degrees)."""

    model_config = _STRICT
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class SiteIn(BaseModel):
    """A site registered on the call: its owner (an existing customer or a new one), address, position, access
    hours in site-local time ({"mon": [["07:00", "19:00"]], …}; empty = open around the clock) and a contact."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {
                    "customer": {"name": "Xiangjiang Builders", "phone": "13912345678"},
                    "name": "Riverside tower block 3",
                    "address": "18 Riverside Road, Yuelu district, Changsha",
                    "region": "Changsha",
                    "position": {"lat": 28.21, "lon": 112.97},
                    "access_hours": {"mon": [["07:00", "19:00"]], "sat": [["08:00", "12:00"]]},
                    "contact_name": "Foreman Li",
                    "contact_phone": "13900001111",
                }
            ]
        },
    )
    customer_id: int | None = Field(default=None, ge=1)
    customer: CustomerIn | None = None
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=400)
    region: str | None = Field(default=None, max_length=80)
    position: Position
    timezone: str | None = Field(default=None, max_length=64, description="Default: the policy's time zone")
    access_hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    contact_name: str | None = Field(default=None, max_length=200)
    contact_phone: str | None = Field(default=None, min_length=3, max_length=40, pattern=_PHONE)
    contact_email: str | None = Field(default=None, max_length=200)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)")
        return value

    @field_validator("access_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        problems = validate_access_hours(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @model_validator(mode="after")
    def _one_owner(self) -> SiteIn:
        if (self.customer_id is None) == (self.customer is None):
            raise ValueError("give customer_id (an existing customer) or customer {name, phone} (a new one)")
        return self


class EquipmentIn(BaseModel):
    """A machine registered on the call (intake question 1: model, serial number, manufacture date)."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {
                    "site_id": 12,
                    "equipment_type": "tower_crane",
                    "model": "ZJ5510",
                    "serial_number": "ZJ5510-050",
                    "manufacture_date": "2024-02-05",
                }
            ]
        },
    )
    site_id: int = Field(ge=1)
    equipment_type: EquipmentType
    model: str = Field(min_length=1, max_length=100)
    serial_number: str = Field(min_length=1, max_length=100)
    manufacture_date: date | None = None
    device_id: str | None = Field(default=None, max_length=100)


class TicketSiteIn(BaseModel):
    """Record where a ticket's machine stands (a ticket opened for an unknown serial), and optionally which
    registered machine it is; the ticket can then be planned."""

    model_config = ConfigDict(**_STRICT, json_schema_extra={"examples": [{"site_id": 12, "equipment_id": 40}]})
    site_id: int = Field(ge=1)
    equipment_id: int | None = Field(default=None, ge=1)


class CustomerOut(BaseModel):
    id: int
    name: str
    phone: str | None
    email: str | None
    site_count: int = 0


class SiteOut(BaseModel):
    id: int
    customer_id: int
    customer_name: str
    name: str
    address: str
    region: str | None
    lat: float
    lon: float
    timezone: str
    access_hours: dict[str, Any]
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None


class EquipmentOut(BaseModel):
    id: int
    equipment_type: EquipmentType
    model: str
    serial_number: str
    manufacture_date: date | None
    device_id: str | None
    site_id: int
    site_name: str
    site_address: str
    customer_id: int
    customer_name: str
    customer_phone: str | None
    open_ticket_id: int | None = Field(default=None, description="The open ticket a new complaint would join")


class RegistrySearch(BaseModel):
    """What intake finds for one search text: machines, customers and sites."""

    q: str
    equipment: list[EquipmentOut]
    customers: list[CustomerOut]
    sites: list[SiteOut]
