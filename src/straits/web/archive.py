"""Dashboard runs written to the results store, so they outlive the session.

Each run becomes an ensemble experiment of its scenario (with the levers
applied); its replications are committed one by one as they finish, exactly
as ``straits ensemble`` does, so ``straits results list`` and ``straits report
EXPERIMENT_ID`` see them. The seed key records the run's first seed.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from straits.experiments.ensemble import Experiment, make_point, register
from straits.experiments.store import ResultsStore
from straits.experiments.tasks import TaskResult, flatten_kpis, holding_series
from straits.pipeline import RunResult
from straits.scenario import Scenario


class Archive:
    """One run being written to the store (open for the run's duration)."""

    def __init__(self, path: Path, scenario: Scenario, seeds: Sequence[int]):
        point = make_point(0, scenario, {})
        self.scenario = scenario
        self.scenario_hash = point.scenario_hash
        self.experiment = Experiment("ensemble", scenario, [point], len(seeds),
                                     seed_key=f"{seeds[0]:016x}",
                                     design={"source": "dashboard", "first_seed": seeds[0]})
        self.store = ResultsStore(path)
        register(self.experiment, self.store)

    @property
    def experiment_id(self) -> str:
        return self.experiment.experiment_id

    def add(self, replication: int, result: RunResult, simulate_seconds: float) -> None:
        kpis = flatten_kpis(result.summary)
        self.store.add_result(TaskResult(
            scenario_hash=self.scenario_hash, seed_key=self.experiment.seed_key,
            replication=replication, seed=result.seed, point=0, kpi_names=list(kpis),
            kpi_values=np.fromiter(kpis.values(), dtype=np.float64, count=len(kpis)),
            series=holding_series(self.scenario, result.records),
            simulate_seconds=simulate_seconds, series_seconds=0.0,
            worker=f"{socket.gethostname()}:{os.getpid()} (dashboard)",
        ), self.scenario.name, {})

    def close(self) -> None:
        self.store.close()
