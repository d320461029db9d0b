"""``straits results``: browse, query and export the results store (read-only).

Also the pieces the experiment commands share with it: the ``--store`` flag,
opening a store with one-line errors, and the KPI statistics table.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from straits.cli.app import BadInput, app, console, guarded
from straits.cli.format import count_text, distance_text, duration_text
from straits.experiments.store_path import STORE_ENV, default_store_path
from straits.files import atomic_path, ensure_writable_folder

if TYPE_CHECKING:  # DuckDB, Arrow and the statistics load when a command runs
    import pyarrow as pa

    from straits.experiments.statistics import KpiStatistics
    from straits.experiments.store import ResultsStore

EXPORTS = ("runs", "kpis", "statistics", "bands", "timeseries")
FORMATS = ("csv", "parquet")
SQL_FORMATS = ("table", "csv", "json")

StorePath = Annotated[Path | None, typer.Option(
    "--store", envvar=STORE_ENV, show_envvar=True,
    help="Results database (default: ./straits-results.duckdb).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the results as JSON.")]
ExperimentId = Annotated[str, typer.Argument(help="An id from `straits results list`.")]

results_app = typer.Typer(no_args_is_help=True,
                          help="Browse, query (SQL) and export the results store.")
app.add_typer(results_app, name="results")


def store_guarded(action: Callable[[], Any]) -> Any:
    """``guarded``, plus store problems (damaged, locked, unwritable) as one line, exit 2."""

    from straits.experiments.store import StoreError

    def checked() -> Any:
        try:
            return action()
        except StoreError as exc:
            raise BadInput(str(exc)) from None

    return guarded(checked)


@contextmanager
def read_store(store: Path | None) -> Iterator[ResultsStore]:
    """The store opened read-only (so a run may be writing another store meanwhile)."""
    from straits.experiments.store import ResultsStore

    with ResultsStore(store or default_store_path(), read_only=True) as results:
        yield results


# --- list / show ---------------------------------------------------------------------------
@results_app.command("list")
def results_list(store: StorePath = None, as_json: AsJson = False) -> None:
    """Experiments in the store, newest first, with how many replications are done."""

    def action() -> None:
        with read_store(store) as results:
            rows = results.experiments()
            path = results.path
        if as_json:
            print_json([{**r, "created": r["created"].isoformat()} for r in rows])
            return
        table = Table(title=Text(f"Experiments in {path}"))
        for key in ("experiment_id", "kind", "scenario", "points", "done", "created"):
            table.add_column(key, overflow="fold",
                             justify="right" if key in ("points", "done") else "left")
        for r in rows:
            add_plain_row(table, r["experiment_id"], r["kind"], r["scenario"],
                          f"{r['points']:,}",
                          f"{r['done']:,} / {r['points'] * r['replications']:,}",
                          f"{r['created']:%Y-%m-%d %H:%M}")
        console.print(table)

    store_guarded(action)


@results_app.command("show")
def results_show(
    experiment_id: ExperimentId,
    store: StorePath = None,
    kpi: Annotated[str | None, typer.Option(help="Only KPIs whose name contains this.")] = None,
    as_json: AsJson = False,
) -> None:
    """KPI statistics of an experiment, per point."""
    from straits.experiments.statistics import experiment_statistics

    def action() -> None:
        with read_store(store) as results:
            experiment = results.experiment(experiment_id)
            table = experiment_statistics(results, experiment_id, kpi)
        if as_json:
            print_json({"experiment_id": experiment_id, "points": [
                {"point": p, "parameters": params,
                 "kpis": {s.kpi: s.as_dict() for s in table.get(p, [])}}
                for p, params in experiment.points]})
            return
        for p, params in experiment.points:
            shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "base scenario"
            print_statistics(f"{experiment_id} · point {p}: {shown}", table.get(p, []))

    store_guarded(action)


# --- sql -----------------------------------------------------------------------------------
@results_app.command("sql")
def results_sql(
    query: Annotated[str, typer.Argument(help="A DuckDB SQL query, e.g. \"SELECT kpi, "
                                              "avg(value) FROM kpis GROUP BY kpi\".")],
    experiment: Annotated[str | None, typer.Option(
        help="Scope the views runs, kpis, points and timeseries to this experiment.")] = None,
    store: StorePath = None,
    output_format: Annotated[str, typer.Option(
        "--format", help="table, csv or json.")] = "table",
) -> None:
    """Run a read-only SQL query (tables experiments, experiment_points, scenarios, runs, kpis).

    With --experiment, the views runs, kpis, points and timeseries hold only that
    experiment; without it, the view timeseries covers the whole store.
    """
    import duckdb

    from straits.experiments.store import StoreError

    def action() -> None:
        if output_format not in SQL_FORMATS:
            raise BadInput(f"--format: choose one of {', '.join(SQL_FORMATS)}, "
                           f"got {output_format!r}")
        with read_store(store) as results:
            try:
                table = results.sql(query, experiment)
            except StoreError:
                raise
            except duckdb.Error as exc:  # the user's query is at fault
                first = " ".join(str(exc).split())[:300]
                raise BadInput(f"QUERY: {first}") from None
        _print_table(table, output_format)

    store_guarded(action)


def _print_table(table: pa.Table, output_format: str) -> None:
    if output_format == "json":
        print_json(table.to_pylist())
    elif output_format == "csv":
        import pyarrow as pa
        import pyarrow.csv as pa_csv

        buffer = pa.BufferOutputStream()
        pa_csv.write_csv(table, buffer)
        sys.stdout.write(buffer.getvalue().to_pybytes().decode())
    else:
        out = Table(caption=f"{table.num_rows:,} rows")
        for name in table.column_names:
            out.add_column(Text(name), overflow="fold")
        for row in table.to_pylist():
            add_plain_row(out, *(_cell_text(v) for v in row.values()))
        console.print(out)


def _cell_text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return _fmt(value)
    return str(value)


# --- export --------------------------------------------------------------------------------
@results_app.command("export")
def results_export(
    experiment_id: ExperimentId,
    out: Annotated[Path, typer.Option(help="File to write (.csv or .parquet); missing "
                                           "folders are created.")],
    what: Annotated[str, typer.Option(help="runs, kpis, statistics, bands or "
                                           "timeseries.")] = "kpis",
    file_format: Annotated[str | None, typer.Option(
        "--format", help="csv or parquet (default: from the --out suffix).")] = None,
    point: Annotated[int, typer.Option(min=0, help="Point for bands and timeseries.")] = 0,
    store: StorePath = None,
) -> None:
    """Write an experiment's runs, KPI rows, statistics, bands or time series to a file."""

    def action() -> None:
        if what not in EXPORTS:
            raise BadInput(f"--what: unknown table {what!r}; choose one of {', '.join(EXPORTS)}")
        kind = file_format or out.suffix.lstrip(".").lower()
        if kind not in FORMATS:
            raise BadInput(f"--format: choose csv or parquet (or name --out *.csv / *.parquet), "
                           f"got {kind or 'no suffix'!r}")
        check_output_file(out, "--out")
        with read_store(store) as results:
            table = _export_table(results, experiment_id, what, point)
        write_table(table, out, kind)
        console.print(f"{table.num_rows:,} rows of {what} written to {out}")

    store_guarded(action)


def _export_table(results: ResultsStore, experiment_id: str, what: str, point: int) -> pa.Table:
    import pyarrow as pa

    from straits.experiments.statistics import experiment_statistics

    experiment = results.experiment(experiment_id)
    if what == "runs":
        return results.runs(experiment_id)
    if what == "kpis":
        return results.kpi_rows(experiment_id)
    if what == "statistics":
        table = experiment_statistics(results, experiment_id)
        return pa.Table.from_pylist([
            {"point": p, "parameters": json.dumps(params), "kpi": s.kpi, **s.as_dict()}
            for p, params in experiment.points for s in table.get(p, [])])
    if point not in dict(experiment.points):
        raise BadInput(f"--point: {experiment_id} has points 0 to {len(experiment.points) - 1}")
    table = results.bands(experiment_id, point) if what == "bands" else results.timeseries(
        experiment_id, point)
    if table.num_rows == 0:
        raise BadInput(f"{experiment_id} point {point} has no stored replications yet")
    return table


def check_output_file(path: Path, flag: str) -> None:
    """Refuse an output file that cannot be written, before any work."""
    if path.is_dir():
        raise BadInput(f"{flag}: {str(path)!r} is a folder; give a file name")
    try:
        ensure_writable_folder(path.absolute().parent)
    except OSError as exc:
        raise BadInput(f"{flag}: cannot write in {str(path.absolute().parent)!r} "
                       f"({exc.strerror or exc}); choose a writable folder") from None


def write_table(table: pa.Table, path: Path, kind: str = "parquet") -> None:
    """Write ``table`` as CSV or Parquet, atomically."""
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    with atomic_path(path) as partial:
        if kind == "csv":
            pa_csv.write_csv(table, partial)
        else:
            pq.write_table(table, partial)


# --- shared printing ---------------------------------------------------------------------
def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False, default=_not_json) + "\n")


def _not_json(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {value!r}")


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3g}"


def value_text(kpi: str, value: float | None) -> str:
    """A KPI value in its unit: durations as h:mm over two hours, km with miles."""
    if "minutes" in kpi:
        return duration_text(value)
    if kpi.endswith("_km") or "_km." in kpi:
        return distance_text(value)
    if value is not None and float(value).is_integer():
        return count_text(value)
    return _fmt(value)


def mean_text(s: KpiStatistics | None) -> str:
    """``mean ± 95% CI half-width`` of a KPI, in its unit."""
    if s is None:
        return "—"
    if s.half_width is None:
        return value_text(s.kpi, s.mean)
    spread = value_text(s.kpi, s.half_width)
    return f"{value_text(s.kpi, s.mean)} ± {spread.split(' (')[0]}"  # miles once is enough


def add_plain_row(table: Table, *cells: str) -> None:
    """A row of user text (names, values, query results), never read as rich markup."""
    table.add_row(*(Text(c) for c in cells))


def kpi_label(kpi: str) -> str:
    return kpi.removeprefix("directions.")


def print_statistics(title: str, rows: list[KpiStatistics]) -> None:
    """One row per KPI: mean ± 95% CI half-width and the p5/p50/p95 spread (folds at 80 cols)."""
    table = Table(title=Text(title), caption="mean ± half-width of the 95% CI; KPI names without "
                                       "their leading 'directions.'")
    table.add_column("KPI", overflow="fold", ratio=3)
    for column in ("mean ± 95% CI", "p5", "p50", "p95"):
        table.add_column(column, justify="right", overflow="fold", ratio=2)
    for s in rows:
        add_plain_row(table, kpi_label(s.kpi), mean_text(s), value_text(s.kpi, s.p5),
                      value_text(s.kpi, s.p50), value_text(s.kpi, s.p95))
    console.print(table)

