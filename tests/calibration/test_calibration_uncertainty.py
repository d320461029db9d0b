"""Ensembles over a calibration's accepted set: reproducible draws, pooled statistics."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from straits.calibration.acceptance import summarise, write_results
from straits.calibration.spec import load_spec
from straits.calibration.uncertainty import draw_vectors, load_accepted, uncertain_ensemble
from straits.cli import app
from straits.experiments.sweep import apply_overrides, read_path, scenario_mapping
from straits.scenario import load_scenario
from tests.calibration.test_calibration_acceptance import DOVER, PASSPORT, _trial, _trials
from tests.conftest import scenario_with

runner = CliRunner()


def _calibration(folder, passport=None):
    """Trials 1 and 2 accepted; ``passport``: the value both give the per-passport time."""
    spec, trials = _trials()
    if passport is not None:
        trials = [_trial(spec, t.number, {**t.values, PASSPORT: passport},
                         {k: f.mean for k, f in t.fits.items()}, t.replications)
                  for t in trials]
    write_results(folder, summarise(spec, trials, None), "straits calibrate")
    return folder


def test_draws_are_reproducible_and_without_replacement():
    vectors = [{"a": i} for i in range(10)]
    first = draw_vectors(vectors, 4, "00ff00ff00ff00ff")
    assert first == draw_vectors(vectors, 4, "00ff00ff00ff00ff")
    assert len({v["a"] for v in first}) == 4
    assert draw_vectors(vectors, 40, "00ff00ff00ff00ff") == vectors


def test_a_value_the_scenario_sets_itself_is_kept(tmp_path):
    accepted = load_accepted(_calibration(tmp_path))
    own = scenario_with({"terminals.dover.stages.1.booths": 12}, horizon="1d")
    experiment = uncertain_ensemble(own, accepted, 5, 2)
    assert len(experiment.points) == 2  # both accepted vectors
    for point in experiment.points:
        assert DOVER not in point.parameters
        assert read_path(scenario_mapping(point.scenario), DOVER) == 12


def test_a_value_homed_in_a_scenario_is_applied_where_it_is_inherited_and_nowhere_else(tmp_path):
    accepted = load_accepted(_calibration(tmp_path, passport="12.3s"))
    heir = load_scenario("ees-2026")  # restates the stage with dover-summer-2023's value
    own = apply_overrides(scenario_mapping(heir), {PASSPORT: "9.9s"})
    for scenario, expected in ((heir, "12.3s"), (own, "9.9s")):
        for point in uncertain_ensemble(scenario, accepted, 5, 1).points:
            assert read_path(scenario_mapping(point.scenario), PASSPORT) == expected
            assert (PASSPORT in point.parameters) == (expected == "12.3s")
    for point in uncertain_ensemble(load_scenario("baseline"), accepted, 5, 1).points:
        assert PASSPORT not in point.parameters  # no cars: the corridor's values only
        assert "passengers" not in scenario_mapping(point.scenario)
        assert DOVER in point.parameters


def test_ensemble_with_parameter_uncertainty_pools_every_vector_and_replication(tmp_path):
    folder = _calibration(tmp_path / "cal")
    scenario = tmp_path / "short.yaml"
    scenario.write_text("extends: baseline\nname: short\nhorizon: 1d\n")
    args = ["ensemble", str(scenario), "-n", "2", "--workers", "1", "--store",
            str(tmp_path / "s.duckdb"), "--json", "--parameter-uncertainty", str(folder),
            "--kpi", "directions.southbound.delay_minutes.mean"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    data = json.loads(first.stdout)
    assert sorted(v[DOVER] for v in data["parameter_vectors"]) == [7, 8]  # trials 2 and 1
    assert data["kpis"]["directions.southbound.delay_minutes.mean"]["n"] == 4
    again = json.loads(runner.invoke(app, args).stdout)
    assert again["kpis"] == data["kpis"] and again["run"]["replications_run"] == 0


def test_parameter_uncertainty_without_a_calibration_exits_2(tmp_path):
    result = runner.invoke(app, ["ensemble", "baseline", "--parameter-uncertainty",
                                 str(tmp_path)])
    assert result.exit_code == 2
    assert "--parameter-uncertainty: no calibration.json" in result.stderr
    assert "corridor-2015" in result.stderr  # the shipped calibrations are named


def test_the_shipped_calibration_loads_by_name():
    accepted = load_accepted(Path("corridor-2015"))
    assert accepted.vectors
    for vector in accepted.vectors:
        assert set(vector) == set(accepted.home_values)


def test_the_shipped_calibration_fits_the_shipped_spec():
    accepted = load_accepted(Path("corridor-2015"))
    spec = load_spec()
    # the values it replaces are the shipped ones, or an ensemble would apply nothing
    assert accepted.home_values == {p.path: p.home_value for p in spec.parameters}
    assert accepted.weights is not None and len(accepted.weights) == len(accepted.vectors)
    for vector in accepted.vectors:  # a spec that drifted from the shipped set fails here
        for p in spec.parameters:
            assert p.low <= p.search_value(vector[p.path]) <= p.high
