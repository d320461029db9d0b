"""How numbers read, in the terminal and in reports: one place for durations, distances
and counts.

The command line (through :mod:`straits.cli.format`), the HTML reports and the
dashboard format through here, so a delay or a queue reads the same everywhere:
delays over two hours as hours:minutes, queue lengths in km with miles beside them
(British sources speak in miles).
"""

from __future__ import annotations

import math

KM_PER_MILE = 1.609344


def duration_text(minutes: float | None) -> str:
    """Minutes under two hours as ``47.3 min``; longer as ``h:mm`` (``28:45 h``)."""
    if minutes is None or not math.isfinite(minutes):
        return "—"
    if abs(minutes) < 120:
        return f"{minutes:.1f} min"
    whole = round(minutes)
    sign = "-" if whole < 0 else ""
    hours, rest = divmod(abs(whole), 60)
    return f"{sign}{hours:,}:{rest:02d} h"


def distance_text(km: float | None) -> str:
    """A queue length in km with miles beside it, as British sources speak in miles."""
    if km is None or not math.isfinite(km):
        return "—"
    return f"{km:,.1f} km ({km / KM_PER_MILE:,.1f} mi)"


def count_text(value: float | None) -> str:
    """A count with thousands separators; fractional means keep one decimal."""
    if value is None or not math.isfinite(value):
        return "—"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


UNIT_NAMES = {"both": "both", "km": "km", "metric": "km", "miles": "miles", "imperial": "miles"}


def queue_length_text(km: float | None, units: str = "both") -> str:
    """A queue length in the units asked for: km with miles (default), km (``metric``)
    or miles (``imperial``) alone."""
    units = UNIT_NAMES.get(units, units)
    if units == "both" or km is None or not math.isfinite(km):
        return distance_text(km)
    if units == "miles":
        return f"{km / KM_PER_MILE:,.1f} mi"
    return f"{km:,.1f} km"
