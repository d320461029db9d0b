"""Optimisation studies from the dashboard: one dedicated worker thread, one study at a time.

A study runs :func:`straits.optimisation.study.run_study` exactly as
``straits optimise`` does (in-process executor, replications into the results
store, the optuna study and the outputs in a folder per study and seed). After
every batch the worker publishes the current front so a poller can watch it
fill in. Plans on that live front are feasible *on the search's seeds* only:
their constraint status stays ``awaiting re-run`` until the study has re-run
the chosen plans on fresh seeds, and only then becomes ``holds`` or ``FAILS``.
A cancel stops the study after its current batch; rerunning the same study,
seed and replications later resumes from the folder (nothing finished is re-run).
Studies are not persisted across server restarts (the CLI resumes a folder).
"""

from __future__ import annotations

import itertools
import logging
import queue
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from straits.optimisation.spec import LoadedStudy
from straits.web.jobs import failure_message

if TYPE_CHECKING:
    from straits.optimisation.search import Search

StudyStatus = Literal["queued", "running", "done", "failed", "cancelled"]
STUDY_FINISHED = ("done", "failed", "cancelled")
AWAITING_RERUN = "awaiting re-run"
log = logging.getLogger("straits.web")


class Cancelled(Exception):
    """Raised between batches when the user cancelled the study."""


@dataclass
class StudyJob:
    number: int
    loaded: LoadedStudy
    trials: int
    replications: int
    seed: int
    status: StudyStatus = "queued"
    done: int = 0
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    axes: tuple[str, str] = ("", "")
    front: list[dict[str, Any]] = field(default_factory=list)
    recommended: str | None = None
    folder: Path | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    @property
    def id(self) -> str:
        return f"s{self.number}"

    @property
    def name(self) -> str:
        return self.loaded.study.name


class StudyQueue:
    """Studies run in submission order by one daemon thread (never on the event loop)."""

    def __init__(self, store: Path | None = None, folder: Path | None = None, keep: int = 20):
        self._root = folder or (store.parent / "straits-studies" if store else None)
        self._store = store
        self.keep = keep
        self._jobs: dict[str, StudyJob] = {}
        self._pending: queue.Queue[StudyJob] = queue.Queue()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._worker = threading.Thread(target=self._work, name="straits-studies",
                                        daemon=True)
        self._worker.start()

    def submit(self, loaded: LoadedStudy, trials: int, replications: int, seed: int
               ) -> StudyJob:
        with self._lock:
            job = StudyJob(next(self._ids), loaded, trials, replications, seed)
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.status in STUDY_FINISHED]
            for old in finished[: max(0, len(self._jobs) - self.keep)]:
                del self._jobs[old.id]
        self._pending.put(job)
        return job

    def cancel(self, job: StudyJob) -> bool:
        """Cancel a queued study, or stop a running one after its current batch."""
        with self._lock:
            if job.status == "queued":
                job.status, job.finished = "cancelled", time.time()
                return True
            if job.status == "running":
                job.cancel_requested.set()
                return True
            return False

    def get(self, job_id: str) -> StudyJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[StudyJob]:
        with self._lock:
            return list(self._jobs.values())

    def folders(self) -> tuple[Path, Path]:
        """The studies' folder and results store (a temporary pair, made when first needed,
        for a server without a store)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="straits-studies-"))
        return self._root, self._store or self._root / "studies.duckdb"

    # --- the worker -------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            job = self._pending.get()
            with self._lock:
                if job.status != "queued":
                    continue
                job.status, job.started = "running", time.time()
            try:
                self._run(job)
            except Cancelled:
                self._end(job, "cancelled", f"cancelled by the user after {job.done} of "
                                            f"{job.trials} plans; start it again to resume")
            except Exception as exc:
                log.exception("study %s failed", job.id)
                self._end(job, "failed", failure_message(exc))
            else:
                self._end(job, "done")

    def _end(self, job: StudyJob, status: StudyStatus, error: str | None = None) -> None:
        with self._lock:
            job.status, job.error, job.finished = status, error, time.time()

    def _run(self, job: StudyJob) -> None:
        # optuna and the engine load only when a study runs
        from straits.experiments.executors import InlineExecutor
        from straits.experiments.store import ResultsStore
        from straits.optimisation.outputs import finite, write_outputs
        from straits.optimisation.runner import StoreEvaluator
        from straits.optimisation.study import run_study

        safe = re.sub(r"[^A-Za-z0-9_-]", "_", job.name)
        root, store = self.folders()
        job.folder = root / f"{safe}-seed{job.seed}-n{job.replications}"
        job.axes = axes(job.loaded)
        results = ResultsStore(store)
        evaluator = StoreEvaluator(job.loaded.base, results, InlineExecutor(), job.name)

        def watch(search: Search, done: int) -> None:
            job.done = min(done, job.trials)
            job.front = finite(live_front(search))
            if job.cancel_requested.is_set():
                raise Cancelled

        try:
            result = run_study(job.loaded, evaluator, job.folder, job.trials, job.replications,
                               job.seed, watch=watch)
        finally:
            results.close()
        summary = write_outputs(result, job.folder)
        job.front = finite([{**row, "constraints": row["out_of_sample"]}
                            for row in summary["front"]])
        job.recommended = (None if summary["recommended"] is None
                           else f"plan {summary['recommended']}")


def axes(loaded: LoadedStudy) -> tuple[str, str]:
    """The chart's x and y: the first two objectives, or cost against the one objective."""
    labels = [o.label for o in loaded.study.objectives]
    return (labels[0], labels[1]) if len(labels) > 1 else ("cost of measures £", labels[0])


def live_front(search: Search) -> list[dict[str, Any]]:
    """The front so far as rows (cost, objectives, constraint statistics, the plan's values);
    no plan is shown as meeting the constraints before its fresh-seed re-run."""
    from straits.optimisation.study import plan_row

    return [{**plan_row(search.loaded, e, search.do_nothing), "constraints": AWAITING_RERUN}
            for e in search.front()]
