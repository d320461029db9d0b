"""The shipped calibration, on a small budget, runs end to end and its objective accepts
the shipped corridor (slow).

The full budget (docs/validation.md, "Re-derived jointly") is too long for a test: here
the first prior draws of the shipped spec are run, then the corridor as shipped is scored
with the same seeds (common random numbers) and the refined replications. It must put
every target in its band (it would join the accepted set) and beat every prior draw.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from straits.calibration.evaluation import Evaluator
from straits.calibration.objective import score
from straits.calibration.spec import load_spec
from straits.cli import app
from straits.cli.calibrate import STORE_FILE
from straits.experiments.executors import make_executor
from straits.experiments.store import ResultsStore

runner = CliRunner()
SMALL_BUDGET = 8  # two batches of prior draws


@pytest.mark.slow
def test_shipped_spec_runs_and_its_objective_accepts_the_shipped_corridor(tmp_path):
    result = runner.invoke(app, ["calibrate", "--trials", str(SMALL_BUDGET), "--workers", "2",
                                 "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["trials"] == SMALL_BUDGET and data["best"]["phase"] == "prior"
    spec = load_spec()
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
    assert score(list(evaluation.fits.values()), spec.weights) < data["best"]["score"]
