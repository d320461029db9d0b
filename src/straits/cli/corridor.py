"""Corridor commands: run one replication, list, show and check scenarios."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pyarrow.parquet as pq
import typer
from rich.table import Table

from straits.cli.app import BadInput, app, console, guarded
from straits.cli.format import count_text, duration_text
from straits.pipeline import RunResult, result_tables, simulate
from straits.scenario import Scenario, builtin_names, load_scenario, scenario_to_yaml
from straits.scenario.units import format_minutes


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Built-in name or path to a YAML file.")] = (
        "baseline"
    ),
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the replication.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(help="Also write records, time series and summary.json to this folder."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace the --out folder if it exists.")] = False,
) -> None:
    """Run one replication of a scenario and print its KPIs."""

    def action() -> None:
        if out is not None:
            _check_out(out, force)
        result = simulate(load_scenario(scenario), seed)
        summary = result.summary
        if out is not None:
            write_outputs(out, result, force)
        if as_json:
            sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        else:
            _print_summary(summary)
            if out is not None:
                console.print(f"results written to [bold]{out}[/]")

    guarded(action)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = Table(title="Built-in scenarios", show_lines=False)
    for column in ("name", "start", "horizon", "disruptions", "description"):
        table.add_column(column, overflow="fold")
    for name in builtin_names():
        sc = load_scenario(name)
        table.add_row(name, f"{sc.start:%Y-%m-%d}", format_minutes(sc.horizon),
                      str(len(sc.disruptions)), sc.description)
    console.print(table)


@app.command()
def show(
    scenario: Annotated[str, typer.Argument(help="Built-in name or path to a YAML file.")],
) -> None:
    """Print a scenario in full (with everything it extends) as YAML."""
    sys.stdout.write(guarded(lambda: scenario_to_yaml(load_scenario(scenario))))


@app.command()
def check(
    file: Annotated[str, typer.Argument(help="Path to a scenario YAML file (or a built-in).")],
) -> None:
    """Validate a scenario file without running it."""
    sc: Scenario = guarded(lambda: load_scenario(file))
    console.print(
        f"ok: {sc.name} — from {sc.start:%Y-%m-%d %H:%M} for {format_minutes(sc.horizon)}, "
        f"{len(sc.terminals)} terminals, {len(sc.disruptions)} disruptions",
        highlight=False,
    )


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out: {str(out)!r} is a file; give a folder path")
    if out.exists() and any(out.iterdir()) and not force:
        raise BadInput(f"--out: {str(out)!r} already has files; choose a new folder or add --force")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise BadInput(f"--out: the parent folder {str(parent)!r} does not exist")


def write_outputs(out: Path, result: RunResult, force: bool) -> None:
    """Write into a temporary sibling folder, then rename it into place, so an
    error or Ctrl-C never leaves half-written results."""
    target = out.resolve()
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        for stem, table in result_tables(result).items():
            pq.write_table(table, staging / f"{stem}.parquet")
        (staging / "scenario.yaml").write_text(scenario_to_yaml(result.scenario),
                                               encoding="utf-8")
        (staging / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                              encoding="utf-8")
        _swap_into_place(staging, target, force)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap_into_place(staging: Path, target: Path, force: bool) -> None:
    if target.exists():
        if not force and any(target.iterdir()):
            raise BadInput(f"--out: {str(target)!r} appeared while running; nothing replaced")
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
        staging.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(target)


def _print_summary(summary: dict) -> None:
    directions = summary["directions"]
    table = Table(title=f"{summary['scenario']} · seed {summary['seed']} · "
                        f"{summary['horizon_hours']:g} h from {summary['start']}")
    table.add_column("")
    for name in directions:
        table.add_column(name, justify="right")
    rows = [
        ("lorries arrived", lambda d: f"{d['arrived']:,}"),
        ("crossed", lambda d: f"{d['crossed']:,}"),
        ("turned back at controls", lambda d: f"{d['turned_back']:,}"),
        ("still in the corridor at the end", lambda d: f"{d['in_system_at_end']:,}"),
        ("delay mean / p95 (min)",
         lambda d: f"{d['delay_minutes']['mean']:.1f} / {d['delay_minutes']['p95']:.1f}"),
        ("delay max (min)", lambda d: f"{d['delay_minutes']['max']:.1f}"),
        ("peak queue (lorries / km)",
         lambda d: f"{d['queue_peak_lorries']:,} / {d['queue_peak_km']:.1f}"),
        ("lorry-hours delayed", lambda d: f"{d['lorry_hours_delayed']:,.0f}"),
        ("lorries delayed over 6 h / 24 h",
         lambda d: f"{d['lorries_delayed_over_hours']['6']:,} / "
                   f"{d['lorries_delayed_over_hours']['24']:,}"),
    ]
    if any("behaviour" in d for d in directions.values()):
        rows += _behaviour_rows()
    for label, cell in rows:
        table.add_row(label, *(cell(d) for d in directions.values()))
    console.print(table)
    _print_where(directions)
    used = {k: v for k, v in summary["holding"].items() if v["hours_active"] > 0}
    if used:
        holding = Table(title="Holding areas used")
        for column in ("area", "direction", "peak lorries", "peak km", "hours active"):
            holding.add_column(column, justify="right")
        for name, v in used.items():
            holding.add_row(name, v["direction"], f"{v['peak_lorries']:,}",
                            f"{v['peak_km']:.1f}", f"{v['hours_active']:.1f}")
        console.print(holding)
    stack = summary["stack_or_brock"]
    if stack["hours_active"] > 0:
        console.print(f"Operation Stack/Brock active {stack['hours_active']:.1f} h on "
                      f"{stack['days_active']} days, first opened {stack['first_opened']}")
    else:
        console.print("Operation Stack/Brock not needed.")
    console.print(f"Delay cost: £{summary['cost_gbp']:,.0f}")
    if "diversion_cost_gbp" in summary:
        console.print(f"Diversion cost: £{summary['diversion_cost_gbp']:,.0f}")
    if "security" in summary:
        _print_security(summary["security"])
    if summary["disruptions"]:
        events = Table(title="Disruptions as drawn in this replication")
        events.add_column("start", no_wrap=True)
        events.add_column("hours", justify="right")
        events.add_column("kind", no_wrap=True)
        events.add_column("disruption", overflow="fold")
        for w in summary["disruptions"]:
            start = datetime.fromisoformat(w["start"])
            events.add_row(f"{start:%d %b %H:%M}", f"{w['hours']:.1f}", w["kind"], w["name"])
        console.print(events)


def _behaviour_rows() -> list[tuple[str, object]]:
    """What hauliers did (the behaviour rule), as totals; where to is printed below."""
    def b(d: dict) -> dict:
        return d["behaviour"]

    return [
        ("hauliers: loads planned", lambda d: count_text(b(d)["planned"])),
        ("  held back / still held", lambda d: (
            f"{count_text(b(d)['postponed'])} / {count_text(b(d)['postponed_pending'])}")),
        ("  diverted / switched route", lambda d: (
            f"{count_text(b(d)['diverted'])} / {count_text(b(d)['switched_route'])}")),
        ("  turned back, rejoined", lambda d: count_text(b(d)["rejoined"])),
        ("  delay incl. holding back", lambda d: duration_text(
            b(d)["delay_with_postponement_minutes"]["mean"])),
    ]


def _print_where(directions: dict) -> None:
    """Where diverted loads went and which routes switchers took, per direction."""
    for name, d in directions.items():
        if "behaviour" not in d:
            continue
        parts = [f"{where} {count_text(n)}" for where, n in
                 d["behaviour"]["diverted_by_where"].items() if n]
        switched = [f"{route} {count_text(n)}" for route, n in
                    d["behaviour"]["switched_to"].items()]
        if parts or switched:
            console.print(f"{name}: diverted to {', '.join(parts) or 'nowhere'}; "
                          f"switched to {', '.join(switched) or 'no other route'}",
                          highlight=False)


def _print_security(security: dict) -> None:
    """Attempts, their outcomes and the harm done, shown as plainly as the queues."""
    attempts = security["attempts"]
    table = Table(title="People and security (aggregate counts)")
    table.add_column("")
    for target in attempts["by_target"]:
        table.add_column(target, justify="right")
    table.add_column("total", justify="right")
    by_target = security["outcomes_by_target"]
    table.add_row("attempts", *(f"{v['total']:,}" for v in attempts["by_target"].values()),
                  f"{attempts['total']:,}")
    for outcome, total in security["outcomes"].items():
        table.add_row(outcome.replace("_", " "),
                      *(f"{by_target[t][outcome]:,}" for t in attempts["by_target"]),
                      f"{total:,}")
    harm = security["harm"]
    for kind in ("injuries", "deaths"):
        table.add_row(kind, *(f"{harm[kind][t]:,}" for t in attempts["by_target"]),
                      f"{harm[kind]['total']:,}")
    console.print(table)
    population = security["population"]
    console.print(
        f"People near Calais: {population['start']:,} at the start, peak {population['peak']:,}, "
        f"{population['end']:,} at the end; reaching the UK: "
        f"{security['people_reaching_uk']['total']:,}; tunnel suspended "
        f"{security['tunnel']['suspension_hours']:.0f} h by {security['tunnel']['intrusions']:,} "
        f"intrusions.",
        highlight=False,
    )
