"""Sensitivity ranks a known-dominant parameter first; an inert one scores zero."""

from __future__ import annotations

import numpy as np
import pytest

from straits.experiments.ensemble import run_experiment
from straits.experiments.executors import InlineExecutor
from straits.experiments.sensitivity import analyse, sensitivity_experiment
from straits.experiments.store import ResultsStore
from straits.experiments.sweep import parse_range, scenario_mapping

DELAY = "directions.southbound.delay_minutes.mean"
PARAMETERS = (
    "demand.southbound.lorries_per_day=4000:8000",  # dominant: load on every stage
    "terminals.dover.stages.uk_exit.service_time.value=10s:30s",  # minor: 6 booths, idle
    "cost.delay_gbp_per_lorry_hour=20:80",  # inert: a price, not a delay
)


@pytest.mark.parametrize(("method", "samples", "score"), [("morris", 4, "mu_star")])
def test_demand_dominates_southbound_delay(one_day, tmp_path, method, samples, score):
    mapping = scenario_mapping(one_day)
    ranges = [parse_range(mapping, p, "--param") for p in PARAMETERS]
    experiment, units = sensitivity_experiment(one_day, ranges, method, samples, replications=1)
    assert len(experiment.points) == samples * (len(ranges) + 1)
    with ResultsStore(tmp_path / "r.duckdb") as store:
        run_experiment(experiment, store, InlineExecutor())
        means = store.point_means(experiment.experiment_id, DELAY)
    outputs = [means[p.index] for p in experiment.points]
    ranking = analyse(method, ranges, units, DELAY, np.array(outputs), seed=1)
    assert ranking[0].parameter.startswith("demand.southbound")
    assert ranking[-1].parameter.startswith("cost.")
    assert ranking[-1].indices[score] == 0.0
    assert ranking[0].indices[score] > 5 * ranking[1].indices[score]


@pytest.mark.slow
def test_sobol_total_index_ranks_demand_first(one_day, tmp_path):
    mapping = scenario_mapping(one_day)
    ranges = [parse_range(mapping, p, "--param") for p in PARAMETERS]
    experiment, units = sensitivity_experiment(one_day, ranges, "sobol", 16, replications=1)
    assert len(experiment.points) == 16 * (len(ranges) + 2)
    with ResultsStore(tmp_path / "r.duckdb") as store:
        run_experiment(experiment, store, InlineExecutor())
        means = store.point_means(experiment.experiment_id, DELAY)
    outputs = np.array([means[p.index] for p in experiment.points])
    ranking = analyse("sobol", ranges, units, DELAY, outputs, seed=1)
    assert ranking[0].parameter.startswith("demand.southbound")
    # eight Sobol samples give a rough estimate: judge it by its own confidence interval
    # (the samples, and so the estimate, change whenever the scenario's hash does)
    assert ranking[0].indices["ST"] + ranking[0].indices["ST_conf"] > 0.8
    inert = next(r for r in ranking if r.parameter.startswith("cost."))
    assert inert.indices["ST"] == 0.0 and inert.indices["S1"] == 0.0
