"""Dotted-path overrides, sweep designs, and the expected trend over booth count."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.experiments.ensemble import run_experiment
from straits.experiments.executors import InlineExecutor
from straits.experiments.store import ResultsStore
from straits.experiments.sweep import (
    apply_overrides,
    grid_sweep,
    lhs_sweep,
    parse_range,
    parse_values,
    read_path,
    scenario_mapping,
)
from straits.scenario import ScenarioError, scenario_hash
from tests.conftest import scenario_with

BOOTHS = "terminals.dover.stages.french_border.booths"


@pytest.fixture
def mapping(one_day):
    return scenario_mapping(one_day)


def test_no_override_gives_back_the_same_scenario(one_day, mapping):
    assert scenario_hash(apply_overrides(mapping, {})) == scenario_hash(one_day)


def test_list_items_by_name_or_index(mapping):
    by_name = apply_overrides(mapping, {BOOTHS: 4})
    by_index = apply_overrides(mapping, {"terminals.dover.stages.1.booths": 4})
    assert by_name.terminals["dover"].stages[1].booths == 4
    assert scenario_hash(by_name) == scenario_hash(by_index)


def test_durations_and_list_entries_can_be_overridden(mapping):
    sc = apply_overrides(mapping, {"terminals.dover.stages.uk_exit.service_time.value": "40s",
                                   "demand.southbound.hour_of_day.17": 2.0})
    assert sc.terminals["dover"].stages[0].service_time.value == pytest.approx(40 / 60)
    assert sc.demand.southbound.hour_of_day[17] == 2.0


@pytest.mark.parametrize(("path", "named"), [
    ("terminals.dovr.buffer_lorries", ["calais", "coquelles", "dover", "folkestone"]),
    ("terminals.dover.stages.passport.booths", ["uk_exit", "french_border", "check_in"]),
    ("terminals.dover.bufer_lorries", ["buffer_lorries", "stages"]),
])
def test_unknown_path_names_the_valid_choices(mapping, path, named):
    with pytest.raises(ScenarioError) as caught:
        read_path(mapping, path)
    assert caught.value.field == path
    for choice in named:
        assert choice in caught.value.message


def test_a_section_is_not_a_value(mapping):
    with pytest.raises(ScenarioError, match=r"section.*buffer_lorries"):
        read_path(mapping, "terminals.dover")


def test_a_bad_value_names_the_path(mapping):
    with pytest.raises(ScenarioError) as caught:
        apply_overrides(mapping, {BOOTHS: -1})
    assert "booths" in caught.value.field
    assert "greater than or equal to 0" in caught.value.message
    assert f"{BOOTHS}=-1" in caught.value.message


def test_grid_takes_values_not_ranges(mapping):
    assert parse_values(mapping, f"{BOOTHS}=4,6, 8").values == [4, 6, 8]
    with pytest.raises(ScenarioError, match="lhs"):
        parse_values(mapping, f"{BOOTHS}=4:8")


def test_ranges_keep_the_field_type(mapping):
    booths = parse_range(mapping, f"{BOOTHS}=4:12", "--vary")
    assert booths.integer and booths.value(0.5) == 8
    service = parse_range(mapping, "terminals.dover.stages.uk_exit.service_time.value=10s:30s",
                          "--vary")
    assert service.duration and service.value(0.5) == "20s"
    with pytest.raises(ScenarioError, match="lo:hi"):
        parse_range(mapping, f"{BOOTHS}=4", "--vary")
    with pytest.raises(ScenarioError, match="below"):
        parse_range(mapping, f"{BOOTHS}=8:4", "--vary")


def test_lhs_points_are_stratified_and_reproducible(one_day, mapping):
    booths = parse_range(mapping, f"{BOOTHS}=4:13", "--vary")
    first = lhs_sweep(one_day, [booths], samples=10, replications=1)
    again = lhs_sweep(one_day, [booths], samples=10, replications=1)
    values = sorted(p.parameters[BOOTHS] for p in first.points)
    assert values == sorted(p.parameters[BOOTHS] for p in again.points)
    assert len(set(values)) == 10  # one point in each tenth of 4..13
    assert first.experiment_id == again.experiment_id


def test_sweep_over_booths_shows_the_monotone_trend(one_day, mapping, tmp_path):
    """Fewer French border booths at Dover, longer southbound ferry delays
    (common random numbers across points keep the comparison sharp)."""
    grid = [parse_values(mapping, f"{BOOTHS}=4,5,6,8,12")]
    experiment = grid_sweep(one_day, grid, replications=2)
    with ResultsStore(tmp_path / "r.duckdb") as store:
        run_experiment(experiment, store, InlineExecutor())
        means = store.point_means(experiment.experiment_id,
                                  "directions.southbound.routes.ferry.crossed")
        delays = store.point_means(experiment.experiment_id,
                                   "directions.southbound.delay_minutes.mean")
    ordered = [delays[p.index] for p in experiment.points]
    assert all(a > b for a, b in itertools.pairwise(ordered)), ordered
    assert ordered[0] > 10 * ordered[-1]
    assert means[0] < means[4]  # 4 booths cannot pass the day's ferry traffic


@given(st.integers(0, 500))
@settings(max_examples=25, deadline=None)
def test_an_override_sets_exactly_that_value(booths):
    base = scenario_with(horizon="1d")
    changed = apply_overrides(scenario_mapping(base), {BOOTHS: booths})
    assert changed.terminals["dover"].stages[1].booths == booths
    untouched = changed.model_dump() | {"terminals": None}
    assert untouched == base.model_dump() | {"terminals": None}
    assert (scenario_hash(changed) == scenario_hash(base)) == (
        booths == base.terminals["dover"].stages[1].booths)
