"""``straits optimise STUDY``: the cheapest plans that meet the study's constraints."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from straits.cli.app import app, check_budget, console, errors, fail, guarded
from straits.cli.experiments import DaskLocal, DaskScheduler, StorePath, Where, Workers


@app.command("optimise")
def optimise_command(
    study: Annotated[str, typer.Argument(help="Built-in study name or path to a study YAML.")],
    trials: Annotated[int | None, typer.Option(min=1, help="Plans to try (default: the "
                                               "study's budget).")] = None,
    replications: Annotated[int | None, typer.Option(
        "-n", "--replications", min=1, help="Replications per plan in the search.")] = None,
    workers: Workers = None,
    dask_scheduler: DaskScheduler = None,
    dask: DaskLocal = None,
    store: StorePath = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default: "
                                             "./optimise-STUDY); rerun to resume.")] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Study seed (default: the "
                                             "study's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Summary as JSON on stdout.")] = False,
) -> None:
    """Search plans (optuna), re-run the chosen ones on fresh seeds, write the front."""

    def action() -> None:
        # the engine, optuna and plotly load only when a study runs (fast --help)
        from straits.experiments.tasks import flatten_kpis
        from straits.optimisation.outputs import finite, write_outputs
        from straits.optimisation.runner import StoreEvaluator
        from straits.optimisation.spec import check_kpis, load_study, probe_scenario
        from straits.optimisation.study import run_study
        from straits.pipeline import simulate

        loaded = load_study(study)
        check_budget(loaded.scenarios, loaded.study.budget.largest_run(replications))
        known = set(flatten_kpis(simulate(probe_scenario(loaded.base), 0).summary))
        check_kpis(loaded, known, study)
        folder = out or Path(f"optimise-{loaded.study.name}")
        where = Where(workers, dask_scheduler, dask, store)
        executor = where.executor()
        results = where.open_store()
        evaluator = StoreEvaluator(loaded.base, results, executor, loaded.study.name)

        def on_batch(done: int, total: int) -> None:
            errors.print(f"{done}/{total} plans tried ({evaluator.replications_run} "
                         "replications run)", highlight=False)

        try:
            result = run_study(loaded, evaluator, folder, trials, replications, seed, on_batch)
        except KeyboardInterrupt:
            fail(f"interrupted: finished replications are kept in {results.path} and the "
                 f"study in {folder}; rerun the same command to resume", 130)
        finally:
            executor.close()
            results.close()
        summary = write_outputs(result, folder)
        if as_json:
            shown = {k: v for k, v in summary.items() if k != "all_trials"}
            sys.stdout.write(json.dumps(finite(shown), indent=2, allow_nan=False) + "\n")
            return
        _print(summary, folder)

    guarded(action)


def _print(summary: dict[str, Any], folder: Path) -> None:
    """One column per plan (front, references, do-nothing), one row per field."""
    rows = summary["front"] + summary["references"] + [summary["do_nothing"]]
    table = Table(title=f"{summary['study']}: Pareto front ({len(summary['front'])} plans of "
                        f"{summary['trials']} tried), references and do-nothing")
    table.add_column("", overflow="fold", min_width=24)
    for row in rows:
        table.add_column(str(row["plan"]), justify="right")
    fields = [k for k in rows[0] if k not in ("plan", "rerun")]
    for field in fields:
        label = field.replace("security.", "").replace("directions.", "")
        table.add_row(label, *[_text(row.get(field)) for row in rows])
    console.print(table)
    recommended = summary["recommended"]
    console.print("recommended: " + (f"plan {recommended}" if recommended is not None else
                                     "none (no chosen plan met every constraint on fresh "
                                     "seeds)"))
    for note in summary["notes"]:
        console.print(f"note: {note}", highlight=False)
    console.print(f"report: {folder / 'report.html'}; table: {folder / 'front.csv'}; "
                  f"plans: {folder / 'plans'}")


def _text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "" if value is None else str(value)
