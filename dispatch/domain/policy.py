"""The dispatch policy: every number and rule from `shared/domain.md`, loaded from `policy.toml`.

Policy is data. The packaged `dispatch/policy.toml` holds the defaults of the domain page; a deployment
points `ONSITE24_POLICY_FILE` at its own TOML file, which is laid over the defaults (tables merge key by
key, arrays such as `grading.rules` replace the default array whole). Everything is validated eagerly
into frozen pydantic models; a bad file raises `PolicyError` whose message names the offending key
(`grading.rules[3].when: unknown fact 'injuri'`). See `docs/policy.md` for every key.
"""

from __future__ import annotations

import string
import tomllib
import zoneinfo
from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import holidays
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dispatch.domain.conditions import Condition
from dispatch.domain.impact import IMPACT_FACTS

DEFAULT_POLICY_PATH = Path(__file__).resolve().parent.parent / "policy.toml"


class Grade(StrEnum):
    """Severity grade of a complaint (domain.md "Classification"): major ≫ serious ≫ general."""

    MAJOR = "major"
    SERIOUS = "serious"
    GENERAL = "general"

    @property
    def rank(self) -> int:
        """Higher is more severe: major 3, serious 2, general 1."""
        return _GRADE_RANK[self]


_GRADE_RANK = {Grade.MAJOR: 3, Grade.SERIOUS: 2, Grade.GENERAL: 1}


class Category(StrEnum):
    """Complaint category by content (domain.md "Classification")."""

    EQUIPMENT = "equipment"
    SERVICE_ATTITUDE = "service_attitude"
    SERVICE_QUALITY = "service_quality"
    EMERGENCY = "emergency"


class Severity(StrEnum):
    """Severity a device reports on an alarm (issue 7 payload)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


#: Every fact a grade rule may test; these are the fields of `grading.ComplaintFacts`.
GRADING_FACTS: tuple[str, ...] = (
    "category",
    "equipment_type",
    *IMPACT_FACTS,
    "alarm_severity",
    "alarm_code",
    "prior_general_complaints",
    "days_since_last_general_complaint",
    "flapping",
)

#: Policy values a reason text may also use as `{placeholder}`, besides the facts.
POLICY_PLACEHOLDERS: tuple[str, ...] = (
    "repeat_window_days",
    "flapping_max_transitions",
    "flapping_window_minutes",
)


class PolicyError(ValueError):
    """The policy file is unreadable or invalid; `errors` holds `(key, message)` pairs."""

    def __init__(self, source: str, errors: list[tuple[str, str]]) -> None:
        self.source = source
        self.errors = errors
        lines = "\n".join(f"  {key}: {msg}" for key, msg in errors)
        super().__init__(f"invalid policy ({source}):\n{lines}")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_facts(when: Condition, allowed: tuple[str, ...]) -> Condition:
    unknown = [name for name in when if name not in allowed]
    if unknown:
        raise ValueError(f"unknown fact {unknown[0]!r} (known: {', '.join(allowed)})")
    return when


# --- grading -----------------------------------------------------------------------------------------


def _check_placeholders(reason: str) -> str:
    allowed = set(GRADING_FACTS) | set(POLICY_PLACEHOLDERS)
    for _, field_name, _, _ in string.Formatter().parse(reason):
        if field_name is not None and field_name not in allowed:
            raise ValueError(f"unknown placeholder {{{field_name}}} in reason")
    return reason


class GradeRule(_Model):
    """One row of the grading table: if `when` holds for the facts, the complaint is at least `grade`.

    A rule with an empty `when` is a fallback: it applies only when no conditional rule matched.
    `reason` is shown to people and may use `{fact}` or policy placeholders (see POLICY_PLACEHOLDERS).
    """

    name: str = Field(min_length=1)
    grade: Grade
    reason: str = Field(min_length=1)
    # The reason in other languages, by language tag (zh-CN, en, ko); the shipped rules are translated in
    # the message catalogues instead (key grade.reason.<name>), so this is for a deployment's own rules.
    reasons: dict[Literal["zh-CN", "en", "ko"], str] = Field(default_factory=dict)
    when: Condition = Field(default_factory=dict)

    @field_validator("when")
    @classmethod
    def _known_facts(cls, when: Condition) -> Condition:
        return _check_facts(when, GRADING_FACTS)

    @field_validator("reason")
    @classmethod
    def _known_placeholders(cls, reason: str) -> str:
        return _check_placeholders(reason)

    @field_validator("reasons")
    @classmethod
    def _known_placeholders_in_translations(cls, reasons: dict[str, str]) -> dict[str, str]:
        for text in reasons.values():
            _check_placeholders(text)
        return reasons

    @property
    def is_fallback(self) -> bool:
        return not self.when


class GradingPolicy(_Model):
    """The ordered grading table (domain.md "Classification"; issue 4 "Grading")."""

    rules: tuple[GradeRule, ...]

    @field_validator("rules")
    @classmethod
    def _sane(cls, rules: tuple[GradeRule, ...]) -> tuple[GradeRule, ...]:
        names = [r.name for r in rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate rule name {dupes[0]!r}")
        if not any(r.is_fallback for r in rules):
            raise ValueError("needs a fallback rule with an empty 'when' so every complaint gets a grade")
        return rules


# --- promise and clocks ------------------------------------------------------------------------------


class PromisePolicy(_Model):
    """On-site promise per grade in hours, never above the hard cap (domain.md "The promise")."""

    hard_cap_hours: float = Field(gt=0)
    on_site_hours: dict[Grade, float]

    @field_validator("on_site_hours")
    @classmethod
    def _every_grade(cls, hours: dict[Grade, float]) -> dict[Grade, float]:
        missing = [g.value for g in Grade if g not in hours]
        if missing:
            raise ValueError(f"missing grade {missing[0]!r}")
        for grade, value in hours.items():
            if value <= 0:
                raise ValueError(f"{grade.value}: must be positive")
        return hours

    @model_validator(mode="after")
    def _under_cap(self) -> PromisePolicy:
        for grade, value in self.on_site_hours.items():
            if value > self.hard_cap_hours:
                raise ValueError(
                    f"on_site_hours.{grade.value} = {value:g} h exceeds hard_cap_hours = {self.hard_cap_hours:g} h"
                )
        return self


class ClockPolicy(_Model):
    """Handling clocks (domain.md "Handling clocks and escalation")."""

    department_notify_urgent_minutes: float = Field(gt=0)
    department_notify_ordinary_hours: float = Field(gt=0)
    cannot_meet_notice_hours: float = Field(gt=0)
    report_back_hours: float = Field(gt=0)
    first_responder_hours: float = Field(gt=0)
    follow_up_verification_hours: float = Field(gt=0)
    return_visit_working_days: int = Field(ge=1)


class CalendarPolicy(_Model):
    """Working-day calendar of the region, for the return visit (domain.md "Handling clocks").

    `working_weekdays` are ISO weekdays (Monday 1 … Sunday 7). Public holidays and, for China, the
    official make-up working weekends come from the `holidays` library; `extra_holidays` and
    `extra_working_days` override it for a deployment (company shutdowns, a newly announced swap).
    """

    country: str = Field(min_length=2)
    subdivision: str | None = None
    timezone: str
    working_weekdays: tuple[int, ...]
    extra_holidays: tuple[date, ...] = ()
    extra_working_days: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, tz: str) -> str:
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {tz!r}") from exc
        return tz

    @field_validator("working_weekdays")
    @classmethod
    def _weekdays(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if not days or any(d < 1 or d > 7 for d in days):
            raise ValueError("must list ISO weekdays 1 (Monday) … 7 (Sunday)")
        return days

    @field_validator("country")
    @classmethod
    def _known_country(cls, country: str) -> str:
        try:
            holidays.country_holidays(country)
        except NotImplementedError as exc:
            raise ValueError(f"country {country!r} not supported by the holidays library") from exc
        return country

    @field_validator("subdivision")
    @classmethod
    def _known_subdivision(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        country = info.data.get("country")
        if subdivision is None or country is None:
            return subdivision
        try:
            holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError as exc:
            raise ValueError(f"subdivision {subdivision!r} of {country!r} not supported: {exc}") from exc
        return subdivision

    @model_validator(mode="after")
    def _no_overlap(self) -> CalendarPolicy:
        both = set(self.extra_holidays) & set(self.extra_working_days)
        if both:
            raise ValueError(f"{min(both)} is in both extra_holidays and extra_working_days")
        return self


# --- escalation ----------------------------------------------------------------------------------------


class LadderStepPolicy(_Model):
    """One step of an escalation ladder, `after_minutes` from the ladder start (the report time).

    `kind = "notify"` tells `audience` and stops once the ticket is acknowledged; `kind = "report_due"`
    is a written report that falls due even when acknowledged (until the matter is resolved).
    """

    key: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    after_minutes: float = Field(ge=0)
    audience: str = Field(min_length=1)
    kind: Literal["notify", "report_due"]
    message: str = Field(min_length=1)


class PreBreachPolicy(_Model):
    """Escalate a ticket whose plan ETA is later than its on-site deadline minus the margin."""

    margin_minutes: float = Field(ge=0)
    audience: str = Field(min_length=1)
    message: str = Field(min_length=1)


class OverdueClockPolicy(_Model):
    """Who is told when a handling clock that a person completes (report back, …) falls due undone."""

    audience: str = Field(min_length=1)
    message: str = Field(min_length=1)


class EscalationPolicy(_Model):
    """Escalation ladders per grade, the pre-breach rule, and the overdue-clock rules (domain.md "Handling clocks
    and escalation")."""

    ladders: dict[Grade, tuple[LadderStepPolicy, ...]]
    pre_breach: PreBreachPolicy
    overdue_clocks: dict[str, OverdueClockPolicy] = Field(default_factory=dict)

    @field_validator("ladders")
    @classmethod
    def _every_grade(
        cls, ladders: dict[Grade, tuple[LadderStepPolicy, ...]]
    ) -> dict[Grade, tuple[LadderStepPolicy, ...]]:
        missing = [g.value for g in Grade if g not in ladders]
        if missing:
            raise ValueError(f"missing ladder for grade {missing[0]!r}")
        for grade, steps in ladders.items():
            keys = [s.key for s in steps]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                raise ValueError(f"{grade.value}: duplicate step key {dupes[0]!r}")
        return ladders


# --- field work, devices, routing ----------------------------------------------------------------------


class GeofencePolicy(_Model):
    """Check-in fence around the site (issue 6): arrivals farther than this are flagged."""

    radius_m: float = Field(gt=0)


class SyncPolicy(_Model):
    """Plausibility of device times in an offline sync batch (issue 6)."""

    future_tolerance_seconds: float = Field(ge=0)
    before_en_route_tolerance_seconds: float = Field(ge=0)
    before_history_tolerance_seconds: float = Field(default=5, ge=0)
    max_offline_hours: float = Field(gt=0)
    max_travel_speed_kmh: float = Field(gt=0)


class RepeatPolicy(_Model):
    """How far back a general complaint on the same equipment counts as a repeat (domain.md)."""

    window_days: int = Field(ge=1)


class FlappingPolicy(_Model):
    """An alarm that is raised/cleared more than `max_transitions` times within `window_minutes` flaps."""

    max_transitions: int = Field(ge=1)
    window_minutes: float = Field(gt=0)


class OfflinePolicy(_Model):
    """Devices that go offline (last will, or no heartbeat) open an "equipment unreachable" ticket."""

    heartbeat_timeout_seconds: float = Field(gt=0)
    open_ticket_for: tuple[str, ...]
    alarm_code: str = Field(min_length=1)
    alarm_severity: Severity


class AlarmMappingRule(_Model):
    """One row of the alarm mapping table (issue 7): which alarms it matches and what they mean.

    Matches when `equipment_type` is the device's type (or `"*"`), `codes` contains the code (empty =
    any), `severities` contains the severity (empty = any) and the `data` condition holds for the
    alarm's readings. First matching row wins. `required_skills` may use `{equipment_type}`.
    """

    name: str = Field(min_length=1)
    equipment_type: str = "*"
    codes: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()
    data: Condition = Field(default_factory=dict)
    category: Category
    impact: dict[str, bool] = Field(default_factory=dict)
    required_skills: tuple[str, ...] = ()

    @field_validator("impact")
    @classmethod
    def _known_impact(cls, impact: dict[str, bool]) -> dict[str, bool]:
        _check_facts(impact, IMPACT_FACTS)
        return impact

    @property
    def is_catch_all_for(self) -> tuple[Severity, ...]:
        """The severities this row catches for any device (empty unless it is a generic fallback)."""
        if self.equipment_type != "*" or self.codes or self.data:
            return ()
        return self.severities or tuple(Severity)


class AlarmPolicy(_Model):
    """Device alarms → tickets (issue 7)."""

    auto_resolve_on_clear: bool
    flapping: FlappingPolicy
    offline: OfflinePolicy
    mappings: tuple[AlarmMappingRule, ...]

    @field_validator("mappings")
    @classmethod
    def _complete(cls, rows: tuple[AlarmMappingRule, ...]) -> tuple[AlarmMappingRule, ...]:
        names = [r.name for r in rows]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate mapping name {dupes[0]!r}")
        caught = {s for row in rows for s in row.is_catch_all_for}
        missing = [s.value for s in Severity if s not in caught]
        if missing:
            raise ValueError(f"no generic fallback (equipment_type '*', no codes/data) for severity {missing[0]!r}")
        return rows


#: The routing package's cost per second a re-plan delays a visit beyond the tolerance (SolveParams default).
SHIFT_COST_PER_SECOND = 10


class RoutingPolicy(_Model):
    """Numbers for the optimiser (issue 5), in the routing package's cost units: one second of travel
    costs 10 units. Being late costs a fixed fee plus a small slope per second (count late visits first),
    dropping a visit costs more than being late, and major ≫ serious ≫ general throughout."""

    time_limit_seconds: float = Field(gt=0)
    draft_time_limit_seconds: float = Field(gt=0)
    speed_kmh: float = Field(gt=0)
    road_factor: float = Field(ge=1)
    horizon_hours: float = Field(gt=0)
    position_max_age_minutes: float = Field(gt=0)
    shift_tolerance_minutes: float = Field(ge=0)
    move_cost: int = Field(ge=0)
    # The live re-plan holds at most this many pending visits (the most urgent; the rest queue) and no more
    # than the shifts can hold, counting a visit as its service time plus this much travel.
    live_max_visits: int = Field(default=1500, ge=1)
    capacity_travel_minutes: float = Field(default=20, ge=0)
    end_at: Literal["home", "anywhere"] = "home"
    vehicle_fixed_cost: int = Field(default=0, ge=0)
    regroup_cost: int = Field(default=18000, ge=0)
    load_unit: str = Field(default="crate", min_length=1)
    late_fee: dict[Grade, int]
    late_cost_per_second: dict[Grade, int]
    earliness_cost_per_second: dict[Grade, int] = Field(
        default_factory=lambda: {Grade.MAJOR: 100, Grade.SERIOUS: 3, Grade.GENERAL: 1}
    )
    drop_penalty: dict[Grade, int]
    service_minutes: dict[str, float]

    @field_validator("late_fee", "late_cost_per_second", "drop_penalty", "earliness_cost_per_second")
    @classmethod
    def _ordered(cls, fees: dict[Grade, int]) -> dict[Grade, int]:
        missing = [g.value for g in Grade if g not in fees]
        if missing:
            raise ValueError(f"missing grade {missing[0]!r}")
        if not fees[Grade.MAJOR] >= fees[Grade.SERIOUS] >= fees[Grade.GENERAL] >= 0:
            raise ValueError("values must be ordered major ≥ serious ≥ general ≥ 0")
        if fees[Grade.MAJOR] == fees[Grade.GENERAL] != 0 and fees[Grade.MAJOR] > 100:
            raise ValueError("major must weigh more than general")
        return fees

    @model_validator(mode="after")
    def _drop_worse_than_late(self) -> RoutingPolicy:
        for grade in Grade:
            if self.drop_penalty[grade] <= self.late_fee[grade]:
                raise ValueError(f"drop_penalty.{grade.value} must exceed late_fee.{grade.value}")
            if self.late_cost_per_second[grade] < self.earliness_cost_per_second[grade]:
                raise ValueError(
                    f"late_cost_per_second.{grade.value} must be >= earliness_cost_per_second.{grade.value}"
                )
        if self.earliness_cost_per_second[Grade.MAJOR] < SHIFT_COST_PER_SECOND:
            raise ValueError(
                f"earliness_cost_per_second.major must be >= {SHIFT_COST_PER_SECOND} "
                "(the re-plan's cost per second of delaying a visit): stability never outweighs a major"
            )
        return self


class RoadsPolicy(_Model):
    """Road networks (issue 20): which OpenStreetMap classes are routable at what speed, and how far a location
    may lie from the roads."""

    snap_report_metres: float = Field(gt=0)
    coverage_metres: float = Field(gt=0)
    matrix_cache_mb: float = Field(gt=0)
    speeds_kmh: dict[str, float]

    @field_validator("speeds_kmh")
    @classmethod
    def _speeds(cls, speeds: dict[str, float]) -> dict[str, float]:
        if not speeds:
            raise ValueError("at least one road class must be routable")
        bad = sorted(k for k, v in speeds.items() if not v > 0)
        if bad:
            raise ValueError(f"speed of {bad[0]!r} must be > 0 km/h")
        return speeds

    @model_validator(mode="after")
    def _coverage(self) -> RoadsPolicy:
        if self.coverage_metres < self.snap_report_metres:
            raise ValueError("coverage_metres must be at least snap_report_metres")
        return self


class Policy(_Model):
    """The whole policy; build with `load_policy()` or `Policy.model_validate(mapping)`."""

    version: Literal[1]
    grading: GradingPolicy
    promise: PromisePolicy
    clocks: ClockPolicy
    calendar: CalendarPolicy
    escalation: EscalationPolicy
    geofence: GeofencePolicy
    sync: SyncPolicy
    repeat: RepeatPolicy
    alarms: AlarmPolicy
    routing: RoutingPolicy
    roads: RoadsPolicy

    def placeholders(self) -> dict[str, Any]:
        """Policy values that reason texts may interpolate (POLICY_PLACEHOLDERS)."""
        return {
            "repeat_window_days": self.repeat.window_days,
            "flapping_max_transitions": self.alarms.flapping.max_transitions,
            "flapping_window_minutes": self.alarms.flapping.window_minutes,
        }


# --- loading ---------------------------------------------------------------------------------------


def _key(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(root)"


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise PolicyError(str(path), [("(file)", f"cannot read: {exc.strerror or exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(str(path), [("(file)", f"not valid TOML: {exc}")]) from exc


def validate_policy(data: Mapping[str, Any], source: str = "<mapping>") -> Policy:
    """Validate a policy mapping, turning pydantic errors into a `PolicyError` that names each key."""
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            msg = str(err["msg"]).removeprefix("Value error, ")
            errors.append((_key(loc), msg))
        raise PolicyError(source, errors) from None


def default_policy_data() -> dict[str, Any]:
    """The packaged defaults as a plain mapping (a fresh copy; handy for tests and overrides)."""
    return _read(DEFAULT_POLICY_PATH)


def load_policy(path: Path | None = None) -> Policy:
    """Load the packaged defaults, overlaid with the TOML file at `path` when given.

    Tables merge key by key; arrays (grade rules, ladder steps, mappings, lists of days) replace the
    default whole. The app passes `ONSITE24_POLICY_FILE` here.
    """
    data = default_policy_data()
    source = str(DEFAULT_POLICY_PATH)
    if path is not None:
        data = _merge(data, _read(path))
        source = str(path)
    return validate_policy(data, source)
