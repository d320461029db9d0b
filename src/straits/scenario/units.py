"""Units at the edge: durations written with their unit, held in minutes.

Scenario files say ``90s``, ``45min``, ``2h`` or ``3d`` so a reader never has
to guess; inside straits every time is float minutes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from straits.scenario.limits import MAX_DURATION_MINUTES

_MINUTES_PER_UNIT = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "min": 1.0,
    "m": 1.0,
    "h": 60.0,
    "d": 1440.0,
}
_DURATION = re.compile(r"^\s*([+]?\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)\s*$")


def parse_minutes(value: Any) -> float:
    """Minutes in a duration such as ``'90s'``, ``'2h'``, ``'1.5d'``."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(
            f"expected a duration with a unit such as '90s', '45min', '2h' or '3d', got {value!r}"
        )
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(
            f"expected a duration such as '90s', '45min', '2h' or '3d' "
            f"(units s, min, h, d), got {value!r}"
        )
    minutes = float(match.group(1)) * _MINUTES_PER_UNIT[match.group(2)]
    if minutes > MAX_DURATION_MINUTES:
        raise ValueError(f"{value!r} is longer than {format_minutes(MAX_DURATION_MINUTES)}, "
                         "the longest time straits simulates")
    return minutes


def _plain(number: float) -> str:
    """A decimal without exponent or trailing zeros (the parser reads no 1e6)."""
    return f"{number:.6f}".rstrip("0").rstrip(".")


def format_minutes(minutes: float) -> str:
    """The shortest exact unit spelling of a duration, for writing scenarios back."""
    for unit, factor in (("d", 1440.0), ("h", 60.0), ("min", 1.0)):
        if minutes % factor == 0 and minutes >= factor:
            return f"{_plain(minutes / factor)}{unit}"
    return f"{_plain(minutes * 60)}s"


Minutes = Annotated[
    float,
    BeforeValidator(parse_minutes),
    PlainSerializer(format_minutes, return_type=str),
]
"""A duration read from a unit string and held as float minutes."""


def minutes_between(low: float, high: float, above_low: bool = False) -> AfterValidator:
    """Keep a duration in ``[low, high]`` (``(low, high]`` if ``above_low``); the refusal
    spells both bounds in units, as the user writes them. Use as
    ``Annotated[Minutes, minutes_between(...)]``."""
    bound = "more than" if above_low else "at least"

    def check(minutes: float) -> float:
        if minutes < low or (above_low and minutes == low) or minutes > high:
            raise ValueError(f"must be {bound} {format_minutes(low)} and at most "
                             f"{format_minutes(high)}")
        return minutes

    return AfterValidator(check)


PositiveMinutes = Annotated[Minutes, minutes_between(0.0, MAX_DURATION_MINUTES, above_low=True)]
NonNegativeMinutes = Annotated[Minutes, minutes_between(0.0, MAX_DURATION_MINUTES)]
