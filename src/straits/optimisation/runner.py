"""Plans through the experiments machinery: executors, seeds and the results store.

Each call is one experiment (kind ``optimise``) whose points are the plans,
all with the same seed key (common random numbers). Replications already in
the store are not run again, which is what makes a killed study resumable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from straits.experiments.ensemble import Experiment, make_point, run_experiment
from straits.experiments.executors import Executor
from straits.experiments.store import ResultsStore
from straits.optimisation.search import Plan
from straits.scenario import Scenario


class StoreEvaluator:
    """Runs plans with ``executor`` into ``store`` and reads their KPIs back."""

    def __init__(self, base: Scenario, store: ResultsStore, executor: Executor, study: str,
                 on_replication: Callable[[], None] | None = None):
        self.base = base
        self.store = store
        self.executor = executor
        self.study = study
        self.on_replication = on_replication
        self.replications_run = 0

    def evaluate(self, plans: list[Plan], replications: int, seed_key: str,
                 kpis: list[str]) -> dict[int, dict[str, np.ndarray]]:
        points = [make_point(p.number, p.scenario, p.values) for p in plans]
        experiment = Experiment("optimise", self.base, points, replications, seed_key,
                                design={"study": self.study})
        report = run_experiment(experiment, self.store, self.executor,
                                on_done=self.on_replication)
        self.replications_run += report.ran
        return kpi_values(self.store.kpi_rows(experiment.experiment_id),
                          [p.index for p in points], replications, kpis)


def kpi_values(rows: pa.Table, points: list[int], replications: int, kpis: list[str]
               ) -> dict[int, dict[str, np.ndarray]]:
    """Per point, each KPI's values in replications 0 … ``replications``−1, in order."""
    wanted = set(kpis)
    out: dict[int, dict[str, list[float]]] = {p: {k: [] for k in kpis} for p in points}
    data = rows.to_pydict()
    for point, replication, kpi, value in zip(data["point"], data["replication"], data["kpi"],
                                              data["value"], strict=True):
        if kpi in wanted and replication < replications and point in out:
            out[point][kpi].append(value)
    for point, values in out.items():
        missing = [k for k, v in values.items() if len(v) != replications]
        if missing:
            raise ValueError(f"KPI {missing[0]} was not recorded in every replication of plan "
                             f"{point}; it cannot be an objective or constraint")
    return {p: {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
            for p, values in out.items()}
