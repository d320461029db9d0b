"""The dashboard's run queue, persisted in the results store so a restart loses nothing.

One table, ``web_runs``, in the same DuckDB file as the results: every run
the dashboard accepts is written there (with the scenario YAML it will run)
before the request is answered, and each change of status is written as it
happens. When the server starts again it reads back the runs that were
queued or running. A connection is opened per write and closed at once, so
between writes other processes (``straits results list``) can open the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_runs (
    run_number BIGINT PRIMARY KEY,
    label VARCHAR NOT NULL,
    scenario_yaml VARCHAR NOT NULL,
    seeds BIGINT[] NOT NULL,
    status VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    experiment_id VARCHAR,
    error VARCHAR,
    submitted_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
)
"""


@dataclass(frozen=True)
class LedgerRow:
    """A run as the ledger holds it."""

    number: int
    label: str
    scenario_yaml: str
    seeds: list[int]
    status: str
    attempts: int
    experiment_id: str | None


class RunLedger:
    """Reads and writes the ``web_runs`` table of one results store."""

    def __init__(self, path: Path):
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(_SCHEMA)

    def add(self, number: int, label: str, scenario_yaml: str, seeds: list[int]) -> None:
        """Record a newly queued run (before its request is answered)."""
        now = _now()
        with self._connect() as con:
            con.execute("INSERT INTO web_runs VALUES (?, ?, ?, ?, 'queued', 0, NULL, NULL, ?, ?)",
                        [number, label, scenario_yaml, seeds, now, now])

    def set_status(self, number: int, status: str, attempts: int,
                   experiment_id: str | None = None, error: str | None = None) -> None:
        with self._connect() as con:
            con.execute("UPDATE web_runs SET status = ?, attempts = ?, experiment_id = "
                        "coalesce(?, experiment_id), error = ?, updated_at = ? "
                        "WHERE run_number = ?",
                        [status, attempts, experiment_id, error, _now(), number])

    def unfinished(self) -> list[LedgerRow]:
        """Runs left queued or running by the last server, in the order they came."""
        with self._connect() as con:
            rows = con.execute("SELECT run_number, label, scenario_yaml, seeds, status, attempts, "
                               "experiment_id FROM web_runs WHERE status IN ('queued', "
                               "'running') ORDER BY run_number").fetchall()
        return [LedgerRow(*row) for row in rows]

    def last_number(self) -> int:
        with self._connect() as con:
            return con.execute("SELECT coalesce(max(run_number), 0) FROM web_runs").fetchone()[0]

    def _connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
