"""``straits validate``: run every validation scenario as an ensemble and compare
the results with the published figures (docs/validation.md)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from straits.cli.app import BadInput, app, console, errors, guarded
from straits.validation import (
    TARGETS,
    Row,
    compare,
    rows_to_json,
    rows_to_markdown,
    run_scenario,
    scenarios,
)
from straits.validation.ensemble import BASE_SEED
from straits.validation.plots import figures, write_html


@app.command()
def validate(
    replications: Annotated[int, typer.Option(
        "--replications", "-n", min=1, max=1000,
        help="Replications per scenario (seeds derived from a fixed base).")] = 10,
    only: Annotated[list[str] | None, typer.Option(
        help="Run only these validation scenarios (repeatable).")] = None,
    out: Annotated[Path | None, typer.Option(
        help="Write the table (validation.json, validation.md) and plots (HTML) here.")] = None,
    force: Annotated[bool, typer.Option(help="Replace the --out folder if it has files.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Compare the model with history and published studies; exit 1 if any target fails."""

    def action() -> list[Row]:
        names = _chosen(only)
        if out is not None:
            _check_out(out, force)
        ensembles = {}
        with console.status("") as status:
            for name in names:
                ensembles[name] = run_scenario(
                    name, replications, TARGETS,
                    progress=lambda n, i: status.update(f"{n}: replication {i}/{replications}"),
                )
        rows = compare(TARGETS, ensembles)
        meta = {"replications": replications, "base_seed": BASE_SEED,
                "command": f"straits validate --replications {replications}"}
        if out is not None:
            _write(out, force, rows, meta, ensembles)
        if as_json:
            sys.stdout.write(rows_to_json(rows, meta))
        else:
            _print(rows)
            if out is not None:
                console.print(f"table and plots written to [bold]{out}[/]")
        return rows

    rows = guarded(action)
    if not all(r.passed for r in rows):
        failed = ", ".join(r.key for r in rows if not r.passed)
        errors.print(f"validation failed: {failed}", highlight=False)
        raise typer.Exit(1)


def _chosen(only: list[str] | None) -> list[str]:
    known = scenarios()
    if not only:
        return known
    unknown = [n for n in only if n not in known]
    if unknown:
        raise BadInput(f"--only: unknown validation scenario {unknown[0]!r}; choose from {known}")
    return [n for n in known if n in only]


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out: {str(out)!r} is a file; give a folder path")
    if out.exists() and any(out.iterdir()) and not force:
        raise BadInput(f"--out: {str(out)!r} already has files; choose a new folder or add --force")
    if not out.resolve().parent.is_dir():
        raise BadInput(f"--out: the parent folder {str(out.resolve().parent)!r} does not exist")


def _write(out: Path, force: bool, rows: list[Row], meta: dict, ensembles: dict) -> None:
    """Write into a temporary sibling folder, then swap it into place."""
    target = out.resolve()
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    staging.chmod(0o755)  # an ordinary folder once in place (mkdtemp makes it private)
    try:
        (staging / "validation.json").write_text(rows_to_json(rows, meta), encoding="utf-8")
        (staging / "validation.md").write_text(rows_to_markdown(rows), encoding="utf-8")
        write_html(figures(ensembles), staging)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _print(rows: list[Row]) -> None:
    table = Table(title=f"Validation against published figures "
                        f"({rows[0].replications if rows else 0} replications per scenario)")
    for column in ("target", "quantity", "published", "model mean [95% CI]",
                   "tolerance → pass band", "result"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            r.key, f"{r.quantity} ({r.unit})", f"{r.published} ({r.facts})",
            f"{_number(r.model_mean)} [{_number(r.model_low)}, {_number(r.model_high)}]",
            f"{r.tolerance.split(' (')[0]} → {_number(r.band_low)}–{_number(r.band_high)}",
            "[green]pass[/]" if r.passed else "[bold red]FAIL[/]",
        )
    console.print(table)
