"""Experiments: points (scenarios) × replications, run through an executor into the store.

An ensemble is one point; a sweep or a sensitivity study is many. Each point's
replications take their seeds from a seed key: the scenario's own hash for an
ensemble, the base scenario's hash for every point of a sweep or sensitivity
study (common random numbers, so points differ by their parameters, not by
luck). Rerunning an experiment skips every replication already in the store.

Public entry points (what calibration and the web use): :func:`ensemble`,
:func:`straits.experiments.sweep.grid_sweep` / ``lhs_sweep`` to build an
experiment, :func:`run_experiment` to run it into a :class:`ResultsStore`,
then :func:`straits.experiments.statistics.experiment_statistics` and the
store's methods to read it. :func:`run_replications` runs tasks without a store.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from straits import __version__
from straits.experiments.executors import Executor
from straits.experiments.seeds import replication_seed
from straits.experiments.store import ResultsStore
from straits.experiments.tasks import Task, TaskResult, run_task
from straits.scenario import Scenario, scenario_hash, scenario_to_yaml


@dataclass(frozen=True)
class Point:
    """One scenario of an experiment and the parameter values that made it."""

    index: int
    scenario: Scenario
    parameters: dict[str, Any]
    scenario_hash: str


@dataclass(frozen=True)
class Experiment:
    kind: str  # "ensemble", "sweep" or "sensitivity"
    base: Scenario
    points: list[Point]
    replications: int
    seed_key: str
    design: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> dict[str, Any]:
        """Everything that defines the experiment's results (its id is a digest of this)."""
        return {
            "kind": self.kind,
            "scenario": self.base.name,
            "scenario_hash": scenario_hash(self.base),
            "start": self.base.start.isoformat(),
            "seed_key": self.seed_key,
            "replications": self.replications,
            "design": self.design,
            "points": [[p.scenario_hash, p.parameters] for p in self.points],
            "straits_version": __version__,
        }

    @property
    def experiment_id(self) -> str:
        canonical = json.dumps(self.spec, sort_keys=True)
        return f"{self.kind[:3]}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}"


@dataclass
class RunReport:
    """What a run did: replications asked for, found in the store, run now."""

    experiment_id: str
    total: int
    skipped: int
    ran: int = 0
    store_seconds: float = 0.0  # coordinator wall time in store writes
    store_cpu_seconds: float = 0.0  # coordinator CPU time in store writes
    compute_seconds: float = 0.0
    wall_seconds: float = 0.0


def make_point(index: int, scenario: Scenario, parameters: dict[str, Any]) -> Point:
    return Point(index, scenario, parameters, scenario_hash(scenario))


def ensemble(scenario: Scenario, replications: int) -> Experiment:
    """``replications`` independent replications of one scenario."""
    point = make_point(0, scenario, {})
    return Experiment("ensemble", scenario, [point], replications, seed_key=point.scenario_hash)


def register(experiment: Experiment, store: ResultsStore) -> None:
    """Record the experiment, its points and their scenarios in the store."""
    for point in experiment.points:
        store.add_scenario(point.scenario_hash, point.scenario.name,
                           scenario_to_yaml(point.scenario))
    store.add_experiment(
        experiment.experiment_id, experiment.kind, experiment.base.name,
        scenario_hash(experiment.base), experiment.replications, experiment.spec,
        [(p.index, p.scenario_hash, experiment.seed_key, p.parameters)
         for p in experiment.points])


@dataclass
class Plan:
    """What a run will do: tasks handed out lazily (memory does not grow with the
    number of replications) and how many replications need no run."""

    tasks: Iterator[Task]
    to_run: int
    skipped: int


def plan_tasks(experiment: Experiment, store: ResultsStore) -> Plan:
    """Tasks not yet in the store (each scenario and replication once); a replication
    needs no run if it is stored, or shared with an earlier identical point."""
    replications = experiment.replications
    owners: dict[str, tuple[Point, np.ndarray]] = {}
    skipped = 0
    for point in experiment.points:
        if point.scenario_hash in owners:
            skipped += replications
            continue
        done = store.done_replications(point.scenario_hash, experiment.seed_key, replications)
        owners[point.scenario_hash] = (point, done)
        skipped += int(done.sum())

    def tasks() -> Iterator[Task]:
        for point, done in owners.values():
            for replication in range(replications):
                if not done[replication]:
                    yield Task(point.scenario, point.scenario_hash, experiment.seed_key,
                               replication, replication_seed(experiment.seed_key, replication),
                               point.index)

    total = replications * len(experiment.points)
    return Plan(tasks(), total - skipped, skipped)


def run_replications(tasks: Iterable[Task], executor: Executor) -> Iterator[TaskResult]:
    """Run tasks on ``executor`` without a store, yielding results as they finish
    (the caller orders them by replication, so every statistic is deterministic)."""
    return executor.imap_unordered(run_task, tasks)


class Stopped(KeyboardInterrupt):
    """A run stopped by a signal (Ctrl-C or SIGTERM) after committing what finished."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def run_experiment(experiment: Experiment, store: ResultsStore, executor: Executor,
                   on_start: Callable[[int, int], None] | None = None,
                   on_done: Callable[[], None] | None = None) -> RunReport:
    """Run what is missing, committing each replication as it finishes.

    ``on_start(total, skipped)`` is called once the plan is known and
    ``on_done()`` after every committed replication (for a progress bar).
    On Ctrl-C or SIGTERM, everything committed so far stays in the store and
    :class:`Stopped` is raised.
    """
    began = time.perf_counter()
    register(experiment, store)
    plan = plan_tasks(experiment, store)
    total = experiment.replications * len(experiment.points)
    report = RunReport(experiment.experiment_id, total, plan.skipped)
    if on_start is not None:
        on_start(total, plan.skipped)
    by_index = {p.index: p for p in experiment.points}
    try:
        with _stop_between_commits() as stopped:
            for result in run_replications(plan.tasks, executor):
                point = by_index[result.point]
                stored, stored_cpu = time.perf_counter(), time.process_time()
                store.add_result(result, point.scenario.name, point.parameters)
                report.store_seconds += time.perf_counter() - stored
                report.store_cpu_seconds += time.process_time() - stored_cpu
                report.compute_seconds += result.simulate_seconds + result.series_seconds
                report.ran += 1
                if on_done is not None:
                    on_done()
                if stopped():
                    raise Stopped(stopped())
    finally:
        report.wall_seconds = time.perf_counter() - began
    return report


@contextmanager
def _stop_between_commits() -> Iterator[Callable[[], int]]:
    """Let a first Ctrl-C or SIGTERM stop the run after the replication in hand is
    committed; ``stopped()`` returns the signal number (0 while running).

    Without this, a signal would land inside a database write (DuckDB aborts the
    statement) or mid-replication; a second signal stops at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: 0
        return
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        if received:
            raise Stopped(received[0])
        received.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: received[0] if received else 0
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
