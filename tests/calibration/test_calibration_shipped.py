"""The shipped calibration, on a smaller budget, accepts the shipped values (slow).

The full budget (docs/validation.md, "Re-derived jointly") is 272 trials. Its first
two generations (the prior draws and TPE's search, then one weighted generation: 208
trials, ~15 minutes on 2 cores) already accept candidates; the shipped values, an
accepted member of the full run's last generation, must lie within the range of every
candidate those accept (the issue's ABC acceptance on the evaluated trials), and the
shipped corridor, scored with the calibration's seeds (common random numbers) and the
refined replications, must put every target in its band.
"""

from __future__ import annotations

import json

import optuna
import pytest
from typer.testing import CliRunner

from straits.calibration.evaluation import Evaluator
from straits.calibration.search import STUDY_FILE, finished_trials
from straits.calibration.spec import load_spec
from straits.cli import app
from straits.cli.calibrate import STORE_FILE
from straits.experiments.executors import make_executor
from straits.experiments.store import ResultsStore

runner = CliRunner()


@pytest.mark.slow
def test_a_small_shipped_calibration_accepts_the_shipped_values(tmp_path):
    spec = load_spec()
    budget = spec.startup_trials + spec.search_trials + spec.generation_trials  # generations 0-1
    result = runner.invoke(app, ["calibrate", "--trials", str(budget), "--workers", "2",
                                 "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["trials"] == budget
    study = optuna.load_study(study_name="calibration",
                              storage=f"sqlite:///{tmp_path / STUDY_FILE}")
    accepted = [t for t in finished_trials(study) if t.accepted]
    assert accepted
    outside = {}
    for p in spec.parameters:
        values = [p.search_value(t.values[p.path]) for t in accepted]
        if not min(values) <= p.search_value(p.home_value) <= max(values):
            outside[p.path] = (p.home_value, min(values), max(values))
    assert not outside, f"shipped values outside the accepted ranges: {outside}"
    shipped = {p.path: p.home_value for p in spec.parameters}
    executor = make_executor(2)
    try:
        with ResultsStore(tmp_path / STORE_FILE) as store:
            evaluation = Evaluator(spec, store, executor).evaluate(
                [shipped], spec.refine_replications)[0]
    finally:
        executor.close()
    failed = {k: round(f.mean, 2) for k, f in evaluation.fits.items() if not f.passed}
    assert not failed, f"the shipped corridor misses {failed} with the calibration's seeds"
