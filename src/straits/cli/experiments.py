"""Experiment commands: ensemble, sweep and sensitivity (``results`` is in cli/results.py)."""

from __future__ import annotations

import math
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
from rich.text import Text

from straits.cli.app import BadInput, app, check_budget, console, errors, fail, styled
from straits.cli.results import (
    AsJson,
    StorePath,
    add_plain_row,
    kpi_label,
    mean_text,
    print_json,
    print_statistics,
    store_guarded,
    value_text,
    write_table,
)
from straits.experiments.store_path import default_store_path
from straits.scenario import Scenario, load_scenario, with_horizon

if TYPE_CHECKING:  # the engine, DuckDB, SciPy and SALib load when a command runs
    from straits.experiments.ensemble import Experiment, RunReport
    from straits.experiments.executors import Executor
    from straits.experiments.statistics import KpiStatistics
    from straits.experiments.store import ResultsStore
    from straits.experiments.sweep import Range, Threshold

HEADLINE_KPIS = (
    "directions.southbound.delay_minutes.mean",
    "directions.southbound.queue_peak_km",
    "directions.northbound.delay_minutes.mean",
    "directions.northbound.queue_peak_km",
    "cost_gbp",
)

ScenarioArg = Annotated[str, typer.Argument(help="Built-in name or path to a YAML file.")]
Replications = Annotated[int, typer.Option("-n", "--replications", min=1,
                                           help="Replications (per point).")]
Workers = Annotated[int | None, typer.Option(
    min=1, help="Local worker processes (default: the number of cores).")]
DaskScheduler = Annotated[str | None, typer.Option(
    help="Run on the dask.distributed scheduler at tcp://HOST:PORT.")]
DaskLocal = Annotated[str | None, typer.Option(
    "--dask", help="'local': run on a dask LocalCluster with --workers processes.")]
Sets = Annotated[list[str] | None, typer.Option(
    "--set", help="Fix a scenario value for the whole study: PATH=VALUE (repeatable).")]
Kpis = Annotated[list[str] | None, typer.Option(
    "--kpi", help="KPI to report, dotted as in `straits run --json` (repeatable).")]


@dataclass(frozen=True)
class Where:
    """Where an experiment runs and is stored (the flags every command shares)."""

    workers: int | None
    dask_scheduler: str | None
    dask: str | None
    store: Path | None

    def executor(self) -> Executor:
        from straits.experiments.executors import make_executor

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
        """The store, opened for writing before any simulation (a bad --store fails first)."""
        from straits.experiments.store import ResultsStore

        return ResultsStore(self.store or default_store_path())


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
    show_all: Annotated[bool, typer.Option(
        "--all", help="Show every KPI (default: the headline delays, queues and cost).")] = False,
    as_json: AsJson = False,
    parameter_uncertainty: Annotated[Path | None, typer.Option(
        help="A `straits calibrate --out` folder: also draw corridor values from its accepted "
             "set (--parameter-vectors of them, by weight for an smc calibration; "
             "-n replications each).")] = None,
    parameter_vectors: Annotated[int, typer.Option(
        min=1, help="Accepted vectors drawn with --parameter-uncertainty.")] = 10,
) -> None:
    """Run N replications with reproducible seeds; KPI means, 95% CIs, percentiles and bands."""
    from straits.experiments.ensemble import ensemble
    from straits.experiments.statistics import experiment_statistics

    where = Where(workers, dask_scheduler, dask, store)

    def action() -> None:
        base = _scenario(scenario, sets)
        experiment = ensemble(base, replications)
        _check_budget(experiment)
        with where.open_store() as results:
            chosen = _check_kpis(base, kpi)
            if parameter_uncertainty is not None:
                _uncertain_ensemble(base, parameter_uncertainty, parameter_vectors, replications,
                                    where, results, chosen, as_json)
                return
            report = _run(experiment, results, where, as_json)
            table = experiment_statistics(results, experiment.experiment_id).get(0, [])
            bands_file = results.files / "bands" / f"{experiment.experiment_id}.parquet"
            write_table(results.bands(experiment.experiment_id, 0), bands_file)
        wanted = chosen or ([] if show_all or as_json else list(HEADLINE_KPIS))
        shown = [s for s in table if not wanted or s.kpi in wanted]
        if as_json:
            print_json({
                **_header(experiment, report, results.path),
                "bands_file": str(bands_file),
                "kpis": {s.kpi: s.as_dict() for s in shown},
            })
            return
        print_statistics(f"{base.name} · {replications} replications", shown)
        _print_footer(experiment, report, results.path)
        console.print(f"time-series bands (p5/p50/p95 per holding area, every 15 min): "
                      f"{bands_file}")

    store_guarded(action)


def _uncertain_ensemble(base: Scenario, calibration: Path, vectors: int, replications: int,
                        where: Where, results: ResultsStore, chosen: list[str],
                        as_json: bool) -> None:
    """The ensemble over accepted parameter vectors too: statistics pool every run."""
    from straits.calibration.uncertainty import (
        load_accepted,
        pooled_statistics,
        uncertain_ensemble,
    )

    experiment = uncertain_ensemble(base, load_accepted(calibration), vectors, replications)
    _check_budget(experiment)
    report = _run(experiment, results, where, as_json)
    shown = [s for s in pooled_statistics(results, experiment)
             if not chosen or s.kpi in chosen]
    if as_json:
        print_json({**_header(experiment, report, results.path),
                     "parameter_vectors": [p.parameters for p in experiment.points],
                     "kpis": {s.kpi: s.as_dict() for s in shown}})
        return
    print_statistics(f"{base.name} · {len(experiment.points)} accepted parameter vectors × "
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
    stat: Annotated[str, typer.Option(
        help="Statistic shown per point and tested by --target: mean (± 95% CI), p50 or "
             "p95.")] = "mean",
    target: Annotated[str | None, typer.Option(
        help="A threshold such as 'queue_peak_km<10' (KPI, <, <=, > or >=, number): marks the "
             "points that meet it and the first (cheapest) that does.")] = None,
    as_json: AsJson = False,
) -> None:
    """Parameter study over dotted scenario paths: a KPI statistic at every point."""
    from straits.experiments.statistics import STATISTICS, experiment_statistics
    from straits.experiments.sweep import meeting_points, parse_threshold

    where = Where(workers, dask_scheduler, dask, store)

    def action() -> None:
        if stat not in STATISTICS:
            raise BadInput(f"--stat: choose one of {', '.join(STATISTICS)}, got {stat!r}")
        threshold = parse_threshold(target) if target is not None else None
        base = _scenario(scenario, sets)
        fixed = _fixed(base, sets)
        experiment = _sweep_experiment(base, vary, design, samples, replications, fixed)
        _check_budget(experiment)
        with where.open_store() as results:
            chosen = _check_kpis(base, kpi) or list(HEADLINE_KPIS)
            if threshold is not None:
                threshold = threshold.resolved(_known_kpis(base))
                chosen += [k for k in threshold.kpis if k not in chosen]
            report = _run(experiment, results, where, as_json)
            table = experiment_statistics(results, experiment.experiment_id)
        met = meeting_points(table, threshold, stat) if threshold is not None else []
        if as_json:
            print_json({**_header(experiment, report, results.path), "stat": stat,
                        **_target_json(threshold, stat, met), "points": [
                {"point": p.index, "parameters": p.parameters, "scenario_hash": p.scenario_hash,
                 "kpis": {s.kpi: s.as_dict() for s in table.get(p.index, [])
                          if not kpi or s.kpi in chosen}}
                for p in experiment.points]})
            return
        _print_sweep(experiment, table, chosen, stat, threshold, met)
        _print_footer(experiment, report, results.path)

    store_guarded(action)


def _sweep_experiment(base: Scenario, vary: list[str], design: str, samples: int | None,
                      replications: int, fixed: dict[str, Any]) -> Experiment:
    from straits.experiments.sweep import (
        grid_sweep,
        lhs_sweep,
        parse_range,
        parse_values,
        scenario_mapping,
        split_assignment,
    )

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


def _target_json(threshold: Threshold | None, stat: str, met: list[int]) -> dict[str, Any]:
    if threshold is None:
        return {}
    return {"target": {"expression": threshold.text, "kpis": threshold.kpis, "stat": stat,
                       "points_meeting": met, "cheapest_point": met[0] if met else None}}


def _print_sweep(experiment: Experiment, table: dict[int, list[KpiStatistics]],
                 chosen: list[str], stat: str, threshold: Threshold | None,
                 met: list[int]) -> None:
    shown = "mean ± 95% CI half-width" if stat == "mean" else stat
    out = Table(title=Text(f"{experiment.base.name} · sweep · {experiment.replications} "
                           f"replications per point · {shown}"))
    names = list(experiment.points[0].parameters)
    out.add_column("point", justify="right")
    for name in names:  # the last two parts of the path say enough; folded, not cut
        out.add_column(Text(".".join(name.split(".")[-2:])), justify="right", overflow="fold")
    for k in chosen:
        out.add_column(Text(kpi_label(k)), justify="right", overflow="fold")
    if threshold is not None:
        out.add_column(Text(threshold.text), overflow="fold")
    for p in experiment.points:
        stats = {s.kpi: s for s in table.get(p.index, [])}
        cells = [_cell(stats.get(k), stat) for k in chosen]
        if threshold is not None:
            mark = "✓ first" if met and p.index == met[0] else ("✓" if p.index in met else "")
            cells.append(mark)
        add_plain_row(out, str(p.index), *(str(p.parameters[n]) for n in names), *cells)
    console.print(out)
    if threshold is not None:
        console.print(_target_line(experiment, threshold, stat, met))


def _target_line(experiment: Experiment, threshold: Threshold, stat: str,
                 met: list[int]) -> str:
    if not met:
        return f"no point meets {threshold.text} ({stat})"
    first = experiment.points[met[0]]
    values = ", ".join(f"{k}={v}" for k, v in first.parameters.items())
    return (f"{len(met)} of {len(experiment.points)} points meet {threshold.text} ({stat}); "
            f"the cheapest (first) is point {first.index}: {values}")


def _cell(s: KpiStatistics | None, stat: str) -> str:
    if s is None or stat == "mean":
        return mean_text(s)
    return value_text(s.kpi, getattr(s, stat))


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
    from straits.experiments.sensitivity import METHODS, sensitivity_experiment
    from straits.experiments.sweep import parse_range, scenario_mapping

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
        experiment, units = sensitivity_experiment(base, ranges, method, count, replications,
                                                   fixed)
        _check_budget(experiment)
        with where.open_store() as results:
            chosen = _check_kpis(base, kpi) or list(HEADLINE_KPIS)
            report = _run(experiment, results, where, as_json)
            rankings = {k: _rank(results, experiment, ranges, units, method, k) for k in chosen}
        if as_json:
            print_json({**_header(experiment, report, results.path), "method": method,
                        "rankings": {k: [{"rank": i + 1, "parameter": r.parameter, **r.indices}
                                         for i, r in enumerate(rows)]
                                     for k, rows in rankings.items()}})
            return
        for k, rows in rankings.items():
            _print_ranking(k, method, rows)
        _print_footer(experiment, report, results.path)

    store_guarded(action)


def _rank(results: ResultsStore, experiment: Experiment, ranges: list[Range], units: Any,
          method: str, kpi: str) -> list:
    import numpy as np

    from straits.experiments.sensitivity import analyse

    means = results.point_means(experiment.experiment_id, kpi)
    missing = [p.index for p in experiment.points if p.index not in means]
    if missing:
        raise BadInput(f"--kpi: {kpi!r} was not recorded at {len(missing)} points")
    outputs = np.array([means[p.index] for p in experiment.points])
    return analyse(method, ranges, units, kpi, outputs, seed=int(experiment.seed_key[:8], 16))



# --- helpers -------------------------------------------------------------------------------
def _scenario(name: str, sets: list[str] | None) -> Scenario:
    from straits.experiments.sweep import apply_overrides, scenario_mapping

    base = load_scenario(name)
    fixed = _fixed(base, sets)
    return apply_overrides(scenario_mapping(base), fixed) if fixed else base


def _fixed(base: Scenario, sets: list[str] | None) -> dict[str, Any]:
    from straits.experiments.sweep import parse_scalar, split_assignment

    pairs = [split_assignment(s, "--set") for s in sets or []]
    return {path: parse_scalar(value) for path, value in pairs}


def _check_budget(experiment: Experiment) -> None:
    check_budget([p.scenario for p in experiment.points], experiment.replications)


def _known_kpis(base: Scenario) -> set[str]:
    from straits.experiments.tasks import flatten_kpis
    from straits.pipeline import simulate

    return set(flatten_kpis(simulate(_probe(base), 0).summary))


def _check_kpis(base: Scenario, kpis: list[str] | None) -> list[str]:
    """Fail before running if a --kpi is not a KPI of this scenario."""
    if not kpis:
        return []
    known = _known_kpis(base)
    for name in kpis:
        if name not in known and not name.startswith(DATED_KPIS):
            close = sorted(k for k in known if name.split(".")[-1] in k)[:8] or sorted(known)[:8]
            raise BadInput(f"--kpi: unknown KPI {name!r}; e.g. {', '.join(close)} "
                           "(all: `straits run SCENARIO --json`)")
    return list(kpis)


DATED_KPIS = ("disruptions.", "security.measures.", "security.periods.",
              "security.cost_of_measures_gbp.")
"""KPIs of dated items (disruptions, security changes and report periods): the probe's
first hour holds only those that start in it, so --kpi accepts these by prefix."""


def _probe(base: Scenario) -> Scenario:
    """A one-hour run of the scenario, validated like any other: the same KPI names
    (but for :data:`DATED_KPIS`) at almost no cost."""
    return with_horizon(base, min(base.horizon, 60.0), source="KPI probe")


def _run(experiment: Experiment, results: ResultsStore, where: Where, quiet: bool) -> RunReport:
    """Run with a progress bar; Ctrl-C (exit 130) or SIGTERM (exit 143) keeps what
    finished; a worker that keeps dying stops the run with one line (exit 1)."""
    from straits.experiments.ensemble import Stopped, run_experiment
    from straits.experiments.executors import WorkerLost

    executor = where.executor()
    progress = Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                        TimeRemainingColumn(), console=errors, transient=quiet)
    state: dict[str, Any] = {}

    def on_start(total: int, skipped: int) -> None:
        state["task"] = progress.add_task(f"{experiment.kind} {experiment.experiment_id}",
                                          total=total - skipped)
        state["skipped"] = skipped

    try:
        with progress:
            return run_experiment(experiment, results, executor, on_start,
                                  lambda: progress.advance(state["task"]))
    except (KeyboardInterrupt, WorkerLost) as exc:
        kept = int(progress.tasks[0].completed if progress.tasks else 0) + state.get("skipped", 0)
        executor.close()
        why, code = ("interrupted", 130)
        if isinstance(exc, Stopped) and exc.signum == signal.SIGTERM:
            why, code = ("terminated", 128 + signal.SIGTERM)
        elif isinstance(exc, WorkerLost):
            why, code = (str(exc), 1)
        fail(f"{why}: {kept:,} replications are kept in {results.path}; rerun the same "
             "command to finish", code)
        raise  # fail() always raises; this keeps type checkers informed
    finally:
        executor.close()


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


def _print_ranking(kpi: str, method: str, rows: list) -> None:
    table = Table(title=Text(f"Sensitivity of {kpi} ({method})"))
    table.add_column("rank", justify="right")
    table.add_column("parameter", overflow="fold")
    for key in rows[0].indices if rows else []:
        table.add_column(key, justify="right", overflow="fold")
    for i, row in enumerate(rows):
        add_plain_row(table, str(i + 1), row.parameter,
                      *(f"{v:,.3g}" for v in row.indices.values()))
    console.print(table)


def _print_footer(experiment: Experiment, report: RunReport, path: Path) -> None:
    console.print(styled(
        "experiment ", (experiment.experiment_id, "bold"),
        f": {report.total:,} replications ({report.skipped:,} already in the store, "
        f"{report.ran:,} run now in {report.wall_seconds:.1f} s); store {path}"))

