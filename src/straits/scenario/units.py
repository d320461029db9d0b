"""Units at the edge: durations written with their unit, held in minutes.

Scenario files say ``90s``, ``45min``, ``2h`` or ``3d`` so a reader never has
to guess; inside straits every time is float minutes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, PlainSerializer

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
    return float(match.group(1)) * _MINUTES_PER_UNIT[match.group(2)]


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
PositiveMinutes = Annotated[Minutes, Field(gt=0)]
NonNegativeMinutes = Annotated[Minutes, Field(ge=0)]
