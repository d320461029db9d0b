"""The dashboard's run queue, persisted in the results store so a restart loses nothing.

Every run the dashboard accepts is written to the store (table ``web_runs``,
with the scenario YAML it will run) before the request is answered, and each
change of status is written as it happens. When the server starts again it
reads back the runs that were queued or running. The store is opened per
write and closed at once, so between writes other processes (``straits
results list``) can open it.
"""

from __future__ import annotations

from pathlib import Path

from straits.experiments.store import ResultsStore, WebRun


class RunLedger:
    """The ``web_runs`` table of one results store, opened for each read or write."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()
        with self._open() as store:
            store.add_web_runs_table()

    def add(self, number: int, label: str, scenario_yaml: str, seeds: list[int]) -> None:
        """Record a newly queued run (before its request is answered)."""
        with self._open() as store:
            store.add_web_run(number, label, scenario_yaml, seeds)

    def set_status(self, number: int, status: str, attempts: int,
                   experiment_id: str | None = None, error: str | None = None) -> None:
        with self._open() as store:
            store.set_web_run_status(number, status, attempts, experiment_id, error)

    def unfinished(self) -> list[WebRun]:
        """Runs left queued or running by the last server, in the order they came."""
        with self._open() as store:
            return store.unfinished_web_runs()

    def last_number(self) -> int:
        with self._open() as store:
            return store.last_web_run_number()

    def _open(self) -> ResultsStore:
        return ResultsStore(self.path)
