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

All SQL of the project lives here, behind methods (the dashboard's run queue,
table ``web_runs``, too: see :mod:`straits.web.ledger`); the ``timeseries`` views
are temporary (made on every open from the files beside the database), so a
copied or moved store reads its own files and never the original's. Every
statistic is aggregated in replication order, so results are byte-identical
whatever the worker count or the order in which replications finished, and
after a resume.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from straits import __version__
from straits.experiments.store_path import STORE_ENV
from straits.experiments.tasks import HoldingSeries, TaskResult
from straits.files import atomic_path, ensure_writable_folder
from straits.scenario.clock import clock_times

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

# The dashboard's run queue (straits.web.ledger): made only by a store the dashboard uses.
_WEB_RUNS_SCHEMA = """
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


class StoreError(Exception):
    """The store cannot be opened or read (missing, damaged, locked or unwritable):
    the message is one line naming the file and what to do."""


class UnknownExperiment(StoreError):
    """No experiment with that id in the store."""


@dataclass(frozen=True)
class StoredExperiment:
    """An experiment as recorded: its design and its points' parameters."""

    experiment_id: str
    kind: str
    scenario_name: str
    replications: int
    spec: dict[str, Any]
    points: list[tuple[int, dict[str, Any]]]  # (point, parameters), in point order

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(self.spec["start"])


@dataclass(frozen=True)
class WebRun:
    """A dashboard run as the ``web_runs`` table holds it."""

    number: int
    label: str
    scenario_yaml: str
    seeds: list[int]
    status: str
    attempts: int
    experiment_id: str | None


# The runs of one experiment: its points' runs, within its replications, by its version.
_EXPERIMENT_RUNS = """
SELECT p.point, r.*
FROM experiment_points p
JOIN experiments e USING (experiment_id)
JOIN runs r ON r.scenario_hash = p.scenario_hash AND r.seed_key = p.seed_key
    AND r.replication < e.replications AND r.straits_version = e.spec->>'straits_version'
WHERE p.experiment_id = ?
"""

_HEADER_BYTES = 3 * 4096  # DuckDB's file headers, before the first block
PERCENTILES = (5, 50, 95)
_QUANTILES = "[0.05, 0.5, 0.95]"
BAND_MEMORY_BYTES = 512 * 2**20  # held by one bands query (DuckDB's quantile states)
BYTES_PER_BAND_VALUE = 40  # measured: ~36 bytes per value (lorries and km) in quantile_cont
_STATS = ", ".join(
    f"round(quantile_cont({v}, {_QUANTILES})[{i + 1}], 3) AS {v}_p{q}"
    for v in ("lorries", "km") for i, q in enumerate(PERCENTILES))
_MEANS = ", ".join(f"round(avg({v} ORDER BY replication), 3) AS {v}_mean"
                   for v in ("lorries", "km"))
# one point's bands, for time steps [?, ?) of places (file rows) [?, ?]
_BANDS = (
    "WITH wide AS (SELECT file_row_number AS place_order, * FROM read_parquet(?, "
    "file_row_number = true)), steps AS (SELECT ?::BIGINT AS low, ?::BIGINT AS high), "
    "long AS (SELECT place_order, direction, place, kind, replication, "
    "unnest(range(low, least(high, len(lorries)))) * step_minutes AS minutes, "
    "unnest(lorries[low + 1:high])::DOUBLE AS lorries, unnest(km[low + 1:high])::DOUBLE AS km "
    "FROM wide, steps WHERE place_order BETWEEN ? AND ?) "
    "SELECT direction, place, kind, minutes, count(*)::INTEGER AS replications, "
    f"{_STATS}, {_MEANS} FROM long GROUP BY place_order, direction, place, kind, minutes "
    "ORDER BY place_order, minutes")


class ResultsStore:
    """One open connection to a results database (one writer process at a time)."""

    def __init__(self, path: Path | str, read_only: bool = False):
        self.path = Path(path).absolute()
        self.files = self.path.with_name(self.path.stem + "-files")
        self.read_only = read_only
        if read_only and not self.path.is_file():
            raise StoreError(f"no results store at {str(self.path)!r}; run `straits ensemble` "
                             f"first or point --store / ${STORE_ENV} at one")
        if not read_only:
            self._check_writable()
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
            if not read_only:
                self.con.execute(_SCHEMA)
                self._drop_stored_views()
            self._catalog = self._first("SELECT current_database()")[0]
            self._check_whole()
        except duckdb.Error as exc:
            raise StoreError(_open_error(self.path, exc)) from None

    def _check_whole(self) -> None:
        """A truncated file opens, then fails on whichever block is missing: refuse it now.

        The file may legitimately be shorter than its block count (a free block at the
        end, blocks still in the write-ahead log after a crash), so a short file is only
        refused when reading every table fails.
        """
        row = self._first("SELECT block_size, total_blocks FROM pragma_database_size() "
                          "WHERE database_name = current_database()")
        needed = _HEADER_BYTES + row[0] * row[1]
        size = self.path.stat().st_size
        if size >= needed:
            return
        try:
            for (table,) in self.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE database_name = "
                    "current_database()").fetchall():
                self.con.execute(f'SELECT * FROM "{table}"').fetchall()
        except duckdb.Error:
            self.con.close()
            raise StoreError(f"--store: {str(self.path)!r} is truncated ({size:,} of {needed:,} "
                             "bytes); restore it from a copy or point --store at a new file"
                             ) from None

    def _check_writable(self) -> None:
        """Fail before any simulation if the database or its files cannot be written."""
        try:
            ensure_writable_folder(self.path.parent)
            if self.files.exists():
                ensure_writable_folder(self.files)
        except OSError as exc:
            raise StoreError(f"--store: cannot write the results store at {str(self.path)!r} "
                             f"({exc.strerror or exc}); choose a writable path with --store "
                             f"or ${STORE_ENV}") from None
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise StoreError(f"--store: {str(self.path)!r} is read-only; choose a writable "
                             f"path with --store or ${STORE_ENV}")

    def _drop_stored_views(self) -> None:
        """Stores written before 30 Nov 2026 kept views naming absolute paths, which a
        copy would follow to the original's files; the views are temporary now."""
        for (name,) in self.con.execute("SELECT view_name FROM duckdb_views() "
                                        "WHERE NOT internal AND NOT temporary").fetchall():
            self.con.execute(f'DROP VIEW IF EXISTS "{name}"')

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

    def done_replications(self, scenario_hash: str, seed_key: str,
                          replications: int) -> np.ndarray:
        """Which of replications 0..N-1 of this scenario and seed key this version has
        stored: a boolean array (one byte per replication, however many there are)."""
        done = np.zeros(replications, dtype=bool)
        found = self.con.execute(
            "SELECT replication FROM runs WHERE scenario_hash = ? AND seed_key = ? "
            "AND straits_version = ? AND replication < ?",
            [scenario_hash, seed_key, __version__, replications]).fetchnumpy()["replication"]
        done[np.asarray(found, dtype=np.int64)] = True
        return done

    def add_result(self, result: TaskResult, scenario_name: str,
                   parameters: dict[str, Any]) -> bool:
        """Commit one finished replication; False if it was already stored."""
        relative = (Path("timeseries") / result.scenario_hash
                    / f"{result.seed_key}-{result.replication}-{__version__}.parquet")
        _write_series(self.files / relative, result)
        self.con.begin()
        try:
            row = self.con.execute(
                "INSERT INTO runs (scenario_hash, scenario_name, seed_key, replication, seed, "
                "straits_version, parameters, simulate_seconds, series_seconds, worker, "
                "finished_at, timeseries_file) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING run_id",
                [result.scenario_hash, scenario_name, result.seed_key, result.replication,
                 result.seed, __version__, json.dumps(parameters), result.simulate_seconds,
                 result.series_seconds, result.worker, _now(), relative.as_posix()],
            ).fetchall()[0]
            self.con.execute(
                "INSERT INTO kpis SELECT ?, unnest(?::VARCHAR[]), unnest(?::DOUBLE[])",
                [row[0], result.kpi_names, result.kpi_values.tolist()])
            self.con.commit()
        except duckdb.ConstraintException:
            self.con.rollback()
            return False
        except BaseException:
            self.con.rollback()
            raise
        return True

    def refresh_views(self) -> None:
        """(Re)create the temporary ``timeseries`` views over this store's own Parquet files.

        Temporary views live only in this connection, so nothing in the database
        names a path: a copied or moved store reads the files beside it. They are
        made for SQL only (the commands read series files by name), so a damaged
        series file never stops the store from opening.
        """
        if not self._has_series():
            return
        pattern = (self.files / "timeseries" / "*" / "*.parquet").as_posix()
        try:
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW timeseries_wide AS "
                f"SELECT * FROM read_parquet('{_sql_text(pattern)}')")
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:
            raise StoreError(_read_error(self.path, exc)) from None
        self.con.execute(
            "CREATE OR REPLACE TEMP VIEW timeseries AS "
            "SELECT r.run_id, t.scenario_hash, t.seed_key, t.replication, t.direction, "
            "t.place, t.kind, t.minutes, t.lorries, t.km FROM ("
            "  SELECT scenario_hash, seed_key, replication, direction, place, kind, "
            "  unnest(range(len(lorries))) * step_minutes AS minutes, "
            "  unnest(lorries) AS lorries, unnest(km) AS km FROM timeseries_wide) t "
            f'JOIN "{self._catalog}".main.runs r USING (scenario_hash, seed_key, replication)')

    # --- the dashboard's run queue ----------------------------------------------------------
    def add_web_runs_table(self) -> None:
        self.con.execute(_WEB_RUNS_SCHEMA)

    def add_web_run(self, number: int, label: str, scenario_yaml: str, seeds: list[int]) -> None:
        """Record a newly queued dashboard run."""
        now = _now()
        self.con.execute("INSERT INTO web_runs VALUES (?, ?, ?, ?, 'queued', 0, NULL, NULL, ?, ?)",
                         [number, label, scenario_yaml, seeds, now, now])

    def set_web_run_status(self, number: int, status: str, attempts: int,
                           experiment_id: str | None = None, error: str | None = None) -> None:
        """A dashboard run's new status (its experiment id, once known, is kept)."""
        self.con.execute("UPDATE web_runs SET status = ?, attempts = ?, experiment_id = "
                         "coalesce(?, experiment_id), error = ?, updated_at = ? "
                         "WHERE run_number = ?",
                         [status, attempts, experiment_id, error, _now(), number])

    def unfinished_web_runs(self) -> list[WebRun]:
        """Dashboard runs left queued or running, in the order they came."""
        rows = self.con.execute("SELECT run_number, label, scenario_yaml, seeds, status, "
                                "attempts, experiment_id FROM web_runs WHERE status IN "
                                "('queued', 'running') ORDER BY run_number").fetchall()
        return [WebRun(*row) for row in rows]

    def last_web_run_number(self) -> int:
        return int(self._first("SELECT coalesce(max(run_number), 0) FROM web_runs")[0])

    # --- reading -----------------------------------------------------------------------
    def experiments(self) -> list[dict[str, Any]]:
        """Every experiment, newest first, with how many of its replications are stored."""
        rows = self._read(
            "SELECT e.experiment_id, e.kind, e.scenario_name AS scenario, e.points, "
            "e.replications, count(r.run_id) AS done, e.created_at AS created "
            "FROM experiments e JOIN experiment_points p USING (experiment_id) "
            "LEFT JOIN runs r ON r.scenario_hash = p.scenario_hash "
            "AND r.seed_key = p.seed_key AND r.replication < e.replications "
            "AND r.straits_version = e.spec->>'straits_version' "
            "GROUP BY ALL ORDER BY e.created_at DESC, e.experiment_id")
        return rows.to_pylist()

    def experiment(self, experiment_id: str) -> StoredExperiment:
        """The experiment ``experiment_id``, or :class:`UnknownExperiment` naming recent ones."""
        row = self._one("SELECT kind, scenario_name, replications, spec FROM experiments "
                        "WHERE experiment_id = ?", [experiment_id])
        if row is None:
            known = [r[0] for r in self.con.execute(
                "SELECT experiment_id FROM experiments ORDER BY created_at DESC LIMIT 10"
            ).fetchall()]
            raise UnknownExperiment(f"no experiment {experiment_id!r} in {str(self.path)!r}; "
                                    f"recent ones: {', '.join(known) or 'none'}")
        points = self.con.execute("SELECT point, parameters FROM experiment_points "
                                  "WHERE experiment_id = ? ORDER BY point",
                                  [experiment_id]).fetchall()
        return StoredExperiment(experiment_id, row[0], row[1], row[2], json.loads(row[3]),
                                [(p, json.loads(params)) for p, params in points])

    def runs(self, experiment_id: str) -> pa.Table:
        """One row per stored replication of the experiment, by point and replication."""
        return self._read(f"SELECT * FROM ({_EXPERIMENT_RUNS}) ORDER BY point, replication",
                          [experiment_id])

    def kpi_rows(self, experiment_id: str) -> pa.Table:
        """Every KPI value of every replication (long format)."""
        return self._read(
            f"SELECT m.point, m.replication, m.seed, k.kpi, k.value FROM ({_EXPERIMENT_RUNS}) m "
            "JOIN kpis k USING (run_id) ORDER BY m.point, m.replication, k.kpi", [experiment_id])

    def kpi_statistics(self, experiment_id: str, pattern: str = "") -> pa.Table:
        """Per point and KPI (names containing ``pattern``): n, mean, std, p5/p50/p95, min, max.

        Sums run in replication order, so the figures are the same to the last bit
        however the replications were run or resumed.
        """
        return self._read(
            f"SELECT m.point, k.kpi, count(*) AS n, "
            "avg(k.value ORDER BY m.replication) AS mean, "
            "stddev_samp(k.value ORDER BY m.replication) AS std, "
            f"quantile_cont(k.value, {_QUANTILES}) AS q, min(k.value) AS min, "
            f"max(k.value) AS max FROM ({_EXPERIMENT_RUNS}) m JOIN kpis k USING (run_id) "
            "WHERE contains(k.kpi, ?) GROUP BY m.point, k.kpi ORDER BY m.point, k.kpi",
            [experiment_id, pattern])

    def kpi_values(self, experiment_id: str, prefix: str = "") -> pa.Table:
        """Per point and KPI (names starting with ``prefix``): the list of its values in
        replication order, for callers that sum them themselves (exactly, or pooled)."""
        return self._read(
            f"SELECT m.point, k.kpi, list(k.value ORDER BY m.replication) AS \"values\" "
            f"FROM ({_EXPERIMENT_RUNS}) m JOIN kpis k USING (run_id) "
            "WHERE starts_with(k.kpi, ?) GROUP BY m.point, k.kpi ORDER BY m.point, k.kpi",
            [experiment_id, prefix])

    def point_means(self, experiment_id: str, kpi: str) -> dict[int, float]:
        """The mean of one KPI at each point (summed in replication order)."""
        rows = self._read(
            f"SELECT m.point, avg(k.value ORDER BY m.replication) AS mean "
            f"FROM ({_EXPERIMENT_RUNS}) m JOIN kpis k USING (run_id) WHERE k.kpi = ? "
            "GROUP BY m.point", [experiment_id, kpi]).to_pylist()
        return {r["point"]: r["mean"] for r in rows}

    def series_files(self, experiment_id: str, point: int) -> list[Path]:
        """The holding-series file of each stored replication of a point, in order."""
        rows = self._read(f"SELECT timeseries_file FROM ({_EXPERIMENT_RUNS}) "
                          "WHERE point = ? ORDER BY replication", [experiment_id, point])
        return [self.files / f for f in rows["timeseries_file"].to_pylist()]

    def bands(self, experiment_id: str, point: int) -> pa.Table:
        """p5/p50/p95 and mean of lorries and km per place every 15 minutes, across the
        point's replications: one ``quantile_cont`` query over the series files.

        Exact quantiles hold every replication's values (DuckDB cannot spill them),
        so a point too big for ``BAND_MEMORY_BYTES`` runs the same query over slices
        of places, then of time steps: memory stays bounded, time grows instead.
        """
        files = self.series_files(experiment_id, point)
        if not files:
            return pa.table({})
        try:
            layout = pq.ParquetFile(files[0]).metadata
            places = layout.num_rows
            steps = len(pq.read_table(files[0], columns=["lorries"])["lorries"][0])
        except (OSError, pa.ArrowException) as exc:
            raise StoreError(_read_error(self.path, exc)) from None
        names = [f.as_posix() for f in files]
        parts = [self._read(_BANDS, [names, low, high, first, last])
                 for first, last, low, high in _band_slices(len(files), places, steps)]
        table = pa.concat_tables(parts)
        start = self.experiment(experiment_id).start
        times = pa.array(clock_times(start, table["minutes"].to_numpy()), pa.timestamp("s"))
        return table.add_column(3, "time", times)

    def point_replications(self, experiment_id: str, point: int) -> list[dict[str, Any]]:
        """Each stored replication of a point: run id, replication, seed, series file,
        scenario YAML and its KPIs (``{kpi: value}``), in replication order."""
        rows = self._read(
            f"SELECT m.run_id, m.replication, m.seed, m.timeseries_file, s.yaml, "
            "map_from_entries(list((k.kpi, k.value) ORDER BY k.kpi)) AS kpis "
            f"FROM ({_EXPERIMENT_RUNS}) m JOIN scenarios s USING (scenario_hash) "
            "LEFT JOIN kpis k USING (run_id) WHERE m.point = ? GROUP BY ALL "
            "ORDER BY m.replication", [experiment_id, point]).to_pylist()
        for row in rows:
            row["kpis"] = dict(row["kpis"] or [])
            row["timeseries_file"] = self.files / row["timeseries_file"]
        return rows

    def timeseries(self, experiment_id: str, point: int) -> pa.Table:
        """The long holding series of a point's replications (empty if none stored)."""
        files = self.series_files(experiment_id, point)
        if not files:
            return pa.table({})
        return self._read(
            "SELECT ? AS point, t.replication, t.direction, t.place, t.kind, "
            "unnest(range(len(t.lorries))) * t.step_minutes AS minutes, "
            "unnest(t.lorries) AS lorries, unnest(t.km) AS km "
            "FROM read_parquet(?) t ORDER BY t.replication, t.direction, t.place, minutes",
            [point, [f.as_posix() for f in files]])

    def sql(self, query: str, experiment_id: str | None = None) -> pa.Table:
        """A user's query, on a read-only store; with ``experiment_id``, the views
        ``runs``, ``kpis``, ``points`` and ``timeseries`` hold only that experiment."""
        if not self.read_only:
            raise StoreError("queries run on a store opened read-only")
        self.refresh_views()
        if experiment_id is not None:
            self.experiment(experiment_id)
            self._scope(experiment_id)
        relation = self.con.sql(query)  # errors are the query's: left to the caller
        return pa.table({}) if relation is None else relation.to_arrow_table()

    def _scope(self, experiment_id: str) -> None:
        main = f'"{self._catalog}".main'
        mine = _EXPERIMENT_RUNS.replace("experiment_points", f"{main}.experiment_points") \
            .replace("JOIN experiments", f"JOIN {main}.experiments") \
            .replace("JOIN runs", f"JOIN {main}.runs").replace("?", f"'{_sql_text(experiment_id)}'")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW runs AS SELECT * FROM ({mine})")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW kpis AS SELECT m.point, m.replication, "
                         f"k.* FROM runs m JOIN {main}.kpis k USING (run_id)")
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW points AS SELECT * FROM "
                         f"{main}.experiment_points WHERE experiment_id = "
                         f"'{_sql_text(experiment_id)}'")
        if self._has_series():
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW timeseries AS SELECT m.point, m.run_id, "
                "t.replication, t.direction, t.place, t.kind, t.minutes, t.lorries, t.km "
                "FROM runs m JOIN (SELECT scenario_hash, seed_key, replication, direction, "
                "place, kind, unnest(range(len(lorries))) * step_minutes AS minutes, "
                "unnest(lorries) AS lorries, unnest(km) AS km FROM timeseries_wide) t "
                "USING (scenario_hash, seed_key, replication)")

    def _has_series(self) -> bool:
        return any((self.files / "timeseries").glob("*/*.parquet"))

    def _one(self, sql: str, parameters: list[Any] | None = None) -> tuple[Any, ...] | None:
        """The first row of a query, with the result read to its end (DuckDB needs a
        connection's result finished before the next statement)."""
        rows = self.con.execute(sql, parameters or []).fetchall()
        return rows[0] if rows else None

    def _first(self, sql: str) -> tuple[Any, ...]:
        """The row of a query that always has one."""
        row = self._one(sql)
        if row is None:
            raise StoreError(f"--store: {str(self.path)!r} answered nothing to {sql!r}")
        return row

    def _read(self, sql: str, parameters: list[Any] | None = None) -> pa.Table:
        """Run a read; a damaged database or series file becomes one :class:`StoreError`."""
        try:
            return self.con.sql(sql, params=parameters or None).to_arrow_table()
        except (duckdb.IOException, duckdb.InvalidInputException, duckdb.InternalException,
                duckdb.SerializationException, OSError) as exc:
            raise StoreError(_read_error(self.path, exc)) from None


def _band_slices(replications: int, places: int,
                 steps: int) -> list[tuple[int, int, int, int]]:
    """(first place, last place, low step, high step) slices, each within the memory budget:
    all at once when it fits (the usual case), else a few places or a window of steps."""
    per_step = replications * 2 * BYTES_PER_BAND_VALUE  # one place, one step
    places_per_slice = max(1, min(places, BAND_MEMORY_BYTES // (per_step * steps)))
    steps_per_slice = steps if places_per_slice > 1 or per_step * steps <= BAND_MEMORY_BYTES \
        else max(1, BAND_MEMORY_BYTES // per_step)
    return [(first, min(first + places_per_slice, places) - 1, low, low + steps_per_slice)
            for first in range(0, places, places_per_slice)
            for low in range(0, steps, steps_per_slice)]


def _open_error(path: Path, exc: duckdb.Error) -> str:
    text = str(exc).splitlines()[0]
    if "lock" in text.lower():
        return (f"--store: {str(path)!r} is in use by another straits process (one writer at "
                "a time); wait for it to finish or use another --store")
    return (f"--store: {str(path)!r} is not a readable results store ({text}); it may be "
            "damaged or truncated: restore it from a copy or point --store at a new file")


def _read_error(path: Path, exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return (f"the results store {str(path)!r} is damaged: {text}; restore the store (and its "
            "-files folder) from a copy, or run the experiment into a new --store")


def _write_series(path: Path, outcome: TaskResult) -> None:
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
    with atomic_path(path) as partial:
        pq.write_table(table, partial, compression="zstd", use_dictionary=False,
                       write_statistics=False, row_group_size=1)  # one place per row group


def _sql_text(text: str) -> str:
    return text.replace("'", "''")


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
