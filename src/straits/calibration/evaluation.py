"""Evaluating candidates: the validation scenarios with a candidate's values,
run as experiments through the executors into the results store.

A candidate is one experiment (kind ``calibration``): one point per validation
scenario, every point with the same seeds (common random numbers, also across
candidates, so two candidates differ by their values, not by luck). Each
replication also records the validation measures as KPIs ``target.<id>``.
A replication already in the store (same scenario, seed, version) is never run
again: a killed calibration loses only the replications in hand, and
candidates the search proposes twice (whole booths) cost nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from straits.calibration.objective import Fit, fit
from straits.calibration.spec import Spec, inherited_paths
from straits.experiments.ensemble import (
    Experiment,
    make_point,
    plan_tasks,
    register,
    run_replications,
)
from straits.experiments.executors import Executor
from straits.experiments.statistics import KpiStatistics, experiment_statistics
from straits.experiments.store import ResultsStore
from straits.experiments.sweep import apply_overrides, scenario_mapping
from straits.experiments.tasks import Task, TaskResult
from straits.pipeline import RunResult
from straits.scenario import Scenario, load_scenario
from straits.validation.measures import Measure

TARGET_KPI = "target."
KIND = "calibration"
# the run's own KPIs a calibration reads (the spread over the accepted set); the rest are
# not stored, which keeps the coordinator's writes small
SPREAD_KPIS = (
    "directions.southbound.delay_minutes.mean",
    "directions.southbound.queue_peak_km",
    "stack_or_brock.days_active",
)


def seed_key(seed: int) -> str:
    """The seed key every candidate shares (hex, as experiments' seed keys)."""
    return hashlib.sha256(f"straits-calibration:{seed}".encode()).hexdigest()[:16]


def measure_targets(measures: tuple[tuple[str, Measure], ...],
                    result: RunResult) -> dict[str, float]:
    """The ``Task.measure`` hook: each target's measure of the run, as ``target.<id>``.

    It runs in the worker, where the records are; only the numbers come back.
    """
    return {TARGET_KPI + key: float(measure(result)) for key, measure in measures}


def with_targets(result: TaskResult) -> TaskResult:
    """The result as stored: its target measures as KPI rows (so a resumed calibration
    reads them back), and of the rest only what a calibration reads (the spread KPIs
    and the totals of the holding series: calibration runs are read for their
    numbers, not their bands)."""
    series = result.series
    totals = [i for i, kind in enumerate(series.kinds) if kind == "total"]
    series = replace(series, directions=[series.directions[i] for i in totals],
                     places=[series.places[i] for i in totals], kinds=["total"] * len(totals),
                     lorries=series.lorries[totals], km=series.km[totals])
    kept = [i for i, name in enumerate(result.kpi_names) if name in SPREAD_KPIS]
    names = [result.kpi_names[i] for i in kept] + list(result.measured)
    values = np.concatenate([result.kpi_values[kept],
                             np.fromiter(result.measured.values(), dtype=np.float64)])
    return replace(result, kpi_names=names, kpi_values=values, series=series)


@dataclass(frozen=True)
class Evaluation:
    """A candidate's predictions: one fit per target, and the experiment that holds them."""

    values: dict[str, Any]  # path -> scenario value
    fits: dict[str, Fit]
    replications: int
    experiment_id: str


class Evaluator:
    """Runs candidates for a spec's targets through ``executor`` into ``store``."""

    def __init__(self, spec: Spec, store: ResultsStore, executor: Executor,
                 scenarios: dict[str, Scenario] | None = None):
        self.spec = spec
        self.store = store
        self.executor = executor
        self.seed_key = seed_key(spec.seed)
        supplied = scenarios or {}
        names = list(dict.fromkeys(t.scenario for t in spec.targets))
        self.mappings = {n: scenario_mapping(supplied.get(n) or load_scenario(n)) for n in names}
        home_values = {p.path: p.home_value for p in spec.parameters}
        self.inherited = {n: inherited_paths(m, home_values) for n, m in self.mappings.items()}
        # every target of a scenario is measured, so stored runs serve any spec or fold
        self.measures = {n: partial(measure_targets, tuple((t.key, t.measure)
                                                           for t in spec.catalogue
                                                           if t.scenario == n))
                         for n in names}

    def experiment(self, values: dict[str, Any], replications: int,
                   names: list[str] | None = None) -> Experiment:
        """The candidate as an experiment: its values in each scenario that inherits them."""
        names = names or list(self.mappings)
        points = []
        for index, name in enumerate(names):
            own = {path: values[path] for path in self.inherited[name]}
            scenario = apply_overrides(self.mappings[name], own)
            points.append(make_point(index, scenario, values))
        return Experiment(KIND, points[0].scenario, points, replications, self.seed_key,
                          {"spec": self.spec.name, "scenarios": names})

    def evaluate(self, candidates: list[dict[str, Any]], replications: int,
                 names: list[str] | None = None) -> list[Evaluation]:
        """Run what is missing for every candidate (in parallel), then read their fits."""
        experiments = [self.experiment(values, replications, names) for values in candidates]
        tasks = list(self._missing(experiments))
        by_hash = {p.scenario_hash: (p.scenario.name, p.parameters)
                   for e in experiments for p in e.points}
        for result in run_replications(tasks, self.executor):
            name, parameters = by_hash[result.scenario_hash]
            self.store.add_result(with_targets(result), name, parameters)
        return [self._read(e, values) for e, values in zip(experiments, candidates, strict=True)]

    def _missing(self, experiments: list[Experiment]) -> Iterator[Task]:
        planned: set[tuple[str, int]] = set()
        for e in experiments:
            register(e, self.store)
            for task in plan_tasks(e, self.store).tasks:
                if (task.scenario_hash, task.replication) not in planned:
                    planned.add((task.scenario_hash, task.replication))
                    yield replace(task, measure=self.measures[task.scenario.name])

    def statistics(self, experiment: Experiment, pattern: str | None = None
                   ) -> dict[str, dict[str, KpiStatistics]]:
        """Per scenario of the experiment, its KPI statistics (by name)."""
        table = experiment_statistics(self.store, experiment.experiment_id, pattern)
        return {p.scenario.name: {s.kpi: s for s in table.get(p.index, [])}
                for p in experiment.points}

    def _read(self, experiment: Experiment, values: dict[str, Any]) -> Evaluation:
        by_scenario = self._target_values(experiment)
        fits = {}
        for target in self.spec.targets:
            if target.scenario not in by_scenario:
                continue
            runs = by_scenario[target.scenario].get(TARGET_KPI + target.key, [])
            if len(runs) < experiment.replications:
                raise RuntimeError(f"{target.key}: {len(runs)} of {experiment.replications} "
                                   "replications in the store")
            mean = math.fsum(runs) / len(runs)
            std = (math.sqrt(math.fsum((v - mean) ** 2 for v in runs) / (len(runs) - 1))
                   if len(runs) > 1 else None)
            fits[target.key] = fit(target, mean, std, len(runs))
        return Evaluation(values, fits, experiment.replications, experiment.experiment_id)

    def _target_values(self, experiment: Experiment) -> dict[str, dict[str, list[float]]]:
        """Per scenario and target KPI, the values of replications 0..R-1 in order.

        Means are summed exactly (``math.fsum``), so a candidate's score does not
        depend on the order its replications were stored in: the search then
        makes the same choices on any number of workers.
        """
        table = self.store.kpi_values(experiment.experiment_id, TARGET_KPI)
        names = {p.index: p.scenario.name for p in experiment.points}
        out: dict[str, dict[str, list[float]]] = {}
        for point, kpi, runs in zip(*(table[c].to_pylist() for c in ("point", "kpi", "values")),
                                    strict=True):
            out.setdefault(names[point], {})[kpi] = runs
        return out
