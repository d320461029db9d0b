"""Building blocks shared by the corridor schema and the security schema.

Both schemas import from here and never from each other, so there is no cycle.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import ErrorDetails

from straits.scenario.limits import MAX_TEXT_CHARACTERS, MAX_WEIGHT
from straits.scenario.units import parse_minutes


class StrictModel(BaseModel):
    """Strict base: unknown fields are errors, numbers are finite, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _not_all_zero(weights: list[float]) -> list[float]:
    if sum(weights) <= 0:
        raise ValueError("profile weights must not all be zero")
    return weights


class ScenarioReferenceError(ValueError):
    """A value that is well-formed alone but wrong in its scenario (a name that
    names nothing, a date outside the horizon); ``loc`` says where, from the
    scenario's top, or below the model that raised it when ``relative``."""

    def __init__(self, loc: tuple[str | int, ...], message: str, relative: bool = False
                 ) -> None:
        super().__init__(message)
        self.loc = loc
        self.relative = relative


def error_location(error: ErrorDetails) -> tuple[tuple[Any, ...], str]:
    """Field path and message of one pydantic error, refined by a
    :class:`ScenarioReferenceError` behind it."""
    loc = tuple(p for p in error["loc"] if not str(p).startswith("function-"))
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ScenarioReferenceError):
        return ((*loc, *cause.loc) if cause.relative else cause.loc), str(cause)
    return loc, error["msg"].removeprefix("Value error, ")


Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=60)]
"""A name other fields refer to: lower case, digits, ``_`` and ``-``."""


def parse_start(value: object) -> object:
    """Keep ``+36h`` offsets as minutes; let pydantic read calendar datetimes."""
    if isinstance(value, str) and value.strip().startswith("+"):
        return timedelta(minutes=parse_minutes(value.strip()[1:]))
    return value


Start = Annotated[datetime | timedelta, BeforeValidator(parse_start)]
"""A calendar time, or an offset from the scenario's start such as ``+36h``."""

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]
"""A relative weight: finite, from 0 to MAX_WEIGHT."""
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARACTERS)]
HourOfDayWeights = Annotated[
    list[Weight], Field(min_length=24, max_length=24), AfterValidator(_not_all_zero)
]
"""Relative weights for hours 00–23."""
DayOfWeekWeights = Annotated[
    list[Weight], Field(min_length=7, max_length=7), AfterValidator(_not_all_zero)
]
"""Relative weights for Monday … Sunday."""


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` merged into ``base`` key by key; lists and scalars replace whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
