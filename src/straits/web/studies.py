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

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from straits.optimisation.spec import LoadedStudy
from straits.web.work_queue import QueuedJob, Status, WorkQueue

if TYPE_CHECKING:
    from straits.optimisation.search import Search

STUDY_FINISHED: tuple[Status, ...] = ("done", "failed", "cancelled")
AWAITING_RERUN = "awaiting re-run"


class Cancelled(Exception):
    """Raised between batches when the user cancelled the study."""


@dataclass
class StudyJob(QueuedJob):
    prefix = "s"
    finished_statuses = STUDY_FINISHED
    loaded: LoadedStudy
    trials: int
    replications: int
    seed: int
    done: int = 0
    axes: tuple[str, str] = ("", "")
    front: list[dict[str, Any]] = field(default_factory=list)
    recommended: str | None = None
    folder: Path | None = None

    @property
    def name(self) -> str:
        return self.loaded.study.name


class StudyQueue(WorkQueue[StudyJob]):
    """Studies run in submission order by one daemon thread (never on the event loop)."""

    def __init__(self, store: Path | None = None, folder: Path | None = None, keep: int = 20):
        super().__init__(keep, "straits-studies")
        self._root = folder or (store.parent / "straits-studies" if store else None)
        self._store = store
        self._worker.start()

    def submit(self, loaded: LoadedStudy, trials: int, replications: int, seed: int
               ) -> StudyJob:
        with self._lock:
            return self._enqueue(StudyJob(next(self._ids), loaded, trials, replications, seed))

    def folders(self) -> tuple[Path, Path]:
        """The studies' folder and results store (a temporary pair, made when first needed,
        for a server without a store)."""
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="straits-studies-"))
        return self._root, self._store or self._root / "studies.duckdb"

    # --- the worker -------------------------------------------------------------------
    def _execute(self, job: StudyJob) -> None:
        try:
            self._run(job)
        except Cancelled:
            with self._lock:
                self._finish(job, "cancelled", f"cancelled by the user after {job.done} of "
                                               f"{job.trials} plans; start it again to resume")
        else:
            with self._lock:
                self._finish(job, "done")

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
            if job.stop_requested.is_set():
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
