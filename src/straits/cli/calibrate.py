"""``straits calibrate``: fit the shared corridor to every validation target at once
(docs/calibration.md)."""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from straits.calibration import DEFAULT_SPEC
from straits.cli.app import BadInput, app, check_budget, console, errors, fail
from straits.cli.experiments import DaskLocal, DaskScheduler, Where, Workers
from straits.cli.format import count_text
from straits.cli.results import AsJson, store_guarded

if TYPE_CHECKING:  # the calibration room loads the engine and optuna: only when it runs
    from straits.calibration.acceptance import Summary
    from straits.calibration.crossval import Fold
    from straits.calibration.search import TrialResult
    from straits.calibration.spec import Spec
    from straits.experiments.executors import Executor
    from straits.experiments.store import ResultsStore

STORE_FILE = "straits-results.duckdb"


@app.command("calibrate")
def calibrate_command(
    spec: Annotated[str | None, typer.Argument(
        help=f"Calibration spec: a built-in name or a YAML file (default: {DEFAULT_SPEC}).")
    ] = None,
    trials: Annotated[int | None, typer.Option(
        min=1, help="Trials to finish (default: the spec's budget).")] = None,
    replications: Annotated[int | None, typer.Option(
        "--replications", "-n", min=1, help="Replications per candidate (default: the spec's).")
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Seed of the search and of the "
                                                         "replications (default: the spec's).")
                    ] = None,
    sampler: Annotated[str | None, typer.Option(
        help="The search after the prior draws: tpe, cmaes, prior (ABC rejection "
             "sampling) or smc (ABC population Monte Carlo: a weighted posterior) "
             "(default: the spec's).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Folder for the study, the results store and the outputs "
             "(default: calibration-<spec>/). Rerun with the same folder to resume.")] = None,
    store: Annotated[Path | None, typer.Option(
        help=f"Results database (default: {STORE_FILE} in --out).")] = None,
    cross_validate_: Annotated[bool, typer.Option(
        "--cross-validate", help="Leave one event out: refit without each scenario's targets "
                                 "and predict them.")] = False,
    workers: Workers = None,
    dask_scheduler: DaskScheduler = None,
    dask: DaskLocal = None,
    as_json: AsJson = False,
) -> None:
    """Fit free corridor values to the validation targets (optuna, common random numbers)."""
    command = "straits " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "straits calibrate"

    def action() -> None:
        from straits.calibration.spec import load_spec
        from straits.experiments.executors import WorkerLost
        from straits.scenario import load_scenario

        chosen = _with_flags(load_spec(spec), trials, replications, seed, sampler)
        names = dict.fromkeys(t.scenario for t in chosen.targets)
        check_budget([load_scenario(n) for n in names], chosen.refine_replications)
        folder = out or Path(f"calibration-{chosen.name}")
        if folder.exists() and not folder.is_dir():
            raise BadInput(f"--out: {str(folder)!r} is a file; give a folder")
        where = Where(workers, dask_scheduler, dask, store or folder / STORE_FILE)
        with where.open_store() as results:  # a bad --store fails before any worker starts
            executor = where.executor()
            try:
                if cross_validate_:
                    _cross_validate(chosen, folder, results, executor, as_json)
                else:
                    _calibrate(chosen, folder, results, executor, command, as_json)
            except (KeyboardInterrupt, WorkerLost) as exc:
                why, code = ((str(exc), 1) if isinstance(exc, WorkerLost)
                             else ("interrupted", 130))
                fail(f"{why}: finished trials and replications are kept in {str(folder)!r}; "
                     "rerun the same command to resume", code)
            finally:
                executor.close()

    store_guarded(action)


def _with_flags(spec: Spec, trials: int | None, replications: int | None,
                seed: int | None, sampler: str | None) -> Spec:
    from straits.calibration.spec import SAMPLERS, check_sampler

    changes: dict[str, Any] = {}
    if sampler is not None:
        if sampler not in SAMPLERS:
            raise BadInput(f"--sampler: {sampler!r} is not a sampler; choose one of "
                           f"{', '.join(SAMPLERS)}")
        changes["sampler"] = sampler
    if trials is not None:
        changes["trials"] = trials
    if replications is not None:
        changes["replications"] = replications
        changes["refine_replications"] = max(spec.refine_replications, replications)
    if seed is not None:
        changes["seed"] = seed
    chosen = replace(spec, **changes)
    check_sampler(chosen)  # --sampler smc on a spec whose batches do not suit it
    return chosen


def _calibrate(spec: Spec, folder: Path, results: ResultsStore, executor: Executor,
               command: str, as_json: bool) -> None:
    from straits.calibration.acceptance import summarise, summary_json, write_results
    from straits.calibration.evaluation import Evaluator
    from straits.calibration.search import open_study, run_search

    evaluator = Evaluator(spec, results, executor)
    open_study(folder, spec)  # a different spec in --out stops here, before any work
    with console.status("", spinner="dots") as status:
        trials = run_search(spec, folder, evaluator, spec.trials,
                            lambda r: status.update(_progress("", r, spec.trials)))
    summary = summarise(spec, trials, evaluator)
    files = write_results(folder, summary, command)
    if as_json:
        sys.stdout.write(json.dumps(summary_json(summary, command), indent=2) + "\n")
        return
    _print_fit(summary)
    ess = summary.effective_sample_size
    weighted = f" (effective sample size {ess:.1f})" if ess is not None else ""
    console.print(f"{len(trials)} trials, {len(summary.accepted)} accepted{weighted}; written: "
                  + ", ".join(str(f) for f in files), highlight=False)


def _cross_validate(spec: Spec, folder: Path, results: ResultsStore, executor: Executor,
                    as_json: bool) -> None:
    from straits.calibration.crossval import cross_validate, folds_markdown, pass_rates
    from straits.calibration.evaluation import Evaluator

    full = Evaluator(spec, results, executor)
    with console.status("", spinner="dots") as status:
        folds = cross_validate(spec, folder, full, lambda s: Evaluator(s, results, executor),
                               spec.trials,
                               lambda name, r: status.update(_progress(f"without {name}: ", r,
                                                                       spec.trials)))
    table = folds_markdown(folds, spec)
    (folder / "cross-validation.md").write_text(table, encoding="utf-8")
    events, targets = pass_rates(folds)
    data = {"spec": spec.name, "trials_per_fold": spec.trials, "event_pass_rate": events,
            "target_pass_rate": targets, "folds": [_fold_json(f) for f in folds]}
    (folder / "cross-validation.json").write_text(json.dumps(data, indent=2) + "\n",
                                                  encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    _print_folds(folds)
    console.print(f"written: {folder / 'cross-validation.md'}, "
                  f"{folder / 'cross-validation.json'}", highlight=False)


def _progress(prefix: str, r: TrialResult, total: int) -> str:
    return (f"{prefix}trial {r.number + 1}/{total}: score {r.score:.3g} "
            f"({'accepted' if r.accepted else 'not accepted'})")


def _fold_json(fold: Fold) -> dict[str, Any]:
    return {"left_out": fold.scenario, "fitted_on": fold.fitted_on, "values": fold.best.values,
            "passed": fold.passed,
            "targets": {k: {"mean": f.mean, "band": [f.band_low, f.band_high],
                            "passed": f.passed} for k, f in fold.predicted.items()}}


def _verdict(passed: bool) -> Text:
    return Text("pass", style="green") if passed else Text("FAIL", style="bold red")


def _number(value: float) -> str:
    return count_text(round(value)) if abs(value) >= 100 else f"{value:.2f}"


def _print_fit(summary: Summary) -> None:
    from straits.calibration.acceptance import accepted_range_text, quantiles_text

    best = summary.best
    table = Table(title=f"Best of {len(summary.trials)} trials: trial {best.number}, score "
                        f"{best.score:.3f} ({best.replications} replications per scenario)")
    for column in ("target", "model mean", "pass band", "distance", "result",
                   "accepted range"):
        table.add_column(column, overflow="fold")
    for key, f in best.fits.items():
        means = [t.fits[key].mean for t in summary.accepted]
        spread = f"{_number(min(means))}–{_number(max(means))}" if means else "—"
        table.add_row(key, _number(f.mean), f"{_number(f.band_low)}–{_number(f.band_high)}",
                      f"{f.distance:+.2f}", _verdict(f.passed),
                      spread)
    console.print(table)
    weighted = summary.weights is not None
    values = Table(title="Parameters")
    for column in ("path", "in", "shipped", "best", "accepted range",
                   *(["weighted 5% / 50% / 95%"] if weighted else [])):
        values.add_column(column, overflow="fold")
    for p in summary.spec.parameters:
        values.add_row(p.path, p.home, p.text(p.home_value), p.text(best.values[p.path]),
                       accepted_range_text(summary, p),
                       *([quantiles_text(summary, p)] if weighted else []))
    console.print(values)
    if not summary.accepted:
        errors.print("no candidate put every target in its band; the best is written anyway",
                     highlight=False)


def _print_folds(folds: list[Fold]) -> None:
    table = Table(title="Leave one event out: out-of-sample predictions")
    for column in ("left out", "target", "predicted", "pass band", "result"):
        table.add_column(column, overflow="fold")
    for fold in folds:
        for i, (key, f) in enumerate(fold.predicted.items()):
            table.add_row(fold.scenario if i == 0 else "", key, _number(f.mean),
                          f"{_number(f.band_low)}–{_number(f.band_high)}",
                          _verdict(f.passed))
    console.print(table)
    from straits.calibration.crossval import pass_rates

    events, targets = pass_rates(folds)
    console.print(f"out of sample: {events:.0%} of events and {targets:.0%} of targets pass",
                  highlight=False)
