"""The results store: an embedded DuckDB database plus Parquet time series.

Layout (``straits-results.duckdb`` in the working directory unless ``--store``
or ``STRAITS_STORE`` says otherwise)::

    straits-results.duckdb            runs, kpis (long format), experiments, ...
    straits-results-files/timeseries/<scenario hash>/<seed key>-<replication>-<version>.parquet
    straits-results-files/bands/<experiment id>.parquet

A run is identified by (scenario hash, seed key, replication, straits version):
a unique constraint, and each finished replication is committed in its own
transaction, so a crash loses only unfinished work and a rerun skips what is
already there. Series files are written (atomically) before their run row, so a
committed run always has its series; an orphan file is simply rewritten.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from straits import __version__
from straits.experiments.replication import HoldingSeries, Outcome

DEFAULT_STORE = "straits-results.duckdb"
STORE_ENV = "STRAITS_STORE"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    scenario_hash VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    yaml VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    scenario_name VARCHAR NOT NULL,
    scenario_hash VARCHAR NOT NULL,
    points INTEGER NOT NULL,
    replications INTEGER NOT NULL,
    spec JSON NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS experiment_points (
    experiment_id VARCHAR NOT NULL,
    point INTEGER NOT NULL,
    scenario_hash VARCHAR NOT NULL,
    seed_key VARCHAR NOT NULL,
    parameters JSON NOT NULL,
    PRIMARY KEY (experiment_id, point)
);
CREATE SEQUENCE IF NOT EXISTS run_ids START 1;
CREATE TABLE IF NOT EXISTS runs (
    run_id BIGINT PRIMARY KEY DEFAULT nextval('run_ids'),
    scenario_hash VARCHAR NOT NULL,
    scenario_name VARCHAR NOT NULL,
    seed_key VARCHAR NOT NULL,
    replication INTEGER NOT NULL,
    seed BIGINT NOT NULL,
    straits_version VARCHAR NOT NULL,
    parameters JSON NOT NULL,
    simulate_seconds DOUBLE NOT NULL,
    series_seconds DOUBLE NOT NULL,
    worker VARCHAR NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    timeseries_file VARCHAR NOT NULL,
    UNIQUE (scenario_hash, seed_key, replication, straits_version)
);
CREATE TABLE IF NOT EXISTS kpis (
    run_id BIGINT NOT NULL,
    kpi VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    PRIMARY KEY (run_id, kpi)
);
"""

_SERIES_SCHEMA = pa.schema([
    ("scenario_hash", pa.string()),
    ("seed_key", pa.string()),
    ("replication", pa.int32()),
    ("direction", pa.string()),
    ("place", pa.string()),
    ("kind", pa.string()),
    ("step_minutes", pa.float64()),
    ("lorries", pa.list_(pa.float32())),
    ("km", pa.list_(pa.float32())),
])


def default_store_path() -> Path:
    """``$STRAITS_STORE`` if set, else ``straits-results.duckdb`` in the working directory."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


class ResultsStore:
    """One open connection to a results database (one writer process at a time)."""

    def __init__(self, path: Path | str, read_only: bool = False):
        self.path = Path(path).resolve()
        self.files = self.path.with_name(self.path.stem + "-files")
        if read_only and not self.path.exists():
            raise FileNotFoundError(f"no results store at {str(self.path)!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        if not read_only:
            self.con.execute(_SCHEMA)
            self.refresh_views()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing -----------------------------------------------------------------------
    def add_scenario(self, scenario_hash: str, name: str, yaml_text: str) -> None:
        self.con.execute("INSERT INTO scenarios VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                         [scenario_hash, name, yaml_text])

    def add_experiment(self, experiment_id: str, kind: str, scenario_name: str,
                       scenario_hash: str, replications: int, spec: dict[str, Any],
                       points: Iterable[tuple[int, str, str, dict[str, Any]]]) -> None:
        """Record an experiment and its points (scenario hash, seed key, parameters)."""
        points = list(points)
        self.con.begin()
        self.con.execute(
            "INSERT INTO experiments VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [experiment_id, kind, scenario_name, scenario_hash, len(points), replications,
             json.dumps(spec), _now()])
        self.con.executemany(
            "INSERT INTO experiment_points VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [[experiment_id, p, h, k, json.dumps(params)] for p, h, k, params in points])
        self.con.commit()

    def done_replications(self, scenario_hash: str, seed_key: str) -> set[int]:
        """Replications of this scenario and seed key already stored by this version."""
        rows = self.con.execute(
            "SELECT replication FROM runs WHERE scenario_hash = ? AND seed_key = ? "
            "AND straits_version = ?", [scenario_hash, seed_key, __version__]).fetchall()
        return {r[0] for r in rows}

    def add_outcome(self, outcome: Outcome, scenario_name: str,
                    parameters: dict[str, Any]) -> bool:
        """Commit one finished replication; False if it was already stored."""
        relative = (Path("timeseries") / outcome.scenario_hash
                    / f"{outcome.seed_key}-{outcome.replication}-{__version__}.parquet")
        _write_series(self.files / relative, outcome)
        self.con.begin()
        try:
            row = self.con.execute(
                "INSERT INTO runs (scenario_hash, scenario_name, seed_key, replication, seed, "
                "straits_version, parameters, simulate_seconds, series_seconds, worker, "
                "finished_at, timeseries_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING run_id",
                [outcome.scenario_hash, scenario_name, outcome.seed_key, outcome.replication,
                 outcome.seed, __version__, json.dumps(parameters), outcome.simulate_seconds,
                 outcome.series_seconds, outcome.worker, _now(), relative.as_posix()],
            ).fetchone()
            assert row is not None, "INSERT … RETURNING gives one row"
            self.con.execute(
                "INSERT INTO kpis SELECT ?, unnest(?::VARCHAR[]), unnest(?::DOUBLE[])",
                [row[0], outcome.kpi_names, outcome.kpi_values.tolist()])
            self.con.commit()
        except duckdb.ConstraintException:
            self.con.rollback()
            return False
        except BaseException:
            self.con.rollback()
            raise
        return True

    def refresh_views(self) -> None:
        """(Re)create the ``timeseries`` views over the Parquet files next to the database.

        DuckDB cannot define a view over a glob with no files yet, and the
        absolute path must follow the database if it is moved, so the views are
        rebuilt whenever the store is opened for writing and after a run.
        """
        pattern = self.files / "timeseries" / "*" / "*.parquet"
        if not any((self.files / "timeseries").glob("*/*.parquet")):
            return
        source = f"read_parquet('{_sql_text(pattern.as_posix())}')"
        self.con.execute(f"CREATE OR REPLACE VIEW timeseries_wide AS SELECT * FROM {source}")
        self.con.execute(
            "CREATE OR REPLACE VIEW timeseries AS "
            "SELECT r.run_id, t.scenario_hash, t.seed_key, t.replication, t.direction, "
            "t.place, t.kind, t.minutes, t.lorries, t.km FROM ("
            "  SELECT scenario_hash, seed_key, replication, direction, place, kind, "
            "  unnest(range(len(lorries))) * step_minutes AS minutes, "
            "  unnest(lorries) AS lorries, unnest(km) AS km FROM timeseries_wide) t "
            "JOIN runs r USING (scenario_hash, seed_key, replication)")

    # --- reading -----------------------------------------------------------------------
    def query(self, sql: str, parameters: list[Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=parameters or None).to_arrow_table()


def _write_series(path: Path, outcome: Outcome) -> None:
    """Write the replication's series to ``path`` atomically (temp file, then rename)."""
    series: HoldingSeries = outcome.series
    rows = len(series.places)
    table = pa.table({
        "scenario_hash": pa.array([outcome.scenario_hash] * rows),
        "seed_key": pa.array([outcome.seed_key] * rows),
        "replication": pa.array([outcome.replication] * rows, pa.int32()),
        "direction": series.directions,
        "place": series.places,
        "kind": series.kinds,
        "step_minutes": pa.array([series.step_minutes] * rows, pa.float64()),
        "lorries": pa.FixedSizeListArray.from_arrays(series.lorries.ravel(),
                                                     series.lorries.shape[1]).cast(
                                                         pa.list_(pa.float32())),
        "km": pa.FixedSizeListArray.from_arrays(series.km.ravel(), series.km.shape[1]).cast(
            pa.list_(pa.float32())),
    }, schema=_SERIES_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    pq.write_table(table, partial, compression="zstd", use_dictionary=False,
                   write_statistics=False, row_group_size=1)  # one place per row group
    os.replace(partial, path)


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
