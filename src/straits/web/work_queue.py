"""What the dashboard's run queue and study queue share: jobs kept by id, run one at a
time in submission order by a daemon worker thread (never on the event loop).

A queued job can be cancelled outright; a running one is asked to stop at its next
safe point (between replications, or between a study's batches). Only the newest
``keep`` jobs are remembered, finished ones forgotten first, so memory is bounded
however long the server runs. A job that raises is marked failed with one short
line (:func:`failure_message`); the traceback goes to the server log only.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
from dataclasses import KW_ONLY, dataclass, field
from typing import ClassVar, Generic, Literal, TypeVar

from straits.scenario import ScenarioError

Status = Literal["queued", "running", "done", "failed", "cancelled", "stopped"]
log = logging.getLogger("straits.web")


@dataclass
class QueuedJob:
    """The state every queued job has; ``prefix`` makes its id (``r12``, ``s3``)."""

    prefix: ClassVar[str]
    finished_statuses: ClassVar[tuple[Status, ...]]
    number: int
    _: KW_ONLY
    status: Status = "queued"
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    stop_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        return f"{self.prefix}{self.number}"


JobT = TypeVar("JobT", bound=QueuedJob)


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


class WorkQueue(Generic[JobT]):
    """Jobs by id and one worker thread; subclasses say how a job runs (:meth:`_execute`)."""

    def __init__(self, keep: int, thread_name: str, first_number: int = 1):
        self.keep = keep
        self._jobs: dict[str, JobT] = {}
        self._pending: queue.Queue[JobT] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(first_number)
        self._worker = threading.Thread(target=self._work, name=thread_name, daemon=True)

    # --- what the app calls ---------------------------------------------------------------
    def get(self, job_id: str) -> JobT | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[JobT]:
        with self._lock:
            return list(self._jobs.values())

    def waiting(self) -> int:
        """Jobs queued and not yet started (what a server caps)."""
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status == "queued")

    def position(self, job: JobT) -> int:
        """How many jobs run before this one (0 once it is running or finished)."""
        if job.status != "queued":
            return 0
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.status == "running"
                       or (j.status == "queued" and j.number < job.number))

    def cancel(self, job: JobT) -> bool:
        """Cancel a queued job, or ask a running one to stop at its next safe point;
        False if it has finished already."""
        with self._lock:
            if job.status == "queued":
                self._finish(job, "cancelled")
                return True
            if job.status == "running":
                job.stop_requested.set()
                return True
            return False

    # --- for subclasses -------------------------------------------------------------------
    def _enqueue(self, job: JobT) -> JobT:
        """Remember ``job`` (made with ``next(self._ids)`` under the lock) and queue it."""
        self._jobs[job.id] = job
        finished = [j for j in self._jobs.values() if j.status in job.finished_statuses]
        for old in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[old.id]
        self._pending.put(job)
        return job

    def _begin(self, job: JobT) -> None:
        """Mark a job running (under the lock)."""
        job.status, job.started = "running", time.time()

    def _finish(self, job: JobT, status: Status, error: str | None = None) -> None:
        """Mark a job finished (under the lock)."""
        job.status, job.error, job.finished = status, error, time.time()

    def _execute(self, job: JobT) -> None:
        """Run the job and finish it; an exception marks it failed."""
        raise NotImplementedError

    def _work(self) -> None:
        while True:
            job = self._pending.get()
            with self._lock:
                if job.status != "queued":  # cancelled while it waited
                    continue
                self._begin(job)
            try:
                self._execute(job)
            except Exception as exc:
                log.exception("%s failed", job.id)
                with self._lock:
                    self._finish(job, "failed", failure_message(exc))
