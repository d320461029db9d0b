"""Plans through the experiments machinery: executors, seeds and the results store.

Each call is one experiment (kind ``optimise``) whose points are the plans,
all with the same seed key (common random numbers). Replications already in
the store are not run again, which is what makes a killed study resumable.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from straits import __version__
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
        return {p.index: kpi_values(self.store, p.scenario_hash, seed_key, replications, kpis)
                for p in points}


def kpi_values(store: ResultsStore, scenario_hash: str, seed_key: str, replications: int,
               kpis: list[str]) -> dict[str, np.ndarray]:
    """Each KPI's value in replications 0 … ``replications``−1, in replication order."""
    table = store.query(
        "SELECT k.kpi, r.replication, k.value FROM runs r JOIN kpis k USING (run_id) "
        "WHERE r.scenario_hash = ? AND r.seed_key = ? AND r.replication < ? "
        "AND r.straits_version = ? AND list_contains(?::VARCHAR[], k.kpi) "
        "ORDER BY k.kpi, r.replication",
        [scenario_hash, seed_key, replications, __version__, kpis]).to_pydict()
    out: dict[str, list[float]] = {k: [] for k in kpis}
    for kpi, value in zip(table["kpi"], table["value"], strict=True):
        out[kpi].append(value)
    missing = [k for k, v in out.items() if len(v) != replications]
    if missing:
        raise ValueError(f"KPI {missing[0]} was not recorded in every replication of "
                         f"{scenario_hash}; it cannot be an objective or constraint")
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def all_statistics(store: ResultsStore, scenario_hash: str, seed_key: str,
                   replications: int) -> dict[str, np.ndarray]:
    """Every KPI of a plan (for its full report), per replication."""
    table = store.query(
        "SELECT k.kpi, k.value FROM runs r JOIN kpis k USING (run_id) "
        "WHERE r.scenario_hash = ? AND r.seed_key = ? AND r.replication < ? "
        "AND r.straits_version = ? ORDER BY k.kpi, r.replication",
        [scenario_hash, seed_key, replications, __version__]).to_pydict()
    out: dict[str, list[float]] = {}
    for kpi, value in zip(table["kpi"], table["value"], strict=True):
        out.setdefault(kpi, []).append(value)
    return {k: np.asarray(v) for k, v in out.items()}
