"""The condition vocabulary used by grade rules and alarm mappings in `policy.toml`.

A condition is a TOML table `when = {fact = test, ...}`; every test must hold (AND). A test is:

* a scalar (`true`, `"base_station"`, `3`)  -> the fact equals it;
* a list (`["elevator", "construction_hoist"]`)          -> the fact is one of them;
* a table `{gte = 1}`, `{lte = 0}` or both -> the fact is a number and ≥ / ≤ the bound.

A fact that is absent or `None` satisfies no test (so `{battery_pct = {lte = 0}}` does not match an
alarm without a `battery_pct` reading). An empty `when = {}` always holds. To express OR, write two
rules. Evaluation is pure and never raises on odd fact values: a test that cannot apply is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

Scalar = bool | int | float | str


class Bounds(BaseModel):
    """Numeric range test: `gte` ≤ fact ≤ `lte` (either bound optional, at least one given)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gte: float | None = None
    lte: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Bounds:
        if self.gte is None and self.lte is None:
            raise ValueError("needs gte and/or lte")
        return self


def _parse_test(raw: Any) -> Bounds | list[Scalar] | Scalar:
    """Turn one TOML test into its typed form, with one clear message when it is none of the three."""
    if isinstance(raw, Bounds):
        return raw
    if isinstance(raw, Mapping):
        try:
            return Bounds.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            detail = str(first["msg"]).removeprefix("Value error, ")
            raise ValueError(f"range test {where + ': ' if where else ''}{detail} (use gte/lte)") from None
    if isinstance(raw, list):
        if not raw or not all(isinstance(v, bool | int | float | str) for v in raw):
            raise ValueError("a list test needs one or more plain values")
        return list(raw)
    if isinstance(raw, bool | int | float | str):
        return raw
    raise ValueError(f"unsupported test {raw!r}: use a value, a list, or {{gte = n}} / {{lte = n}}")


Test = Annotated[Any, BeforeValidator(_parse_test)]
Condition = dict[str, Test]


def _same(fact: Any, expected: Scalar) -> bool:
    # bool is an int in Python; keep `true` from matching the number 1 and vice versa.
    if isinstance(fact, bool) or isinstance(expected, bool):
        return isinstance(fact, bool) and isinstance(expected, bool) and fact is expected
    return bool(fact == expected)


def check(test: Test, fact: Any) -> bool:
    """Whether one test holds for one fact value (see the module docstring for the vocabulary)."""
    if fact is None:
        return False
    if isinstance(test, Bounds):
        if isinstance(fact, bool) or not isinstance(fact, int | float):
            return False
        if test.gte is not None and fact < test.gte:
            return False
        return not (test.lte is not None and fact > test.lte)
    if isinstance(test, list):
        return any(_same(fact, option) for option in test)
    return _same(fact, test)


def condition_holds(when: Mapping[str, Test], facts: Mapping[str, Any]) -> bool:
    """Whether every test in `when` holds for `facts` (AND; empty condition always holds)."""
    return all(check(test, facts.get(name)) for name, test in when.items())
