"""The background run queue: one worker thread runs jobs in the order they came.

A submitted job is never dropped: it waits its turn, then runs one replication
at a time so its progress can be polled. Finished runs are kept in memory for
the session (the most recent ``keep`` of them) and, when a results store is
given, saved there too; the worker keeps going after a failed job and records
why it failed.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb
import plotly.graph_objects as go

from straits.experiments.store import StoreError
from straits.pipeline import simulate
from straits.report import RunData, report_figures
from straits.report.sources import replication_from_result
from straits.scenario import Scenario
from straits.web.archive import Archive

Status = Literal["queued", "running", "done", "failed"]


@dataclass
class Job:
    number: int
    label: str
    scenario: Scenario
    seeds: list[int]
    submitted: float = field(default_factory=time.time)
    status: Status = "queued"
    done: int = 0
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    data: RunData | None = None
    experiment_id: str | None = None
    stored: str = "kept in memory for this session"
    _figures: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def id(self) -> str:
        return f"r{self.number}"

    @property
    def total(self) -> int:
        return len(self.seeds)

    def figures(self) -> dict[str, Any]:
        """The report's figures as plotly JSON, built once per run."""
        assert self.data is not None
        with self._lock:
            if self._figures is None:
                self._figures = figures_json(report_figures(self.data))
            return self._figures


def figures_json(figures: dict[str, go.Figure]) -> dict[str, Any]:
    return {name: fig.to_plotly_json() for name, fig in figures.items()}


class JobQueue:
    """Jobs run one at a time by a single daemon worker thread."""

    def __init__(self, keep: int = 50, store: Path | None = None):
        self.keep = keep
        self.store = store
        self._jobs: dict[str, Job] = {}
        self._pending: queue.Queue[Job] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._worker = threading.Thread(target=self._work, name="straits-runs", daemon=True)
        self._worker.start()

    def submit(self, label: str, scenario: Scenario, seeds: list[int]) -> Job:
        with self._lock:
            job = Job(next(self._ids), label, scenario, seeds)
            self._jobs[job.id] = job
            self._forget_old()
        self._pending.put(job)
        return job

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

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.status in ("done", "failed")]
        for job in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job.id]

    def _work(self) -> None:
        while True:
            job = self._pending.get()
            job.status, job.started = "running", time.time()
            try:
                job.data = self._run(job)
                job.status = "done"
            except Exception as exc:
                job.error = f"{type(exc).__name__}: {exc}"
                job.status = "failed"
                traceback.print_exc()
            finally:
                job.finished = time.time()
                self._pending.task_done()

    def _run(self, job: Job) -> RunData:
        """Replication by replication: progress for the poller, each one stored as it ends."""
        archive = self._archive(job)
        replications = []
        try:
            for i, seed in enumerate(job.seeds):
                began = time.perf_counter()
                result = simulate(job.scenario, seed)
                if archive is not None:
                    archive.add(i, result, time.perf_counter() - began)
                replications.append(replication_from_result(result))
                job.done = i + 1
        finally:
            if archive is not None:
                archive.close()
        return RunData(job.label, job.scenario, tuple(replications))

    def _archive(self, job: Job) -> Archive | None:
        if self.store is None:
            return None
        try:
            archive = Archive(self.store, job.scenario, job.seeds)
        except (OSError, duckdb.Error, StoreError) as exc:
            job.stored = f"not saved (results store unavailable: {exc}); kept in memory"
            return None
        job.experiment_id = archive.experiment_id
        job.stored = f"saved to {self.store} as experiment {archive.experiment_id}"
        return archive
