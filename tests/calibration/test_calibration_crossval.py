"""Leave one event out on toys: consistent events predict each other, a false one does not."""

from __future__ import annotations

import pytest

from straits.calibration.crossval import cross_validate, folds_markdown, pass_rates
from straits.calibration.evaluation import Evaluator
from straits.experiments.executors import make_executor
from straits.experiments.store import ResultsStore
from tests.calibration.toy import (
    DOVER_PER_MINUTE,
    TRUE_BOOTHS,
    toy_scenario,
    toy_spec,
    toy_target,
)

SPEC = """\
name: toy-events
corridor: toy-mmc
parameters:
  - path: terminals.dover.stages.french_border.booths
    low: 6
    high: 9
replications: 3
refine_replications: 3
trials: 8
sampler: prior
seed: 3
"""
BUSY = 0.92 * TRUE_BOOTHS / 2.0  # lorries a minute: rho 0.92 with the true booths


@pytest.mark.parametrize(("second_booths", "expected_rate"), [(TRUE_BOOTHS, 1.0), (9, 0.0)])
def test_events_that_agree_predict_each_other_and_a_false_one_fails(tmp_path, second_booths,
                                                                    expected_rate):
    scenarios = {"toy-mmc": toy_scenario(), "toy-busy": toy_scenario("toy-busy", BUSY)}
    targets = (toy_target("toy-mmc", TRUE_BOOTHS, DOVER_PER_MINUTE, "toy-wait"),
               toy_target("toy-busy", second_booths, BUSY, "busy-wait"))
    spec = toy_spec(tmp_path, SPEC, targets, scenarios)
    with ResultsStore(tmp_path / "store.duckdb") as store:
        executor = make_executor(1)
        full = Evaluator(spec, store, executor, scenarios)
        folds = cross_validate(spec, tmp_path, full,
                               lambda s: Evaluator(s, store, executor, scenarios), spec.trials)
    assert [f.scenario for f in folds] == ["toy-mmc", "toy-busy"]
    assert [f.fitted_on for f in folds] == [["toy-busy"], ["toy-mmc"]]
    assert folds[0].best.values == {"terminals.dover.stages.french_border.booths": second_booths}
    assert pass_rates(folds) == (expected_rate, expected_rate)
    table = folds_markdown(folds, spec)
    assert "| `toy-mmc` |" in table and f"({expected_rate:.0%})" in table
