"""Scenario clock: minutes from a run's start → wall-clock time (one rule everywhere).

Simulated time is minutes from ``Scenario.start``; every output that shows a
date or time (KPIs, tables, charts, bands) converts through here, so all of
them agree to the second.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

import numpy as np


def at(start: datetime, minutes: float) -> datetime:
    """The wall-clock time ``minutes`` after ``start``."""
    return start + timedelta(minutes=float(minutes))


def stamp(start: datetime, minutes: float) -> str:
    """``at`` as ISO text to the minute (``2015-06-23T14:30``)."""
    return at(start, minutes).isoformat(timespec="minutes")


def clock_times(start: datetime, minutes: np.ndarray,
                unit: Literal["s", "m"] = "s") -> np.ndarray:
    """``datetime64[unit]`` times for a minutes-from-start array (truncated to ``unit``)."""
    base = np.datetime64(start.replace(tzinfo=None), unit)
    steps = np.asarray(minutes, dtype=np.float64) * {"s": 60, "m": 1}[unit]
    return base + steps.astype(f"timedelta64[{unit}]")
