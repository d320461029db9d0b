"""What a worker sends back: flat KPI rows and holding series consistent with the metrics."""

from __future__ import annotations

import numpy as np
import pytest

from straits.experiments.tasks import Task, flatten_kpis, holding_series, run_task
from straits.metrics.occupancy import occupancy
from straits.pipeline import simulate
from straits.scenario import scenario_hash
from tests.conftest import scenario_with


def test_flatten_keeps_numeric_leaves_under_dotted_keys():
    summary = {"seed": 4, "scenario": "x", "a": {"b": 1, "c": {"d": 2.5}, "flag": True},
               "first": None, "list": [{"hours": 3.0, "name": "n"}]}
    assert flatten_kpis(summary) == {"a.b": 1.0, "a.c.d": 2.5, "list.0.hours": 3.0}


@pytest.fixture(scope="module")
def result():
    scenario = scenario_with({"terminals.dover.stages.1.booths": 5}, horizon="1d")
    return simulate(scenario, 3)


def test_series_match_the_metrics_occupancy_every_15_minutes(result):
    series = holding_series(result.scenario, result.records)
    minutes = np.arange(0.0, 24 * 60 + 7.5, 15.0)
    for direction, dr in result.records.directions.items():
        occ = occupancy(dr, getattr(result.scenario.holding, direction), minutes)
        mine = [i for i, d in enumerate(series.directions) if d == direction]
        assert [series.places[i] for i in mine] == [*dr.area_names, "total"]
        np.testing.assert_allclose(series.lorries[mine[:-1]], occ.lorries_by_area, rtol=1e-6)
        np.testing.assert_allclose(series.km[mine[:-1]], occ.km_by_area, rtol=1e-6)
        np.testing.assert_allclose(series.lorries[mine[-1]], occ.lorries_by_area.sum(axis=0),
                                   rtol=1e-6)
    assert series.lorries.max() > 0  # five booths at Dover make a queue to look at


def test_a_task_reproduces_straits_run(result):
    key = scenario_hash(result.scenario)
    outcome = run_task(Task(result.scenario, key, key, 0, 3))
    assert dict(zip(outcome.kpi_names, outcome.kpi_values, strict=True)) == flatten_kpis(
        result.summary)
