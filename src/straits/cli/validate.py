"""``straits validate``: run every validation scenario as an ensemble and compare
the results with the published figures (docs/validation.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from straits.cli.app import BadInput, app, check_budget, console, errors, guarded, styled
from straits.cli.format import duration_text
from straits.files import atomic_path, ensure_writable_folder
from straits.scenario import load_scenario

if TYPE_CHECKING:  # the engine and plotly load when the command runs
    from straits.validation import Row


@app.command()
def validate(
    replications: Annotated[int, typer.Option(
        "--replications", "-n", min=1, max=1000,
        help="Replications per scenario (seeds derived from a fixed base).")] = 10,
    only: Annotated[list[str] | None, typer.Option(
        help="Run only these validation scenarios (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write the table (validation.json, validation.md) and plots (HTML) in this "
             "folder (missing parent folders are created).")] = None,
    force: Annotated[bool, typer.Option(help="Replace the --out folder if it has files.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    workers: Annotated[int, typer.Option(
        min=1, help="Local worker processes (the figures do not depend on it).")] = 1,
) -> None:
    """Compare the model with history and published studies; exit 1 if any target fails."""
    from straits.experiments.executors import make_executor
    from straits.validation import TARGETS, compare, rows_to_json, run_scenario
    from straits.validation.scenario_runs import BASE_SEED

    def action() -> list[Row]:
        names = _chosen(only)
        if out is not None:
            _check_out(out, force)
        check_budget([load_scenario(name) for name in names], replications)
        ensembles = {}
        executor = make_executor(workers)
        try:
            with console.status("") as status:
                for name in names:
                    ensembles[name] = run_scenario(
                        name, replications, TARGETS,
                        progress=lambda n, i: status.update(
                            Text(f"{n}: replication {i}/{replications}")),
                        executor=executor,
                    )
        finally:
            executor.close()
        rows = compare(TARGETS, ensembles)
        meta = {"replications": replications, "base_seed": BASE_SEED,
                "command": f"straits validate --replications {replications}"}
        if out is not None:
            _write(out, rows, meta, ensembles)
        if as_json:
            sys.stdout.write(rows_to_json(rows, meta))
        else:
            _print(rows)
            if out is not None:
                console.print(styled("table and plots written to ", (str(out), "bold")))
        return rows

    rows = guarded(action)
    if not all(r.passed for r in rows):
        failed = ", ".join(r.key for r in rows if not r.passed)
        errors.print(f"validation failed: {failed}")
        raise typer.Exit(1)


def _chosen(only: list[str] | None) -> list[str]:
    from straits.validation import scenarios

    known = scenarios()
    if not only:
        return known
    unknown = [n for n in only if n not in known]
    if unknown:
        raise BadInput(f"--only: unknown validation scenario {unknown[0]!r}; choose from {known}")
    return [n for n in known if n in only]


def _check_out(out: Path, force: bool) -> None:
    """Refuse an --out folder that cannot be written, before any simulation."""
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out: {str(out)!r} is a file; give a folder path")
    if out.exists() and any(out.iterdir()) and not force:
        raise BadInput(f"--out: {str(out)!r} already has files; choose a new folder or add --force")
    parent = out.absolute().parent
    try:
        ensure_writable_folder(parent)
    except OSError as exc:
        raise BadInput(f"--out: cannot write in {str(parent)!r} ({exc.strerror or exc}); "
                       "choose a writable folder") from None


def _write(out: Path, rows: list[Row], meta: dict, ensembles: dict) -> None:
    """Write into a temporary sibling folder, then swap it into place."""
    from straits.validation import rows_to_json, rows_to_markdown
    from straits.validation.plots import figures, write_html

    with atomic_path(out) as staging:
        staging.mkdir()
        (staging / "validation.json").write_text(rows_to_json(rows, meta), encoding="utf-8")
        (staging / "validation.md").write_text(rows_to_markdown(rows), encoding="utf-8")
        write_html(figures(ensembles), staging)


def _number(value: float, unit: str = "") -> str:
    """A figure of the table: hours over two as ``h:mm h`` (as every command prints
    durations), other quantities to three figures."""
    if unit == "hours" and abs(value) >= 2:
        return duration_text(value * 60)
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _print(rows: list[Row]) -> None:
    table = Table(title=f"Validation against published figures "
                        f"({rows[0].replications if rows else 0} replications per scenario)")
    for column in ("target", "quantity", "published", "model mean [95% CI]",
                   "tolerance → pass band", "result"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            Text(r.key), Text(f"{r.quantity} ({r.unit})"), Text(f"{r.published} ({r.facts})"),
            f"{_number(r.model_mean, r.unit)} [{_number(r.model_low, r.unit)}, "
            f"{_number(r.model_high, r.unit)}]",
            f"{r.tolerance.split(' (')[0]} → {_number(r.band_low, r.unit)}–"
            f"{_number(r.band_high, r.unit)}",
            Text("pass", "green") if r.passed else Text("FAIL", "bold red"),
        )
    console.print(table)
