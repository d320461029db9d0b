"""Parameter studies: dotted-path overrides of a scenario, on a grid or a Latin hypercube.

A path walks the scenario as written in YAML: mapping keys, then list items by
their ``name`` or their index (``terminals.dover.stages.check_in.booths``,
``terminals.dover.stages.2.booths``, ``demand.southbound.hour_of_day.17``).
Every overridden scenario is validated like a scenario file; a bad path or
value is a :class:`ScenarioError` naming the path and the valid choices.
"""

from __future__ import annotations

import copy
import itertools
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import yaml
from scipy.stats import qmc

from straits.experiments.ensemble import Experiment, make_point
from straits.experiments.statistics import KpiStatistics
from straits.scenario import Scenario, ScenarioError, scenario_from_mapping, scenario_hash
from straits.scenario.units import parse_minutes

_SHOWN_CHOICES = 30
MAX_POINTS = 10_000  # a bigger design is almost surely a typo; split it into several sweeps


@dataclass(frozen=True)
class Values:
    """``PATH=v1,v2,...``: the values a grid takes along one path."""

    path: str
    values: list[Any]


@dataclass(frozen=True)
class Range:
    """``PATH=lo:hi``: a numeric (or duration) interval to sample."""

    path: str
    low: float
    high: float
    integer: bool = False
    duration: bool = False

    def value(self, unit: float) -> Any:
        """The scenario value at ``unit`` in [0, 1] of the range."""
        if self.integer:  # equal-width cells, one per whole number from low to high
            cell = math.floor(self.low + unit * (self.high - self.low + 1))
            return int(min(cell, self.high))
        x = float(self.low + unit * (self.high - self.low))
        if self.duration:  # whole milliseconds, written in seconds
            return f"{x * 60:.3f}".rstrip("0").rstrip(".") + "s"
        return x


def split_assignment(text: str, flag: str) -> tuple[str, str]:
    """``PATH=VALUE`` → (path, value), or an error naming the flag."""
    path, sep, value = text.partition("=")
    if not sep or not path.strip() or not value.strip():
        raise ScenarioError("", f"{flag} {text!r}: write PATH=VALUE, e.g. "
                                "terminals.dover.stages.check_in.booths=6,8,10")
    return path.strip(), value.strip()


def parse_scalar(text: str) -> Any:
    """A value as YAML reads it: ``300`` → int, ``0.5`` → float, ``2h`` → text."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, int | float | str | bool) else text


def parse_values(base: dict[str, Any], text: str, flag: str = "--vary") -> Values:
    """``PATH=v1,v2,...`` checked against the scenario mapping ``base``."""
    path, raw = split_assignment(text, flag)
    current = read_path(base, path)
    if ":" in raw and not _looks_like_time(current):
        raise ScenarioError(path, f"{flag}: a grid takes a list of values "
                                  f"(e.g. {path}=1,2,3), not a range; use --design lhs for ranges")
    values = [parse_scalar(v.strip()) for v in raw.split(",") if v.strip()]
    if not values:
        raise ScenarioError(path, f"{flag} {text!r}: no values; write {path}=v1,v2,...")
    return Values(path, values)


def parse_range(base: dict[str, Any], text: str, flag: str) -> Range:
    """``PATH=lo:hi`` for a numeric or duration field of ``base``."""
    path, raw = split_assignment(text, flag)
    current = read_path(base, path)
    low_text, sep, high_text = raw.partition(":")
    hint = (f"{flag} {path}={raw}: give a range lo:hi of numbers or durations, "
            f"e.g. {path}=4:12 or {path}=90s:3min")
    if not sep:
        raise ScenarioError(path, hint)
    low, high = parse_scalar(low_text), parse_scalar(high_text)
    if _is_number(low) and _is_number(high):
        bounds, integer, duration = (float(low), float(high)), isinstance(current, int), False
        integer = integer and not isinstance(current, bool)
    elif isinstance(low, str) and isinstance(high, str):
        try:
            bounds = (parse_minutes(low), parse_minutes(high))
        except ValueError:
            raise ScenarioError(path, hint) from None
        integer, duration = False, True
    else:
        raise ScenarioError(path, hint)
    if not bounds[0] < bounds[1]:
        raise ScenarioError(path, f"{flag} {path}={raw}: the low end must be below the high end")
    return Range(path, bounds[0], bounds[1], integer, duration)


def read_path(data: dict[str, Any], path: str) -> Any:
    """The value at ``path``; an error naming the valid choices if it is not there."""
    container, key = _locate(data, path)
    value = container[key]
    if isinstance(value, dict):
        raise ScenarioError(path, f"is a section, not a value; choose one of its fields: "
                                  f"{_choices(list(value))}")
    if isinstance(value, list) and value and isinstance(value[0], dict):
        raise ScenarioError(path, f"is a list; choose an item by name or index: "
                                  f"{_choices(_item_names(value))}")
    if isinstance(value, list):
        raise ScenarioError(path, f"is a list; vary one item by index, {path}.0 to "
                                  f"{path}.{len(value) - 1}")
    return value


def apply_overrides(base: dict[str, Any], overrides: dict[str, Any]) -> Scenario:
    """The scenario ``base`` (a mapping) with values set at dotted paths, validated."""
    data = copy.deepcopy(base)
    for path, value in overrides.items():
        read_path(data, path)
        container, key = _locate(data, path)
        container[key] = value
    try:
        return scenario_from_mapping(data, source="")
    except ScenarioError as exc:
        shown = ", ".join(f"{p}={v}" for p, v in overrides.items())
        raise ScenarioError(exc.field, f"{exc.message} (with {shown})") from None


def scenario_mapping(scenario: Scenario) -> dict[str, Any]:
    """The full scenario as a plain mapping (defaults included), ready to override."""
    return scenario.model_dump(mode="json")


def grid_sweep(base: Scenario, grid: list[Values], replications: int,
               fixed: dict[str, Any] | None = None) -> Experiment:
    """Every combination of the values, ``replications`` each, common random numbers."""
    _check_size(math.prod(len(v.values) for v in grid), "grid", " × ".join(
        str(len(v.values)) for v in grid))
    mapping = scenario_mapping(base)
    combos = itertools.product(*(v.values for v in grid))
    points = [_point(i, mapping, dict(zip([v.path for v in grid], combo, strict=True)), fixed)
              for i, combo in enumerate(combos)]
    design = {"design": "grid", "vary": {v.path: v.values for v in grid}, "fixed": fixed or {}}
    return Experiment("sweep", base, points, replications, scenario_hash(base), design)


def lhs_sweep(base: Scenario, ranges: list[Range], samples: int, replications: int,
              fixed: dict[str, Any] | None = None) -> Experiment:
    """``samples`` points of a Latin hypercube over the ranges (seeded by the scenario)."""
    _check_size(samples, "lhs", f"--samples {samples}")
    key = scenario_hash(base)
    sampler = qmc.LatinHypercube(d=len(ranges), seed=np.random.default_rng(int(key, 16)))
    mapping = scenario_mapping(base)
    points = [_point(i, mapping, {r.path: r.value(u) for r, u in zip(ranges, row, strict=True)},
                     fixed)
              for i, row in enumerate(sampler.random(samples))]
    design = {"design": "lhs", "samples": samples,
              "vary": {r.path: [r.low, r.high] for r in ranges}, "fixed": fixed or {}}
    return Experiment("sweep", base, points, replications, key, design)


def _check_size(points: int, design: str, how: str) -> None:
    """Refuse a design too big to plan, before a single scenario is built."""
    if points > MAX_POINTS:
        raise ScenarioError("", f"--vary: the {design} has {points:,} points ({how}); the limit "
                                f"is {MAX_POINTS:,}: vary fewer values, or split the study")


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt}
_THRESHOLD = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Threshold:
    """A sweep target such as ``queue_peak_km<10``: every KPI it names must meet it.

    A name may be a whole dotted KPI or its last parts (``queue_peak_km`` names
    the queue peak of every direction).
    """

    text: str
    name: str
    comparison: str
    value: float
    kpis: tuple[str, ...] = ()

    def resolved(self, known: set[str]) -> Threshold:
        """The threshold with the KPIs its name stands for, or an error naming close ones."""
        matches = sorted(k for k in known if k == self.name or k.endswith("." + self.name))
        if not matches:
            close = sorted(k for k in known if self.name.split(".")[-1] in k)[:8]
            raise ScenarioError("", f"--target: no KPI named {self.name!r}; e.g. "
                                    f"{', '.join(close or sorted(known)[:8])}")
        return replace(self, kpis=tuple(matches))

    def met_by(self, values: list[float | None]) -> bool:
        test = _COMPARISONS[self.comparison]
        return bool(values) and all(v is not None and test(v, self.value) for v in values)


def parse_threshold(text: str) -> Threshold:
    """``KPI<NUMBER`` (or ``<=``, ``>``, ``>=``) → :class:`Threshold`."""
    match = _THRESHOLD.match(text)
    try:
        value = float(match.group(3)) if match else math.nan
    except ValueError:
        value = math.nan
    if match is None or not math.isfinite(value):
        raise ScenarioError("", f"--target {text!r}: write KPI, a comparison and a number, "
                                "e.g. 'queue_peak_km<10' or 'delay_minutes.mean<=60'")
    return Threshold(text.strip(), match.group(1), match.group(2), value)


def meeting_points(table: dict[int, list[KpiStatistics]], threshold: Threshold,
                   stat: str) -> list[int]:
    """Points (in design order) whose ``stat`` of every target KPI meets the threshold."""
    met = []
    for point, rows in sorted(table.items()):
        stats = {s.kpi: s for s in rows}
        values = [getattr(stats[k], stat) if k in stats else None for k in threshold.kpis]
        if threshold.met_by(values):
            met.append(point)
    return met


def _point(index: int, mapping: dict[str, Any], parameters: dict[str, Any],
           fixed: dict[str, Any] | None) -> Any:
    scenario = apply_overrides(mapping, {**(fixed or {}), **parameters})
    return make_point(index, scenario, parameters)


def _locate(data: dict[str, Any], path: str) -> tuple[Any, Any]:
    """The container holding the last part of ``path`` and the key into it."""
    parts = [p for p in path.replace("[", ".").replace("]", "").split(".")]
    if not all(parts):
        raise ScenarioError(path, "empty part in the path; write parts separated by single dots")
    node: Any = data
    for depth, part in enumerate(parts):
        walked = ".".join(parts[:depth]) or "the scenario"
        key = _key(node, part, walked, path)
        if depth == len(parts) - 1:
            return node, key
        node = node[key]
    raise AssertionError("unreachable")


def _key(node: Any, part: str, walked: str, path: str) -> Any:
    if isinstance(node, dict):
        if part in node:
            return part
        raise ScenarioError(path, f"no field {part!r} in {walked}; valid choices: "
                                  f"{_choices(list(node))}")
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return int(part)
        names = _item_names(node)
        if part in names:
            return names.index(part)
        raise ScenarioError(path, f"no item {part!r} in {walked}; valid choices: "
                                  f"{_choices(names)}")
    raise ScenarioError(path, f"{walked} is a value, not a section; stop the path there")


def _item_names(items: list[Any]) -> list[str]:
    named = [str(i.get("name")) for i in items if isinstance(i, dict) and i.get("name")]
    return named if len(named) == len(items) else [str(i) for i in range(len(items))]


def _choices(names: list[str]) -> str:
    shown = ", ".join(str(n) for n in names[:_SHOWN_CHOICES])
    return shown + (", ..." if len(names) > _SHOWN_CHOICES else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _looks_like_time(value: Any) -> bool:
    """Date-times contain colons; a grid of them is still a list, not a range."""
    return isinstance(value, str) and "T" in value
