"""Experiment commands: ensemble, sweep, sensitivity, and ``results`` over the store."""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from straits.calibration.uncertainty import load_accepted, pooled_statistics, uncertain_ensemble
from straits.cli.app import BadInput, app, console, errors, fail, guarded
from straits.experiments.ensemble import Experiment, RunReport, ensemble, run_experiment
from straits.experiments.executors import Executor, make_executor
from straits.experiments.replication import flatten_kpis
from straits.experiments.sensitivity import METHODS, analyse, sensitivity_experiment
from straits.experiments.statistics import (
    KpiStatistics,
    experiment_statistics,
    holding_bands,
    point_means,
)
from straits.experiments.store import STORE_ENV, ResultsStore, default_store_path
from straits.experiments.sweep import (
    Range,
    apply_overrides,
    grid_sweep,
    lhs_sweep,
    parse_range,
    parse_scalar,
    parse_values,
    scenario_mapping,
    split_assignment,
)
from straits.pipeline import simulate
from straits.scenario import Scenario, load_scenario

HEADLINE_KPIS = (
    "directions.southbound.delay_minutes.mean",
    "directions.southbound.queue_peak_km",
    "directions.northbound.delay_minutes.mean",
    "directions.northbound.queue_peak_km",
    "cost_gbp",
)
EXPORTS = ("runs", "kpis", "statistics", "bands", "timeseries")
FORMATS = ("csv", "parquet")

ScenarioArg = Annotated[str, typer.Argument(help="Built-in name or path to a YAML file.")]
Replications = Annotated[int, typer.Option("-n", "--replications", min=1,
                                           help="Replications (per point).")]
Workers = Annotated[int | None, typer.Option(
    min=1, help="Local worker processes (default: the number of cores).")]
DaskScheduler = Annotated[str | None, typer.Option(
    help="Run on the dask.distributed scheduler at tcp://HOST:PORT.")]
DaskLocal = Annotated[str | None, typer.Option(
    "--dask", help="'local': run on a dask LocalCluster with --workers processes.")]
StorePath = Annotated[Path | None, typer.Option(
    "--store", envvar=STORE_ENV, show_envvar=True,
    help="Results database (default: ./straits-results.duckdb).")]
Sets = Annotated[list[str] | None, typer.Option(
    "--set", help="Fix a scenario value for the whole study: PATH=VALUE (repeatable).")]
Kpis = Annotated[list[str] | None, typer.Option(
    "--kpi", help="KPI to report, dotted as in `straits run --json` (repeatable).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print the results as JSON.")]

results_app = typer.Typer(no_args_is_help=True,
                          help="Browse and export the results store (plain SQL works on it too).")
app.add_typer(results_app, name="results")


@dataclass(frozen=True)
class Where:
    """Where an experiment runs and is stored (the flags every command shares)."""

    workers: int | None
    dask_scheduler: str | None
    dask: str | None
    store: Path | None

    def executor(self) -> Executor:
        if self.dask is not None and self.dask != "local":
            raise BadInput(f"--dask: only 'local' is accepted, got {self.dask!r}; "
                           "for a running cluster use --dask-scheduler tcp://HOST:PORT")
        if self.dask_scheduler and self.dask:
            raise BadInput("give either --dask local or --dask-scheduler, not both")
        if self.dask_scheduler and "://" not in self.dask_scheduler:
            raise BadInput(f"--dask-scheduler: {self.dask_scheduler!r} is not an address; "
                           "write tcp://HOST:PORT")
        try:
            return make_executor(self.workers, self.dask_scheduler, self.dask == "local")
        except OSError as exc:
            raise BadInput(f"--dask-scheduler: cannot reach {self.dask_scheduler}: {exc}") from None

    def open_store(self) -> ResultsStore:
        path = self.store or default_store_path()
        try:
            return ResultsStore(path)
        except duckdb.Error as exc:
            raise BadInput(f"--store: cannot open {str(path)!r}: {exc}") from None


# --- ensemble ----------------------------------------------------------------------------
@app.command("ensemble")
def ensemble_command(
    scenario: ScenarioArg,
    replications: Replications = 30,
    workers: Workers = None,
    dask_scheduler: DaskScheduler = None,
    dask: DaskLocal = None,
    store: StorePath = None,
    sets: Sets = None,
    kpi: Kpis = None,
    as_json: AsJson = False,
    parameter_uncertainty: Annotated[Path | None, typer.Option(
        help="A `straits calibrate --out` folder: also draw corridor values from its accepted "
             "set (--parameter-vectors of them, -n replications each).")] = None,
    parameter_vectors: Annotated[int, typer.Option(
        min=1, help="Accepted vectors drawn with --parameter-uncertainty.")] = 10,
) -> None:
    """Run N replications with reproducible seeds; KPI means, 95% CIs, percentiles and bands."""
    where = Where(workers, dask_scheduler, dask, store)

    def action() -> None:
        base = _scenario(scenario, sets)
        chosen = _check_kpis(base, kpi)
        if parameter_uncertainty is not None:
            _uncertain_ensemble(base, parameter_uncertainty, parameter_vectors, replications,
                                where, chosen, as_json)
            return
        experiment = ensemble(base, replications)
        with where.open_store() as results:
            report = _run(experiment, results, where, as_json)
            table = experiment_statistics(results, experiment.experiment_id, replications)[0]
            bands = holding_bands(results, experiment.experiment_id, 0, replications, base.start)
            bands_file = results.files / "bands" / f"{experiment.experiment_id}.parquet"
            _write_atomically(bands, bands_file)
        shown = [s for s in table if not chosen or s.kpi in chosen]
        if as_json:
            _print_json({
                **_header(experiment, report, results.path),
                "bands_file": str(bands_file),
                "kpis": {s.kpi: s.as_dict() for s in shown},
            })
            return
        _print_statistics(f"{base.name} · {replications} replications", shown)
        _print_footer(experiment, report, results.path)
        console.print(f"time-series bands (p5/p50/p95 per holding area, every 15 min): "
                      f"{bands_file}", highlight=False)

    guarded(action)


def _uncertain_ensemble(base: Scenario, calibration: Path, vectors: int, replications: int,
                        where: Where, chosen: list[str], as_json: bool) -> None:
    """The ensemble over accepted parameter vectors too: statistics pool every run."""
    experiment = uncertain_ensemble(base, load_accepted(calibration), vectors, replications)
    with where.open_store() as results:
        report = _run(experiment, results, where, as_json)
        shown = [s for s in pooled_statistics(results, experiment)
                 if not chosen or s.kpi in chosen]
    if as_json:
        _print_json({**_header(experiment, report, results.path),
                     "parameter_vectors": [p.parameters for p in experiment.points],
                     "kpis": {s.kpi: s.as_dict() for s in shown}})
        return
    _print_statistics(f"{base.name} · {len(experiment.points)} accepted parameter vectors × "
                      f"{replications} replications", shown)
    _print_footer(experiment, report, results.path)


# --- sweep -------------------------------------------------------------------------------
@app.command("sweep")
def sweep_command(
    scenario: ScenarioArg,
    vary: Annotated[list[str], typer.Option(
        help="PATH=v1,v2,... (grid) or PATH=lo:hi (lhs), e.g. "
             "terminals.dover.stages.check_in.booths=6,8,10 (repeatable).")],
    design: Annotated[str, typer.Option(help="grid (every combination) or lhs "
                                             "(Latin hypercube of --samples points).")] = "grid",
    samples: Annotated[int | None, typer.Option(min=1, help="Points for --design lhs.")] = None,
    replications: Replications = 10,
    workers: Workers = None,
    dask_scheduler: DaskScheduler = None,
    dask: DaskLocal = None,
    store: StorePath = None,
    sets: Sets = None,
    kpi: Kpis = None,
    as_json: AsJson = False,
) -> None:
    """Parameter study over dotted scenario paths: KPI mean and 95% CI at every point."""
    where = Where(workers, dask_scheduler, dask, store)

    def action() -> None:
        base = _scenario(scenario, sets)
        fixed = _fixed(base, sets)
        experiment = _sweep_experiment(base, vary, design, samples, replications, fixed)
        chosen = _check_kpis(base, kpi) or list(HEADLINE_KPIS)
        with where.open_store() as results:
            report = _run(experiment, results, where, as_json)
            table = experiment_statistics(results, experiment.experiment_id, replications)
        if as_json:
            _print_json({**_header(experiment, report, results.path), "points": [
                {"point": p.index, "parameters": p.parameters, "scenario_hash": p.scenario_hash,
                 "kpis": {s.kpi: s.as_dict() for s in table.get(p.index, [])
                          if not kpi or s.kpi in chosen}}
                for p in experiment.points]})
            return
        _print_sweep(experiment, table, chosen, replications)
        _print_footer(experiment, report, results.path)

    guarded(action)


def _sweep_experiment(base: Scenario, vary: list[str], design: str, samples: int | None,
                      replications: int, fixed: dict[str, Any]) -> Experiment:
    mapping = scenario_mapping(base)
    paths = [split_assignment(v, "--vary")[0] for v in vary]
    if len(set(paths)) != len(paths):
        raise BadInput("--vary: each path may appear once; list all its values in one --vary")
    if design == "grid":
        if samples is not None:
            raise BadInput("--samples is for --design lhs; a grid runs every combination")
        return grid_sweep(base, [parse_values(mapping, v) for v in vary], replications, fixed)
    if design == "lhs":
        if samples is None:
            raise BadInput("--design lhs needs --samples K (the number of points)")
        ranges = [parse_range(mapping, v, "--vary") for v in vary]
        return lhs_sweep(base, ranges, samples, replications, fixed)
    raise BadInput(f"--design: unknown design {design!r}; choose grid or lhs")


# --- sensitivity ---------------------------------------------------------------------------
@app.command("sensitivity")
def sensitivity_command(
    scenario: ScenarioArg,
    param: Annotated[list[str], typer.Option(
        help="PATH=lo:hi, e.g. demand.southbound.lorries_per_day=4000:7000 (repeatable).")],
    method: Annotated[str, typer.Option(help="morris (screening) or sobol (variance "
                                             "shares).")] = "morris",
    samples: Annotated[int | None, typer.Option(
        min=2, help="Morris trajectories (default 10) or Sobol base samples, "
                    "a power of 2 (default 64).")] = None,
    replications: Replications = 1,
    workers: Workers = None,
    dask_scheduler: DaskScheduler = None,
    dask: DaskLocal = None,
    store: StorePath = None,
    sets: Sets = None,
    kpi: Kpis = None,
    as_json: AsJson = False,
) -> None:
    """Global sensitivity (SALib) of KPIs to parameter ranges, as ranked tables."""
    where = Where(workers, dask_scheduler, dask, store)

    def action() -> None:
        if method not in METHODS:
            raise BadInput(f"--method: unknown method {method!r}; choose morris or sobol")
        base = _scenario(scenario, sets)
        fixed = _fixed(base, sets)
        mapping = scenario_mapping(base)
        ranges = [parse_range(mapping, p, "--param") for p in param]
        if len({r.path for r in ranges}) != len(ranges):
            raise BadInput("--param: each path may appear once")
        count = samples or (10 if method == "morris" else 64)
        if method == "sobol" and count & (count - 1):
            raise BadInput(f"--samples: Sobol needs a power of 2, e.g. "
                           f"{2 ** max(1, round(math.log2(count)))}; got {count}")
        chosen = _check_kpis(base, kpi) or list(HEADLINE_KPIS)
        experiment, units = sensitivity_experiment(base, ranges, method, count, replications,
                                                   fixed)
        with where.open_store() as results:
            report = _run(experiment, results, where, as_json)
            rankings = {k: _rank(results, experiment, ranges, units, method, k) for k in chosen}
        if as_json:
            _print_json({**_header(experiment, report, results.path), "method": method,
                         "rankings": {k: [{"rank": i + 1, "parameter": r.parameter, **r.indices}
                                          for i, r in enumerate(rows)]
                                      for k, rows in rankings.items()}})
            return
        for k, rows in rankings.items():
            _print_ranking(k, method, rows)
        _print_footer(experiment, report, results.path)

    guarded(action)


def _rank(results: ResultsStore, experiment: Experiment, ranges: list[Range], units: Any,
          method: str, kpi: str) -> list:
    means = point_means(results, experiment.experiment_id, experiment.replications, kpi)
    missing = [p.index for p in experiment.points if p.index not in means]
    if missing:
        raise BadInput(f"--kpi: {kpi!r} was not recorded at {len(missing)} points")
    outputs = np.array([means[p.index] for p in experiment.points])
    return analyse(method, ranges, units, kpi, outputs, seed=int(experiment.seed_key[:8], 16))


# --- results -------------------------------------------------------------------------------
@results_app.command("list")
def results_list(store: StorePath = None, as_json: AsJson = False) -> None:
    """Experiments in the store, newest first, with how many replications are done."""

    def action() -> None:
        with _read_store(store) as results:
            rows = results.con.execute(
                "SELECT e.experiment_id, e.kind, e.scenario_name, e.points, e.replications, "
                "count(r.run_id), e.created_at FROM experiments e "
                "JOIN experiment_points p USING (experiment_id) "
                "LEFT JOIN runs r ON r.scenario_hash = p.scenario_hash "
                "AND r.seed_key = p.seed_key AND r.replication < e.replications "
                "GROUP BY ALL ORDER BY e.created_at DESC").fetchall()
        keys = ("experiment_id", "kind", "scenario", "points", "replications", "done", "created")
        if as_json:
            _print_json([dict(zip(keys, (*row[:6], row[6].isoformat()), strict=True))
                         for row in rows])
            return
        table = Table(title=f"Experiments in {results.path}")
        for key in keys:
            table.add_column(key, no_wrap=key == "experiment_id",
                             justify="right" if key in ("points", "replications",
                                                        "done") else "left")
        for row in rows:
            done = f"{row[5]:,} / {row[3] * row[4]:,}"
            table.add_row(row[0], row[1], row[2], f"{row[3]:,}", f"{row[4]:,}", done,
                          f"{row[6]:%Y-%m-%d %H:%M}")
        console.print(table)

    guarded(action)


@results_app.command("show")
def results_show(
    experiment_id: Annotated[str, typer.Argument(help="An id from `straits results list`.")],
    store: StorePath = None,
    kpi: Annotated[str | None, typer.Option(help="Only KPIs whose name contains this.")] = None,
    as_json: AsJson = False,
) -> None:
    """KPI statistics of an experiment, per point."""

    def action() -> None:
        with _read_store(store) as results:
            replications, points = _experiment(results, experiment_id)
            table = experiment_statistics(results, experiment_id, replications, kpi)
        if as_json:
            _print_json({"experiment_id": experiment_id, "points": [
                {"point": p, "parameters": params,
                 "kpis": {s.kpi: s.as_dict() for s in table.get(p, [])}}
                for p, params in points]})
            return
        for p, params in points:
            shown = ", ".join(f"{k}={v}" for k, v in params.items()) or "base scenario"
            _print_statistics(f"{experiment_id} · point {p}: {shown}", table.get(p, []))

    guarded(action)


@results_app.command("export")
def results_export(
    experiment_id: Annotated[str, typer.Argument(help="An id from `straits results list`.")],
    out: Annotated[Path, typer.Option(help="File to write (.csv or .parquet).")],
    what: Annotated[str, typer.Option(help="runs, kpis, statistics, bands or "
                                           "timeseries.")] = "kpis",
    file_format: Annotated[str | None, typer.Option(
        "--format", help="csv or parquet (default: from the --out suffix).")] = None,
    point: Annotated[int, typer.Option(min=0, help="Point for bands.")] = 0,
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
        if not out.resolve().parent.is_dir():
            raise BadInput(f"--out: the folder {str(out.resolve().parent)!r} does not exist")
        with _read_store(store) as results:
            table = _export_table(results, experiment_id, what, point)
        if kind == "csv":
            pa_csv.write_csv(table, out)
        else:
            pq.write_table(table, out)
        console.print(f"{table.num_rows:,} rows of {what} written to {out}", highlight=False)

    guarded(action)


def _export_table(results: ResultsStore, experiment_id: str, what: str, point: int) -> pa.Table:
    replications, points = _experiment(results, experiment_id)
    mine = ("SELECT p.point, r.* FROM experiment_points p JOIN runs r "
            "ON r.scenario_hash = p.scenario_hash AND r.seed_key = p.seed_key "
            "WHERE p.experiment_id = ? AND r.replication < ?")
    arguments = [experiment_id, replications]
    if what == "runs":
        return results.query(f"{mine} ORDER BY point, replication", arguments)
    if what == "kpis":
        return results.query(
            f"SELECT m.point, m.replication, m.seed, k.kpi, k.value FROM ({mine}) m "
            "JOIN kpis k USING (run_id) ORDER BY m.point, m.replication, k.kpi", arguments)
    if what == "statistics":
        table = experiment_statistics(results, experiment_id, replications)
        rows = [{"point": p, "parameters": json.dumps(params), "kpi": s.kpi, **s.as_dict()}
                for p, params in points for s in table.get(p, [])]
        return pa.Table.from_pylist(rows)
    if point not in dict(points):
        raise BadInput(f"--point: {experiment_id} has points 0 to {len(points) - 1}")
    if what == "bands":
        start = results.con.execute("SELECT spec->>'start' FROM experiments "
                                    "WHERE experiment_id = ?", [experiment_id]).fetchone()[0]
        return holding_bands(results, experiment_id, point, replications,
                             datetime.fromisoformat(start))
    if "timeseries" not in _views(results):
        raise BadInput(f"{experiment_id} has no time series in the store")
    return results.query(
        f"SELECT m.point, t.* FROM ({mine}) m JOIN timeseries t USING (run_id) "
        "WHERE m.point = ? ORDER BY t.replication, t.direction, t.place, t.minutes",
        [*arguments, point])


# --- helpers -------------------------------------------------------------------------------
def _write_atomically(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    pq.write_table(table, partial)
    os.replace(partial, path)


def _scenario(name: str, sets: list[str] | None) -> Scenario:
    base = load_scenario(name)
    fixed = _fixed(base, sets)
    return apply_overrides(scenario_mapping(base), fixed) if fixed else base


def _fixed(base: Scenario, sets: list[str] | None) -> dict[str, Any]:
    pairs = [split_assignment(s, "--set") for s in sets or []]
    return {path: parse_scalar(value) for path, value in pairs}


def _check_kpis(base: Scenario, kpis: list[str] | None) -> list[str]:
    """Fail before running if a --kpi is not a KPI of this scenario."""
    if not kpis:
        return []
    known = set(flatten_kpis(simulate(_probe(base), 0).summary))
    for name in kpis:
        if name not in known and not name.startswith("disruptions."):
            close = sorted(k for k in known if name.split(".")[-1] in k)[:8] or sorted(known)[:8]
            raise BadInput(f"--kpi: unknown KPI {name!r}; e.g. {', '.join(close)} "
                           "(all: `straits run SCENARIO --json`)")
    return list(kpis)


def _probe(base: Scenario) -> Scenario:
    """A one-hour copy of the scenario: the same KPI names, at almost no cost."""
    return base.model_copy(update={"horizon": min(base.horizon, 60.0)})


def _run(experiment: Experiment, results: ResultsStore, where: Where, quiet: bool) -> RunReport:
    """Run with a progress bar; Ctrl-C keeps what finished and exits 130."""
    executor = where.executor()
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                        console=errors, transient=quiet)
    state: dict[str, Any] = {}

    def on_start(total: int, skipped: int) -> None:
        state["task"] = progress.add_task(f"{experiment.kind} {experiment.experiment_id}",
                                          total=total - skipped)
        state["skipped"] = skipped

    try:
        with progress:
            return run_experiment(experiment, results, executor, on_start,
                                  lambda: progress.advance(state["task"]))
    except KeyboardInterrupt:
        kept = progress.tasks[0].completed if progress.tasks else 0
        executor.close()
        fail(f"interrupted: {int(kept) + state.get('skipped', 0)} replications are kept in "
             f"{results.path}; rerun the same command to finish", 130)
        raise  # fail() always raises; this keeps type checkers informed
    finally:
        executor.close()


def _read_store(store: Path | None) -> ResultsStore:
    path = store or default_store_path()
    if not Path(path).exists():
        raise BadInput(f"--store: no results store at {str(path)!r}; run `straits ensemble` "
                       f"first or point --store / ${STORE_ENV} at one")
    try:
        return ResultsStore(path, read_only=True)
    except duckdb.Error as exc:
        raise BadInput(f"--store: cannot read {str(path)!r} (is a run still writing it?): "
                       f"{exc}") from None


def _experiment(results: ResultsStore, experiment_id: str) -> tuple[int, list[tuple[int, dict]]]:
    row = results.con.execute("SELECT replications FROM experiments WHERE experiment_id = ?",
                              [experiment_id]).fetchone()
    if row is None:
        known = [r[0] for r in results.con.execute(
            "SELECT experiment_id FROM experiments ORDER BY created_at DESC LIMIT 10").fetchall()]
        raise BadInput(f"no experiment {experiment_id!r} in {results.path}; "
                       f"recent ones: {', '.join(known) or 'none'}")
    points = results.con.execute("SELECT point, parameters FROM experiment_points "
                                 "WHERE experiment_id = ? ORDER BY point",
                                 [experiment_id]).fetchall()
    return row[0], [(p, json.loads(params)) for p, params in points]


def _views(results: ResultsStore) -> set[str]:
    return {r[0] for r in results.con.execute(
        "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}


def _header(experiment: Experiment, report: RunReport, path: Path) -> dict[str, Any]:
    return {
        "experiment_id": experiment.experiment_id,
        "kind": experiment.kind,
        "scenario": experiment.base.name,
        "scenario_hash": experiment.spec["scenario_hash"],
        "replications": experiment.replications,
        "points": len(experiment.points),
        "store": str(path),
        "run": {"replications_run": report.ran, "replications_in_store": report.skipped,
                "wall_seconds": round(report.wall_seconds, 3),
                "store_seconds": round(report.store_seconds, 3)},
    }


def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False, default=_finite) + "\n")


def _finite(value: Any) -> Any:
    raise TypeError(f"not JSON serialisable: {value!r}")


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3g}"


def _print_statistics(title: str, rows: list[KpiStatistics]) -> None:
    table = Table(title=title, caption="KPI names without their leading 'directions.'")
    table.add_column("KPI", overflow="fold")
    for column in ("mean", "std", "95% CI", "p5", "p50", "p95"):
        table.add_column(column, justify="right", no_wrap=True)
    for s in rows:
        ci = "—" if s.ci95_low is None else f"{_fmt(s.ci95_low)}–{_fmt(s.ci95_high)}"
        table.add_row(s.kpi.removeprefix("directions."), _fmt(s.mean), _fmt(s.std), ci,
                      _fmt(s.p5), _fmt(s.p50), _fmt(s.p95))
    console.print(table)


def _print_sweep(experiment: Experiment, table: dict[int, list[KpiStatistics]],
                 chosen: list[str], replications: int) -> None:
    out = Table(title=f"{experiment.base.name} · sweep · {replications} replications per point "
                      "· mean ± 95% CI half-width")
    names = list(experiment.points[0].parameters)
    out.add_column("point", justify="right")
    for name in names:  # the last two parts of the path say enough; folded, not cut
        out.add_column(".".join(name.split(".")[-2:]), justify="right", overflow="fold")
    for k in chosen:
        out.add_column(k.removeprefix("directions."), justify="right", overflow="fold")
    for p in experiment.points:
        stats = {s.kpi: s for s in table.get(p.index, [])}
        cells = [_cell(stats.get(k)) for k in chosen]
        out.add_row(str(p.index), *(str(p.parameters[n]) for n in names), *cells)
    console.print(out)


def _cell(s: KpiStatistics | None) -> str:
    if s is None:
        return "—"
    return _fmt(s.mean) + ("" if s.half_width is None else f" ± {_fmt(s.half_width)}")


def _print_ranking(kpi: str, method: str, rows: list) -> None:
    table = Table(title=f"Sensitivity of {kpi} ({method})")
    table.add_column("rank", justify="right")
    table.add_column("parameter")
    for key in rows[0].indices if rows else []:
        table.add_column(key, justify="right")
    for i, row in enumerate(rows):
        table.add_row(str(i + 1), row.parameter, *(_fmt(v) for v in row.indices.values()))
    console.print(table)


def _print_footer(experiment: Experiment, report: RunReport, path: Path) -> None:
    console.print(
        f"experiment [bold]{experiment.experiment_id}[/]: {report.total:,} replications "
        f"({report.skipped:,} already in the store, {report.ran:,} run now in "
        f"{report.wall_seconds:.1f} s); store {path}", highlight=False)

