"""Bad input of every size is refused with one ScenarioError naming the field or line:
generated nesting, alias bombs, duplicate keys, extreme numbers and stacked shocks."""

from __future__ import annotations

import copy
import math

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from straits.scenario import ScenarioError, scenario_from_mapping, scenario_from_text
from straits.scenario.limits import (
    MAX_CROSSING_MINUTES,
    MAX_DEMAND_FACTOR,
    MAX_DOCUMENT_BYTES,
    MAX_NESTING_DEPTH,
    MAX_SERVICE_MINUTES,
    MAX_WEIGHT,
    MAX_YAML_NODES,
    MIN_CROSSING_MINUTES,
    MIN_DEPARTURES_PER_HOUR,
    MIN_LORRY_SPACING_M,
    MIN_TURNAROUND_MINUTES,
)
from tests.conftest import corridor_mapping

HEAD = "extends: baseline\nname: limits\n"


def _refusal(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as refused:
        scenario_from_text(text, source="s.yaml")
    assert "\n" not in str(refused.value)
    return refused.value


@settings(max_examples=10, deadline=None)
@example(levels=MAX_NESTING_DEPTH)
@example(levels=MAX_NESTING_DEPTH + 1)
@example(levels=5_000)
@given(levels=st.integers(1, 500))
def test_nesting_is_capped_before_anything_is_built(levels: int) -> None:
    """``levels`` lists inside each other under ``description`` (itself level 1)."""
    error = _refusal(HEAD + "description: " + "[" * levels + "]" * levels + "\n")
    if 1 + levels > MAX_NESTING_DEPTH:
        assert "nested more than" in error.message and error.line == 3
    else:
        assert error.field == "description"


def test_a_mapping_built_in_code_is_capped_too() -> None:
    data = corridor_mapping()
    node = data
    for _ in range(MAX_NESTING_DEPTH + 5):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ScenarioError, match="nested more than"):
        scenario_from_mapping(data)


@settings(max_examples=20, deadline=None)
@example(fanout=10, levels=9)  # the billion laughs
@given(fanout=st.integers(2, 12), levels=st.integers(1, 8))
def test_alias_expansion_is_budgeted(fanout: int, levels: int) -> None:
    lines = ["x0: &a0 [" + ", ".join(["v"] * fanout) + "]"]
    for i in range(1, levels):
        lines.append(f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    expanded = sum(fanout ** (i + 1) + sum(fanout ** j for j in range(1, i + 1))
                   for i in range(levels))
    error = _refusal(HEAD + "\n".join(lines) + "\n")
    if expanded + levels > MAX_YAML_NODES:
        assert "aliases expanded" in error.message
    elif 1 + levels <= MAX_NESTING_DEPTH:
        assert error.field == "x0" and "unknown field" in error.message


@settings(max_examples=20, deadline=None)
@given(path=st.sampled_from([(), ("routes",), ("routes", "ferry"), ("demand", "northbound"),
                             ("terminals", "dover")]),
       key=st.sampled_from(["horizon", "crossing", "lorries_per_day", "zz"]))
def test_a_key_given_twice_is_refused_with_both_lines(path: tuple[str, ...], key: str) -> None:
    indent = "".join(f"{'  ' * i}{part}:\n" for i, part in enumerate(path))
    pad = "  " * len(path)
    text = HEAD + indent + f"{pad}{key}: 1\n{pad}{key}: 2\n"
    error = _refusal(text)
    line = 3 + len(path)
    assert error.message == f"key {key!r} is given twice (also on line {line}); keep one"
    assert error.line == line + 1


def test_merge_keys_may_repeat_what_they_override() -> None:
    text = ("extends: baseline\nname: merged\n"
            "base: &b {horizon: 2d}\n")
    assert _refusal(text).field == "base"  # refused as an unknown field, not a duplicate


def test_a_document_over_the_size_budget_is_refused() -> None:
    padding = "#" * 80 + "\n"
    text = HEAD + padding * (MAX_DOCUMENT_BYTES // len(padding) + 1)
    error = _refusal(text)
    assert f"{MAX_DOCUMENT_BYTES:,}" in error.message


EXTREME = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e-300, 1e308, -1e308, math.inf, -math.inf, math.nan]),
    st.integers(-(10**30), 10**30),
)
NUMBER_FIELDS = [
    (("demand", "southbound", "lorries_per_day"), 0, 200_000),
    (("demand", "southbound", "hour_of_day", 0), 0, MAX_WEIGHT),
    (("demand", "northbound", "day_of_week", 3), 0, MAX_WEIGHT),
    (("routes", "tunnel", "departures_per_hour"), MIN_DEPARTURES_PER_HOUR, 60),
    (("routes", "tunnel", "lorries_per_shuttle"), 1, 200),
    (("terminals", "dover", "buffer_lorries"), 1, 100_000),
    (("terminals", "dover", "stages", 0, "booths"), 0, 500),
    (("cost", "delay_gbp_per_lorry_hour"), 0, 10_000),
    (("route_choice", "captive_share"), 0, 1),
    (("holding", "southbound", "lorry_spacing_m"), MIN_LORRY_SPACING_M, 100),
]


def _set(data: dict, path: tuple, value: object) -> None:
    node = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _text(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False)


@settings(max_examples=25, deadline=None)
@given(field=st.sampled_from(NUMBER_FIELDS), value=EXTREME)
def test_extreme_numbers_are_refused_naming_the_field(field, value) -> None:
    path, low, high = field
    data = copy.deepcopy(corridor_mapping())
    data["name"] = "extreme"
    _set(data, path, value)
    try:
        scenario_from_text(_text(data))
    except ScenarioError as error:
        assert error.field.startswith(".".join(str(p) for p in path[:3]))
        assert "\n" not in str(error)
        return
    assert isinstance(value, int | float) and math.isfinite(value) and low <= value <= high


DURATION_FIELDS = [
    (("routes", "ferry", "crossing"), MIN_CROSSING_MINUTES, MAX_CROSSING_MINUTES),
    (("routes", "tunnel", "crossing"), MIN_CROSSING_MINUTES, MAX_CROSSING_MINUTES),
    (("routes", "ferry", "turnaround"), MIN_TURNAROUND_MINUTES, 1440.0),
    (("terminals", "dover", "stages", 0, "service_time", "value"), 0.0, MAX_SERVICE_MINUTES),
]


@settings(max_examples=25, deadline=None)
@example(field=DURATION_FIELDS[0], amount=0.0, unit="s")
@example(field=DURATION_FIELDS[2], amount=1e-6, unit="s")
@example(field=DURATION_FIELDS[3], amount=10.0**25, unit="d")
@given(field=st.sampled_from(DURATION_FIELDS),
       amount=st.floats(0, 1e25, allow_nan=False), unit=st.sampled_from(["s", "min", "h", "d"]))
def test_times_outside_their_physical_range_are_refused(field, amount: float, unit: str) -> None:
    path, low, high = field
    data = copy.deepcopy(corridor_mapping())
    data["name"] = "times"
    spelled = f"{amount:.6f}{unit}"
    _set(data, path, spelled)
    minutes = float(spelled[: -len(unit)]) * {"s": 1 / 60, "min": 1, "h": 60, "d": 1440}[unit]
    inside = low <= minutes <= high
    try:
        scenario_from_text(_text(data))
    except ScenarioError as error:
        assert not inside, error
        assert error.field == ".".join(str(p) for p in path).replace(".0.", "[0].")
        return
    assert inside


@settings(max_examples=30, deadline=None)
@given(multipliers=st.lists(st.floats(0, 10), min_size=1, max_size=4),
       spacing_hours=st.sampled_from([0, 1, 3]))
def test_stacked_demand_shocks_are_bounded(multipliers: list[float], spacing_hours: int) -> None:
    """Shocks of 2 h, ``spacing_hours`` apart: those overlapping may not multiply past the cap."""
    shocks = [{"kind": "demand_shock", "start": f"+{1 + i * spacing_hours}h", "duration": "2h",
               "multiplier": m} for i, m in enumerate(multipliers)]
    data = copy.deepcopy(corridor_mapping())
    data.update(name="shocks", disruptions=shocks)
    worst = 1.0
    for i in range(len(multipliers)):  # overlapping at the start of shock i
        live = [m for j, m in enumerate(multipliers)
                if j * spacing_hours <= i * spacing_hours < j * spacing_hours + 2 and m > 1]
        worst = max(worst, math.prod(live))
    try:
        scenario_from_mapping(data)
    except ScenarioError as error:
        assert worst > MAX_DEMAND_FACTOR * (1 + 1e-9)
        assert error.field.endswith(".multiplier") or error.field.endswith("].multiplier")
        return
    assert worst <= MAX_DEMAND_FACTOR * (1 + 1e-9)
