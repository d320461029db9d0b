"""Through the real executors and store: same front on 1 and 2 workers; resume re-runs nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from straits.experiments.executors import make_executor
from straits.experiments.store import ResultsStore
from straits.optimisation.runner import StoreEvaluator
from straits.optimisation.spec import study_from_text
from straits.optimisation.study import run_study

STUDY = """
name: short-booths
scenario: short.yaml
variables:
  - path: terminals.dover.stages.french_border.booths
    type: int
    low: 2
    high: 10
    cost: {unit: booth, running_gbp: 30, running_per: hour, source: assumption}
objectives:
  - {kpi: plan.cost_gbp}
  - {kpi: directions.southbound.delay_minutes.mean}
constraints:
  - {kpi: directions.southbound.queue_peak_km, statistic: p90, max: 50}
budget: {trials: 6, batch: 3, replications: 1, front_replications: 2,
         rerun_replications: 2, rerun_plans: 2, seed: 7}
"""


def _front(tmp_path: Path, workers: int, name: str) -> tuple[list, int]:
    (tmp_path / "short.yaml").write_text("extends: baseline\nname: short\nhorizon: 3h\n")
    loaded = study_from_text(STUDY, base_dir=tmp_path)
    executor = make_executor(workers)
    try:
        with ResultsStore(tmp_path / f"{name}.duckdb") as store:
            evaluator = StoreEvaluator(loaded.base, store, executor, "short-booths")
            result = run_study(loaded, evaluator, tmp_path / name)
            again = StoreEvaluator(loaded.base, store, executor, "short-booths")
            run_study(loaded, again, tmp_path / name)  # a rerun finds everything done
    finally:
        executor.close()
    front = [(e.values, {k: v.tolist() for k, v in e.kpis.items()}, e.costs)
             for e in result.found.front]
    return front, again.replications_run


@pytest.mark.slow
def test_same_front_on_one_and_two_workers_and_a_rerun_runs_nothing(tmp_path: Path) -> None:
    one, rerun_one = _front(tmp_path, 1, "one")
    two, _ = _front(tmp_path, 2, "two")
    assert one and one == two
    assert rerun_one == 0
