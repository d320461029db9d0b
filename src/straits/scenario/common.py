"""Building blocks shared by the corridor schema and the security schema."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """Strict base: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _not_all_zero(weights: list[float]) -> list[float]:
    if sum(weights) <= 0:
        raise ValueError("profile weights must not all be zero")
    return weights


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
HourOfDayWeights = Annotated[
    list[NonNegative], Field(min_length=24, max_length=24), AfterValidator(_not_all_zero)
]
"""Relative weights for hours 00–23."""
DayOfWeekWeights = Annotated[
    list[NonNegative], Field(min_length=7, max_length=7), AfterValidator(_not_all_zero)
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
