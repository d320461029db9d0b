"""Experiments: points (scenarios) × replications, run through an executor into the store.

An ensemble is one point; a sweep or a sensitivity study is many. Each point's
replications take their seeds from a seed key: the scenario's own hash for an
ensemble, the base scenario's hash for every point of a sweep or sensitivity
study (common random numbers, so points differ by their parameters, not by
luck). Rerunning an experiment skips every replication already in the store.
"""

from __future__ import annotations

import hashlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from straits import __version__
from straits.experiments.executors import Executor
from straits.experiments.replication import Task, run_task
from straits.experiments.seeds import replication_seed
from straits.experiments.store import ResultsStore
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


def missing_tasks(experiment: Experiment, store: ResultsStore) -> tuple[list[Task], int]:
    """Tasks not yet in the store (each scenario and replication once), and how many
    replications need no run (stored, or shared with an identical point)."""
    tasks, skipped, planned = [], 0, set()
    for point in experiment.points:
        done = store.done_replications(point.scenario_hash, experiment.seed_key)
        for replication in range(experiment.replications):
            if replication in done or (point.scenario_hash, replication) in planned:
                skipped += 1
                continue
            planned.add((point.scenario_hash, replication))
            tasks.append(Task(point.scenario, point.scenario_hash, experiment.seed_key,
                              replication, replication_seed(experiment.seed_key, replication),
                              point.index))
    return tasks, skipped


def run_experiment(experiment: Experiment, store: ResultsStore, executor: Executor,
                   on_start: Callable[[int, int], None] | None = None,
                   on_done: Callable[[], None] | None = None) -> RunReport:
    """Run what is missing, committing each replication as it finishes.

    ``on_start(total, skipped)`` is called once the plan is known and
    ``on_done()`` after every committed replication (for a progress bar).
    On an interrupt, everything committed so far stays in the store.
    """
    began = time.perf_counter()
    register(experiment, store)
    tasks, skipped = missing_tasks(experiment, store)
    total = experiment.replications * len(experiment.points)
    report = RunReport(experiment.experiment_id, total, skipped)
    if on_start is not None:
        on_start(total, skipped)
    by_index = {p.index: p for p in experiment.points}
    try:
        with _interrupt_between_commits() as interrupted:
            for outcome in executor.imap_unordered(run_task, _lean(tasks)):
                point = by_index[outcome.point]
                stored, stored_cpu = time.perf_counter(), time.process_time()
                store.add_outcome(outcome, point.scenario.name, point.parameters)
                report.store_seconds += time.perf_counter() - stored
                report.store_cpu_seconds += time.process_time() - stored_cpu
                report.compute_seconds += outcome.simulate_seconds + outcome.series_seconds
                report.ran += 1
                if on_done is not None:
                    on_done()
                if interrupted():
                    raise KeyboardInterrupt
    finally:
        report.wall_seconds = time.perf_counter() - began
        store.refresh_views()
    return report


@contextmanager
def _interrupt_between_commits() -> Iterator[Callable[[], bool]]:
    """Let a first Ctrl-C stop the run after the replication in hand is committed.

    Without this, Ctrl-C would land inside a database write (DuckDB aborts the
    statement) or mid-replication; a second Ctrl-C stops at once.
    """
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    pressed: list[bool] = []

    def on_interrupt(signum: int, frame: object) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(True)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def _lean(tasks: list[Task]) -> Iterator[Task]:
    """Hand tasks out one by one, dropping each from the list once handed out."""
    tasks.reverse()
    while tasks:
        yield tasks.pop()
