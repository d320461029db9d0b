"""The targets, the ensemble statistics and the seeds behave as documented."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import stats

from straits.scenario import builtin_names
from straits.validation import (
    TARGETS,
    ScenarioRuns,
    headline,
    replication_seed,
    run_scenario,
    scenarios,
)
from straits.validation.comparison import compare, rows_to_json, rows_to_markdown


def test_every_target_names_a_builtin_scenario_and_a_fact_row():
    known = set(builtin_names())
    for t in TARGETS:
        assert t.scenario in known, t.key
        assert re.fullmatch(r"F\d\.\d+(, F\d\.\d+)*", t.facts), t.key
        assert t.source and t.why_tolerance, t.key


def test_bands_contain_the_published_range():
    for t in TARGETS:
        low, high = t.band
        assert low <= t.published_low <= t.published_high <= high, t.key
        assert t.passes(t.published_low) and t.passes(t.published_high)
        assert not t.passes(high * 1.01 + 1e-9), t.key


def test_keys_are_unique_and_each_scenario_has_a_headline():
    assert len({t.key for t in TARGETS}) == len(TARGETS)
    assert headline("calais-strike-2015").key == "strike-stack-days"
    assert headline("rwcs-2021").key == "rwcs-peak-queue"
    assert len(scenarios()) == len(set(scenarios()))


def test_replication_seeds_are_reproducible_and_distinct():
    seeds = [replication_seed(i) for i in range(50)]
    assert seeds == [replication_seed(i) for i in range(50)]
    assert len(set(seeds)) == 50


def test_the_table_interval_is_the_student_t_interval():
    values = np.array([3.0, 5.0, 4.0, 8.0])
    runs = {"dover-checks-2018": _runs_with({"checks-2min": values})}
    row = compare(TARGETS, runs)[0]
    expected = stats.t.interval(0.95, 3, loc=5.0, scale=stats.sem(values))
    assert row.model_mean == 5.0
    assert (row.model_low, row.model_high) == pytest.approx(expected)
    one = compare(TARGETS, {"dover-checks-2018": _runs_with({"checks-2min": np.array([2.0])})})
    assert (one[0].model_mean, one[0].model_low, one[0].model_high) == (2.0, 2.0, 2.0)


def _runs_with(values: dict[str, np.ndarray]) -> ScenarioRuns:
    empty = np.zeros((1, 1))
    return ScenarioRuns(None, [], values, np.zeros(1), empty, empty, empty)


def test_an_ensemble_is_reproducible_and_the_table_reports_it():
    first = run_scenario("dover-checks-2018", 2)
    again = run_scenario("dover-checks-2018", 2)
    for key, values in first.values.items():
        np.testing.assert_array_equal(values, again.values[key])
    np.testing.assert_array_equal(first.dover_queue_miles, again.dover_queue_miles)
    rows = compare(TARGETS, {"dover-checks-2018": first})
    assert [r.key for r in rows] == ["checks-2min"]
    assert rows[0].model_low <= rows[0].model_mean <= rows[0].model_high
    assert '"all_passed"' in rows_to_json(rows, {"replications": 2})
    assert rows_to_markdown(rows).count("\n") == 3


def test_two_worker_processes_give_the_same_ensemble():
    from straits.experiments.executors import ProcessExecutor

    executor = ProcessExecutor(2)
    try:
        parallel = run_scenario("dover-checks-2018", 3, executor=executor)
    finally:
        executor.close()
    inline = run_scenario("dover-checks-2018", 3)
    assert parallel.seeds == inline.seeds
    for key, values in inline.values.items():
        np.testing.assert_array_equal(parallel.values[key], values)
    np.testing.assert_array_equal(parallel.kent_queue_lorries, inline.kent_queue_lorries)
    np.testing.assert_array_equal(parallel.dover_queue_miles, inline.dover_queue_miles)
