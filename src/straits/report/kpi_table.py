"""The KPI table: the summary flattened into labelled rows, each knowing whether
lower or higher is better, so a comparison can say which way a change went.

An ensemble shows the mean over replications and the range (min–max).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from straits.report.sources import RunData
from straits.report.text import distance_text, duration_text

Better = str | None  # "lower", "higher" or None (neither)
SIGNIFICANT_CHANGE = 0.05  # a change of 5% or more is highlighted in a comparison


@dataclass(frozen=True)
class KpiRow:
    section: str
    label: str
    unit: str
    better: Better
    values: tuple[float, ...]  # one per replication

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def low(self) -> float:
        return float(np.min(self.values))

    @property
    def high(self) -> float:
        return float(np.max(self.values))


def kpi_rows(run: RunData) -> list[KpiRow]:
    """Rows for every KPI of the run, values across its replications."""
    flat = [_flatten(rep.summary) for rep in run.replications]
    rows = []
    for key in flat[0]:
        section, label, unit, better = _describe(key)
        values = tuple(f[key] for f in flat if key in f)
        if len(values) == len(flat):
            rows.append(KpiRow(section, label, unit, better, values))
    return rows


SECURITY_KPIS = ("population", "attempts", "outcomes", "harm", "tunnel", "people_reaching_uk",
                 "returned", "detections_by_layer", "cost_of_measures_gbp")
_DIRECTION_KPIS: dict[tuple[str, ...], tuple[str, str, Better]] = {
    ("arrived",): ("lorries arrived", "lorries", None),
    ("crossed",): ("lorries crossed", "lorries", "higher"),
    ("in_system_at_end",): ("still in the corridor at the end", "lorries", "lower"),
    ("delay_minutes", "mean"): ("delay per lorry, mean", "min", "lower"),
    ("delay_minutes", "p50"): ("delay per lorry, median", "min", "lower"),
    ("delay_minutes", "p95"): ("delay per lorry, 95th percentile", "min", "lower"),
    ("delay_minutes", "max"): ("delay per lorry, longest", "min", "lower"),
    ("delay_minutes", "censored_lorries"): ("delays censored at the horizon (still waiting)",
                                            "lorries", "lower"),
    ("queue_peak_lorries",): ("peak queue outside the terminals", "lorries", "lower"),
    ("queue_peak_km",): ("peak queue length", "km", "lower"),
    ("lorry_hours_delayed",): ("lorry-hours of delay", "h", "lower"),
    ("crossed_per_day", "mean"): ("crossed per day, mean", "lorries/day", "higher"),
    ("crossed_per_day", "max"): ("crossed per day, busiest day", "lorries/day", "higher"),
}
_ROUTE_KPIS: dict[str, tuple[str, str, Better]] = {
    "crossed": ("lorries crossed", "lorries", "higher"),
    "crossed_per_day_max": ("busiest day", "lorries/day", "higher"),
    "capacity_lorries": ("capacity of its departures", "lorries", "higher"),
    "load_factor": ("load factor", "share", None),
}
_BEHAVIOUR_KPIS: dict[tuple[str, ...], tuple[str, str, Better]] = {
    ("planned",): ("loads planned", "lorries", None),
    ("postponed",): ("loads held back", "lorries", "lower"),
    ("postponed_pending",): ("still held back at the end", "lorries", "lower"),
    ("lorry_hours_postponed",): ("lorry-hours held back", "h", "lower"),
    ("diverted",): ("diverted out of the Short Straits", "lorries", "lower"),
    ("switched_route",): ("switched route", "lorries", None),
    ("rejoined",): ("turned back, then rejoined", "lorries", None),
    ("delay_with_postponement_minutes", "mean"): ("delay with postponement, mean", "min",
                                                  "lower"),
    ("delay_with_postponement_minutes", "p95"): ("delay with postponement, 95th percentile",
                                                 "min", "lower"),
    ("diversion_cost_gbp",): ("cost of diversions", "£", "lower"),
}
_CLASS_KPIS: dict[tuple[str, ...], tuple[str, str, Better]] = {
    ("arrived",): ("arrived", "vehicles", None),
    ("crossed",): ("crossed", "vehicles", "higher"),
    ("people",): ("people carried", "people", None),
    ("delay_minutes", "mean"): ("delay, mean", "min", "lower"),
    ("delay_minutes", "p95"): ("delay, 95th percentile", "min", "lower"),
    ("delay_minutes", "max"): ("delay, longest", "min", "lower"),
    ("passenger_hours_delayed",): ("passenger-hours of delay", "h", "lower"),
}
_HOLDING_KPIS: dict[str, tuple[str, str, Better]] = {
    "peak_lorries": ("peak queue", "lorries", "lower"),
    "peak_km": ("peak queue length", "km", "lower"),
    "hours_active": ("hours in use", "h", "lower"),
}


def _flatten(summary: dict[str, Any]) -> dict[tuple, float]:
    """Numeric KPIs keyed by their path in the summary."""
    flat: dict[tuple, Any] = {
        ("cost_gbp",): summary.get("cost_gbp"),
        ("diversion_cost_gbp",): summary.get("diversion_cost_gbp"),
        ("stack_or_brock", "hours_active"): _at(summary, ("stack_or_brock", "hours_active")),
        ("stack_or_brock", "days_active"): _at(summary, ("stack_or_brock", "days_active")),
    }
    for direction, d in summary.get("directions", {}).items():
        for path in _DIRECTION_KPIS:
            flat[("directions", direction, *path)] = _at(d, path)
        if "behaviour" in d:
            for path in _BEHAVIOUR_KPIS:
                flat[("behaviour", direction, *path)] = _at(d["behaviour"], path)
        for route, r in d.get("routes", {}).items():
            for key in _ROUTE_KPIS:
                flat[("routes", direction, route, key)] = r.get(key)
    for direction, by_class in (summary.get("classes") or {}).items():
        for name, c in by_class.items():
            for path in _CLASS_KPIS:
                flat[("classes", direction, name, *path)] = _at(c, path)
            for terminal, km in (c.get("queue_peak_km") or {}).items():
                flat[("classes", direction, name, "queue_peak_km", terminal)] = km
    for area, h in summary.get("holding", {}).items():
        for key in _HOLDING_KPIS:
            flat[("holding", area, h.get("direction", "?"), key)] = h.get(key)
    security = summary.get("security") or {}
    for key in SECURITY_KPIS:
        for path, value in _numbers(security.get(key), (key,)):
            if "by_target" not in path:
                flat[("security", *path)] = value
    return {k: float(v) for k, v in flat.items() if _is_number(v)}


def _at(node: Any, path: tuple[str, ...]) -> Any:
    """The value at ``path`` in nested dicts, or None (older runs lack newer KPIs)."""
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _numbers(node: Any, path: tuple[str, ...]) -> list[tuple[tuple[str, ...], float]]:
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _numbers(value, (*path, key))]
    if _is_number(node):
        return [(path, float(node))]
    return []


def _describe(key: tuple) -> tuple[str, str, str, Better]:
    head = key[0]
    if head == "cost_gbp":
        return "corridor", "cost of delay to hauliers", "£", "lower"
    if head == "diversion_cost_gbp":
        return "corridor", "cost of diversions to hauliers", "£", "lower"
    if head == "behaviour":
        label, unit, better = _BEHAVIOUR_KPIS[key[2:]]
        return f"hauliers ({key[1]})", label, unit, better
    if head == "stack_or_brock":
        unit = "h" if key[1] == "hours_active" else "days"
        return "corridor", f"Operation Stack/Brock in use ({unit})", unit, "lower"
    if head == "directions":
        label, unit, better = _DIRECTION_KPIS[key[2:]]
        return key[1], label, unit, better
    if head == "routes":
        label, unit, better = _ROUTE_KPIS[key[3]]
        return f"{key[1]} routes", f"{key[2]}: {label}", unit, better
    if head == "classes":
        if key[3] == "queue_peak_km":
            return (_class_section(key), f"peak queue on the road to {key[4]}", "km",
                    "lower")
        label, unit, better = _CLASS_KPIS[key[3:]]
        return _class_section(key), label, unit, better
    if head == "holding":
        label, unit, better = _HOLDING_KPIS[key[3]]
        return f"holding areas ({key[2]})", f"{key[1]}: {label}", unit, better
    label = " · ".join(str(p).replace("_", " ") for p in key[1:])
    better = "lower" if any(w in label for w in ("harm", "death", "died", "injur")) else None
    return "security", label, "", better


_CLASS_NAMES = {"hgv": "lorries among all classes", "car": "cars", "coach": "coaches"}


def _class_section(key: tuple) -> str:
    return f"{_CLASS_NAMES.get(key[2], key[2])} ({key[1]})"


SELF_DESCRIBED = ("min", "km")  # values that print their own unit (h:mm, km with miles)


def format_value(value: float, unit: str) -> str:
    """Thousands separators; decimals only where they mean something; delays over two
    hours as h:mm and lengths in km with miles (as on the command line)."""
    if unit == "min":
        return duration_text(value)
    if unit == "km":
        return distance_text(value)
    if unit == "£":
        return f"£{value:,.0f}"
    if unit == "share":
        return f"{value:.3f}"
    if abs(value) >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def unit_label(unit: str) -> str:
    """The unit column's text: empty where the value already says its unit."""
    return "" if unit in SELF_DESCRIBED else unit


def change_class(row_a: KpiRow, row_b: KpiRow) -> str:
    """'better', 'worse', 'changed' or '' for B relative to A."""
    a, b = row_a.mean, row_b.mean
    scale = max(abs(a), abs(b))
    if scale == 0 or abs(b - a) / scale < SIGNIFICANT_CHANGE:
        return ""
    if row_a.better is None:
        return "changed"
    went_down = b < a
    return "better" if went_down == (row_a.better == "lower") else "worse"
