"""The background run queue: one worker thread runs jobs in the order they came.

A submitted job waits its turn, then runs one replication at a time so its
progress can be polled and it can be stopped between replications. With a
results store the queue itself is persisted (:mod:`straits.web.ledger`): on
start, runs left queued are queued again and a run interrupted while running
is resumed once (its stored replications are not stored twice) and marked
failed if it is interrupted again. Finished runs keep their KPIs; their
results stay in memory up to ``retained_bytes`` (oldest dropped first, still
in the store). The worker keeps going after a failed job and records why it
failed in one short line.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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

Status = Literal["queued", "running", "done", "failed", "cancelled", "stopped"]
FINISHED = ("done", "failed", "cancelled", "stopped")
MAX_ATTEMPTS = 2  # a run interrupted twice (by server stops) is not resumed again
log = logging.getLogger("straits.web")


@dataclass
class Job:
    number: int
    label: str
    scenario: Scenario
    seeds: list[int]
    submitted: float = field(default_factory=time.time)
    status: Status = "queued"
    done: int = 0
    attempts: int = 0
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    data: RunData | None = None
    kpis: list[KpiRow] | None = None
    experiment_id: str | None = None
    stored: str = "kept in memory for this session"
    dropped: bool = False  # results dropped from memory to respect the cap
    stop_requested: threading.Event = field(default_factory=threading.Event)
    _figures: bytes | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def id(self) -> str:
        return f"r{self.number}"

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


def failure_message(exc: BaseException) -> str:
    """One short line for the user; the traceback goes to the server log only."""
    if isinstance(exc, ScenarioError):
        text = f"{exc.field}: {exc.message}" if exc.field else exc.message
    elif isinstance(exc, MemoryError):
        text = "the run ran out of memory; shorten the horizon or ask for fewer replications"
    else:
        text = f"the simulation failed ({type(exc).__name__}); the server log has the details"
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:199] + "…"


class JobQueue:
    """Jobs run one at a time by a single daemon worker thread."""

    def __init__(self, keep: int = 50, store: Path | None = None,
                 retained_bytes: int = 512 * 1024**2):
        self.keep = keep
        self.store = store
        self.retained_limit = retained_bytes
        self._jobs: dict[str, Job] = {}
        self._pending: queue.Queue[Job] = queue.Queue()
        self._lock = threading.Lock()
        self.ledger = self._open_ledger(store)
        self._ids = itertools.count((self.ledger.last_number() if self.ledger else 0) + 1)
        if self.ledger is not None:
            self._restore(self.ledger)
        self._worker = threading.Thread(target=self._work, name="straits-runs", daemon=True)
        self._worker.start()

    # --- what the app calls ---------------------------------------------------------------------
    def submit(self, label: str, scenario: Scenario, seeds: list[int]) -> Job:
        with self._lock:
            job = Job(next(self._ids), label, scenario, seeds)
            if self.ledger is not None:
                try:
                    self.ledger.add(job.number, label, scenario_to_yaml(scenario), seeds)
                except (OSError, duckdb.Error) as exc:
                    log.warning("run %s is queued in memory only: %s", job.id, exc)
            self._jobs[job.id] = job
            self._forget_old()
        self._pending.put(job)
        return job

    def cancel(self, job: Job) -> bool:
        """Cancel a queued job or stop a running one after its current replication;
        False if it has finished already."""
        with self._lock:
            if job.status == "queued":
                self._finish(job, "cancelled")
                return True
            if job.status == "running":
                job.stop_requested.set()
                return True
            return False

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def position(self, job: Job) -> int:
        """How many jobs run before this one (0 once it is running or finished)."""
        if job.status != "queued":
            return 0
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status == "running"
                       or (j.status == "queued" and j.number < job.number))

    # --- persistence ------------------------------------------------------------------------------
    def _open_ledger(self, store: Path | None) -> RunLedger | None:
        if store is None:
            return None
        try:
            return RunLedger(store)
        except (OSError, duckdb.Error) as exc:
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
        except (OSError, duckdb.Error) as exc:  # the run goes on; only its record lags
            log.warning("could not record run %s in the results store: %s", job.id, exc)

    def _finish(self, job: Job, status: Status, error: str | None = None) -> None:
        job.status, job.error, job.finished = status, error, time.time()
        if job.data is not None:
            job.kpis = kpi_rows(job.data)
        self._record(job)

    # --- memory --------------------------------------------------------------------------
    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in FINISHED]
        for job in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job.id]

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
    def _work(self) -> None:
        while True:
            job = self._pending.get()
            with self._lock:
                if job.status != "queued":  # cancelled while it waited
                    continue
                job.status, job.started = "running", time.time()
                job.attempts += 1
                self._record(job)
            try:
                data = self._run(job)
            except Exception as exc:
                log.exception("run %s failed", job.id)
                with self._lock:
                    self._finish(job, "failed", failure_message(exc))
            else:
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
        except (OSError, duckdb.Error, StoreError) as exc:
            reason = (str(exc).splitlines() or [type(exc).__name__])[0][:160]
            job.stored = f"not saved (results store unavailable: {reason}); kept in memory"
            return None
        job.experiment_id = archive.experiment_id
        job.stored = f"saved to {self.store} as experiment {archive.experiment_id}"
        self._record(job)
        return archive
