"""The background run queue: one worker thread runs jobs in the order they came.

A submitted job waits its turn, then runs one replication at a time so its
progress can be polled and it can be stopped between replications (the queue
itself: :mod:`straits.web.work_queue`). With a results store the queue is
persisted (:mod:`straits.web.ledger`): on start, runs left queued are queued
again and a run interrupted while running is resumed once (its stored
replications are not stored twice) and marked failed if it is interrupted
again. Finished runs keep their KPIs; their results stay in memory up to
``retained_bytes`` (oldest dropped first, still in the store). The worker keeps
going after a failed job and records why it failed in one short line.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.io

from straits.experiments.store import StoreError
from straits.pipeline import simulate
from straits.report import RunData, report_figures
from straits.report.kpi_table import KpiRow, kpi_rows
from straits.report.sources import replication_from_result
from straits.scenario import Scenario, ScenarioError, scenario_from_text, scenario_to_yaml
from straits.web.archive import Archive
from straits.web.ledger import RunLedger
from straits.web.work_queue import QueuedJob, Status, WorkQueue, failure_message, log

FINISHED: tuple[Status, ...] = ("done", "failed", "cancelled", "stopped")
MAX_ATTEMPTS = 2  # a run interrupted twice (by server stops) is not resumed again
STORE_ERRORS = (OSError, duckdb.Error, StoreError)  # the store failing, never the run


@dataclass
class Job(QueuedJob):
    prefix = "r"
    finished_statuses = FINISHED
    label: str
    scenario: Scenario
    seeds: list[int]
    submitted: float = field(default_factory=time.time)
    done: int = 0
    attempts: int = 0
    data: RunData | None = None
    kpis: list[KpiRow] | None = None
    experiment_id: str | None = None
    stored: str = "kept in memory for this session"
    dropped: bool = False  # results dropped from memory to respect the cap
    _figures: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total(self) -> int:
        return len(self.seeds)

    def figures(self) -> bytes:
        """The report's figures as plotly JSON (bytes), built once per run."""
        with self._lock:
            if self._figures is None:
                assert self.data is not None
                self._figures = figures_json_bytes(report_figures(self.data))
            return self._figures

    def retained_bytes(self) -> int:
        """Memory held by this run's results (tables, delays, figure JSON)."""
        if self.data is None:
            return 0
        size = len(self._figures or b"")
        for replication in self.data.replications:
            size += replication.holding.nbytes
            if replication.departures is not None:
                size += replication.departures.nbytes
            size += sum(a.nbytes for a in (replication.delays_minutes or {}).values())
        return size


def figures_json(figures: dict[str, go.Figure]) -> dict:
    return {name: fig.to_plotly_json() for name, fig in figures.items()}


def figures_json_bytes(figures: dict[str, go.Figure]) -> bytes:
    return plotly.io.json.to_json_plotly(figures_json(figures)).encode()


class JobQueue(WorkQueue[Job]):
    """Runs, one at a time, by a single daemon worker thread."""

    def __init__(self, keep: int = 50, store: Path | None = None,
                 retained_bytes: int = 512 * 1024**2):
        self.store = store
        self.retained_limit = retained_bytes
        self.ledger = self._open_ledger(store)
        super().__init__(keep, "straits-runs",
                         (self.ledger.last_number() if self.ledger else 0) + 1)
        if self.ledger is not None:
            self._restore(self.ledger)
        self._worker.start()

    def submit(self, label: str, scenario: Scenario, seeds: list[int]) -> Job:
        with self._lock:
            job = Job(next(self._ids), label, scenario, seeds)
            if self.ledger is not None:
                try:
                    self.ledger.add(job.number, label, scenario_to_yaml(scenario), seeds)
                except STORE_ERRORS as exc:
                    log.warning("run %s is queued in memory only: %s", job.id, exc)
            return self._enqueue(job)

    # --- persistence ------------------------------------------------------------------------------
    def _open_ledger(self, store: Path | None) -> RunLedger | None:
        if store is None:
            return None
        try:
            return RunLedger(store)
        except STORE_ERRORS as exc:
            log.warning("the run queue is not persisted (results store unavailable: %s)", exc)
            return None

    def _restore(self, ledger: RunLedger) -> None:
        """Queue again what the last server left queued or running (see module docstring)."""
        for row in ledger.unfinished():
            try:
                scenario = scenario_from_text(row.scenario_yaml, source=f"r{row.number}")
            except ScenarioError as exc:
                ledger.set_status(row.number, "failed", row.attempts,
                                  error=f"not resumed: {failure_message(exc)}")
                continue
            job = Job(row.number, row.label, scenario, list(row.seeds), attempts=row.attempts,
                      experiment_id=row.experiment_id)
            self._jobs[job.id] = job
            if row.status == "running" and row.attempts >= MAX_ATTEMPTS:
                self._finish(job, "failed", f"interrupted by a server stop {row.attempts} times; "
                                            "not resumed again")
                continue
            if row.status == "running":
                job.stored = "resumed after a server restart"
                ledger.set_status(row.number, "queued", row.attempts)
            self._pending.put(job)

    def _record(self, job: Job) -> None:
        if self.ledger is None:
            return
        try:
            self.ledger.set_status(job.number, job.status, job.attempts, job.experiment_id,
                                   job.error)
        except STORE_ERRORS as exc:  # the run goes on; only its record lags
            log.warning("could not record run %s in the results store: %s", job.id, exc)

    def _finish(self, job: Job, status: Status, error: str | None = None) -> None:
        super()._finish(job, status, error)
        if job.data is not None:
            job.kpis = kpi_rows(job.data)
        self._record(job)

    # --- memory --------------------------------------------------------------------------
    def trim(self) -> None:
        """Drop the oldest finished runs' results until the rest fit in the memory cap
        (the newest run is always kept; dropped runs keep their KPIs and stay in the store)."""
        with self._lock:
            held = [j for j in self._jobs.values() if j.data is not None]
            total = sum(j.retained_bytes() for j in held)
            for job in held[:-1]:
                if total <= self.retained_limit:
                    break
                total -= job.retained_bytes()
                job.data, job._figures, job.dropped = None, None, True

    # --- the worker ------------------------------------------------------------------------
    def _begin(self, job: Job) -> None:
        super()._begin(job)
        job.attempts += 1
        self._record(job)

    def _execute(self, job: Job) -> None:
        data = self._run(job)
        with self._lock:
            job.data = data
            stopped = job.done < job.total
            self._finish(job, "stopped" if stopped else "done",
                         f"stopped by the user after {job.done} of {job.total} "
                         f"replications" if stopped else None)
        self.trim()

    def _run(self, job: Job) -> RunData | None:
        """Replication by replication: progress for the poller, each one stored as it ends."""
        archive = self._archive(job)
        replications = []
        try:
            for i, seed in enumerate(job.seeds):
                if job.stop_requested.is_set():
                    break
                began = time.perf_counter()
                result = simulate(job.scenario, seed)
                if archive is not None:
                    archive.add(i, result, time.perf_counter() - began)
                replications.append(replication_from_result(result))
                job.done = i + 1
        finally:
            if archive is not None:
                archive.close()
            if job.done < job.total and job.experiment_id:
                job.stored = (f"partial: {job.done} of {job.total} replications saved to "
                              f"{self.store} as experiment {job.experiment_id}")
        if not replications:
            return None
        return RunData(job.label, job.scenario, tuple(replications))

    def _archive(self, job: Job) -> Archive | None:
        if self.store is None:
            return None
        try:
            archive = Archive(self.store, job.scenario, job.seeds)
        except STORE_ERRORS as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            job.stored = f"not saved (results store unavailable: {reason}); kept in memory"
            return None
        job.experiment_id = archive.experiment_id
        job.stored = f"saved to {self.store} as experiment {archive.experiment_id}"
        self._record(job)
        return archive
