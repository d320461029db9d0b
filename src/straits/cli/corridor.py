"""Corridor commands: run one replication; list, show, check and describe scenarios."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from straits.cli.app import BadInput, app, check_budget, check_writable, console, guarded
from straits.cli.format import (
    UNIT_NAMES,
    count_text,
    duration_text,
    fold_table,
    queue_length_text,
)
from straits.files import atomic_path
from straits.scenario import Scenario, builtin_names, load_scenario, scenario_to_yaml
from straits.scenario.units import format_minutes

if TYPE_CHECKING:  # the engine loads when a run starts, not with the command line
    from straits.pipeline import RunResult

SHORT_DISRUPTIONS = 6  # disruption windows listed without --all


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Built-in name or path to a YAML file.")] = (
        "baseline"),
    seed: Annotated[int, typer.Option(min=0, help="Random seed of the replication.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the KPIs as JSON.")] = False,
    show_all: Annotated[bool, typer.Option(
        "--all", help="Print every KPI and table (default: the headline figures).")] = False,
    units: Annotated[str, typer.Option(
        help="Queue lengths in km with miles (both), km (metric) or miles (imperial).")] = (
        "both"),
    out: Annotated[Path | None, typer.Option(
        help="Also write records, time series and summary.json to this folder "
             "(missing parent folders are created).")] = None,
    force: Annotated[bool, typer.Option(help="Replace the --out folder if it exists.")] = False,
) -> None:
    """Run one replication of a scenario and print its KPIs."""
    from straits.pipeline import simulate

    def action() -> None:
        if units not in UNIT_NAMES:
            raise BadInput(f"--units: {units!r} is not one of {', '.join(UNIT_NAMES)}")
        if out is not None:
            _check_out(out, force)
        loaded = load_scenario(scenario)
        check_budget([loaded], 1)
        result = simulate(loaded, seed)
        summary = result.summary
        if out is not None:
            write_outputs(out, result, force)
        if as_json:
            sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        else:
            _print_summary(summary, show_all, units)
            if out is not None:
                console.print(f"results written to {out}")

    guarded(action)


@app.command()
def scenarios() -> None:
    """List the built-in scenarios."""
    table = fold_table("Built-in scenarios", ["name", "period, disruptions and description"],
                       right_from=2)
    for name in builtin_names():
        sc = load_scenario(name)
        events = f"{len(sc.disruptions)} disruption" + ("" if len(sc.disruptions) == 1 else "s")
        table.add_row(name, f"{sc.start:%Y-%m-%d} for {format_minutes(sc.horizon)}, {events}\n"
                            f"{sc.description}")
    console.print(table)


@app.command()
def show(
    scenario: Annotated[str, typer.Argument(help="Built-in name or path to a YAML file.")],
    resolved: Annotated[bool, typer.Option(
        help="Every field with its default filled in, without the files' comments.")] = False,
) -> None:
    """Print a scenario in full (merged with everything it extends) as YAML, keeping the
    source comments that cite each value."""
    from straits.cli.source import commented_scenario

    def text() -> str:
        loaded = load_scenario(scenario)
        return scenario_to_yaml(loaded) if resolved else commented_scenario(scenario, loaded)

    sys.stdout.write(guarded(text))


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors: YAML language servers)."""
    from straits.api import scenario_json_schema

    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")


@app.command()
def check(
    file: Annotated[str, typer.Argument(help="Path to a scenario YAML file (or a built-in).")],
) -> None:
    """Validate a scenario file without running it."""
    sc: Scenario = guarded(lambda: load_scenario(file))
    console.print(
        f"ok: {sc.name} — from {sc.start:%Y-%m-%d %H:%M} for {format_minutes(sc.horizon)}, "
        f"{len(sc.terminals)} terminals, {len(sc.disruptions)} disruptions")


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out: {str(out)!r} is a file; give a folder path")
    if out.exists() and any(out.iterdir()) and not force:
        raise BadInput(f"--out: {str(out)!r} already has files; choose a new folder or add --force")
    check_writable(out, "--out")


def write_outputs(out: Path, result: RunResult, force: bool) -> None:
    """Write into a temporary sibling folder, then rename it into place, so an
    error or Ctrl-C never leaves half-written results."""
    import pyarrow.parquet as pq

    from straits.pipeline import result_tables

    target = out.resolve()
    with atomic_path(target) as staging:
        staging.mkdir()
        for stem, table in result_tables(result).items():
            pq.write_table(table, staging / f"{stem}.parquet")
        (staging / "scenario.yaml").write_text(scenario_to_yaml(result.scenario),
                                               encoding="utf-8")
        (staging / "summary.json").write_text(json.dumps(result.summary, indent=2) + "\n",
                                              encoding="utf-8")
        if target.exists() and not force and any(target.iterdir()):
            raise BadInput(f"--out: {str(target)!r} appeared while running; nothing replaced")


HEADLINE_ROWS = ("arrived", "crossed", "in_system_at_end", "delay_mean", "delay_p95",
                 "queue_peak_lorries", "queue_peak_km", "lorry_hours_delayed")


def _direction_rows(units: str) -> dict[str, tuple[str, Callable[[dict], str]]]:
    """Every per-direction row ``run`` can print, by key; the headline set is
    :data:`HEADLINE_ROWS`, ``--all`` prints them all."""
    def delay(stat: str) -> Callable[[dict], str]:
        return lambda d: duration_text(d["delay_minutes"].get(stat))

    def over(hours: str) -> Callable[[dict], str]:
        return lambda d: count_text(d.get("lorries_delayed_over_hours", {}).get(hours))

    return {
        "arrived": ("lorries arrived", lambda d: count_text(d["arrived"])),
        "crossed": ("crossed", lambda d: count_text(d["crossed"])),
        "turned_back": ("turned back at controls", lambda d: count_text(d.get("turned_back"))),
        "in_system_at_end": ("still in the corridor at the end",
                             lambda d: count_text(d["in_system_at_end"])),
        "delay_mean": ("delay per lorry, mean", delay("mean")),
        "delay_p50": ("delay per lorry, median", delay("p50")),
        "delay_p95": ("delay per lorry, 95th percentile", delay("p95")),
        "delay_max": ("delay per lorry, longest", delay("max")),
        "delay_censored": ("lorries whose delay ends at the horizon (censored)",
                           lambda d: count_text(d["delay_minutes"].get("censored_lorries"))),
        "queue_peak_lorries": ("peak queue (lorries)",
                               lambda d: count_text(d["queue_peak_lorries"])),
        "queue_peak_km": ("peak queue length",
                          lambda d: queue_length_text(d["queue_peak_km"], units)),
        "lorry_hours_delayed": ("lorry-hours of delay",
                                lambda d: count_text(round(d["lorry_hours_delayed"]))),
        "over_6": ("lorries delayed over 6 h", over("6")),
        "over_24": ("lorries delayed over 24 h", over("24")),
        "crossed_per_day_mean": ("crossed per day, mean",
                                 lambda d: count_text(d.get("crossed_per_day", {}).get("mean"))),
    }


def _print_summary(summary: dict, show_all: bool = False, units: str = "both") -> None:
    directions = summary["directions"]
    rows = _direction_rows(units)
    chosen = list(rows) if show_all else list(HEADLINE_ROWS)
    if any("behaviour" in d for d in directions.values()):
        behaviour = _behaviour_rows()
        rows.update(behaviour)
        chosen += list(behaviour)
    horizon = format_minutes(summary["horizon_hours"] * 60)
    table = fold_table(f"{summary['scenario']} · seed {summary['seed']} · {horizon} from "
                       f"{summary['start'].replace('T', ' ')}", ["", *directions])
    for key in chosen:
        label, cell = rows[key]
        table.add_row(label, *(cell(d) for d in directions.values()))
    console.print(table)
    _print_where(directions)
    used = {k: v for k, v in summary["holding"].items() if v["hours_active"] > 0}
    if used and show_all:
        holding = fold_table("Holding areas used",
                             ["area", "direction", "peak lorries", "peak length", "in use"],
                             right_from=2)
        for name, v in used.items():
            holding.add_row(name, v["direction"], count_text(v["peak_lorries"]),
                            queue_length_text(v["peak_km"], units),
                            duration_text(v["hours_active"] * 60))
        console.print(holding)
    elif used:
        console.print(f"Holding areas used: {', '.join(used)}.")
    stack = summary["stack_or_brock"]
    if stack["hours_active"] > 0:
        console.print(f"Operation Stack/Brock active {duration_text(stack['hours_active'] * 60)}"
                      f" on {stack['days_active']} days, first opened "
                      f"{str(stack['first_opened']).replace('T', ' ')}.")
    else:
        console.print("Operation Stack/Brock not needed.")
    if summary.get("holding_decisions"):
        _print_decisions(summary["holding_decisions"])
    if "classes" in summary:
        _print_classes(summary["classes"], units)
    console.print(f"Delay cost: £{summary['cost_gbp']:,.0f}")
    if "diversion_cost_gbp" in summary:
        console.print(f"Diversion cost: £{summary['diversion_cost_gbp']:,.0f}")
    if "security" in summary:
        _print_security(summary["security"], show_all)
    if summary["disruptions"]:
        _print_disruptions(summary["disruptions"], show_all)
    if not show_all:
        console.print("More: --all for every KPI and table, --json for all of them as JSON.",
                      style="dim")


def _behaviour_rows() -> dict[str, tuple[str, Callable[[dict], str]]]:
    """What hauliers did (the behaviour rule), as totals; where to is printed below."""
    def b(d: dict) -> dict:
        return d["behaviour"]

    return {
        "planned": ("hauliers: loads planned", lambda d: count_text(b(d)["planned"])),
        "postponed": ("  held back / still held", lambda d: (
            f"{count_text(b(d)['postponed'])} / {count_text(b(d)['postponed_pending'])}")),
        "diverted": ("  diverted / switched route", lambda d: (
            f"{count_text(b(d)['diverted'])} / {count_text(b(d)['switched_route'])}")),
        "rejoined": ("  turned back, rejoined", lambda d: count_text(b(d)["rejoined"])),
        "delay_with_postponement": ("  delay incl. holding back", lambda d: duration_text(
            b(d)["delay_with_postponement_minutes"]["mean"])),
    }


def _print_where(directions: dict) -> None:
    """Where diverted loads went and which routes switchers took, per direction."""
    for name, d in directions.items():
        if "behaviour" not in d:
            continue
        parts = [f"{where} {count_text(n)}" for where, n in
                 d["behaviour"]["diverted_by_where"].items() if n]
        switched = [f"{route} {count_text(n)}" for route, n in
                    d["behaviour"]["switched_to"].items()]
        if parts:
            console.print(f"{name}: diverted to {', '.join(parts)}", highlight=False)
        if switched:
            console.print(f"{name}: switched to {', '.join(switched)}", highlight=False)


def _print_disruptions(windows: list[dict], show_all: bool) -> None:
    shown = windows if show_all else windows[:SHORT_DISRUPTIONS]
    events = fold_table("Disruptions as drawn in this replication",
                        ["start", "lasted", "kind", "disruption"], right_from=1)
    events.columns[2].justify = events.columns[3].justify = "left"
    for w in shown:
        start = datetime.fromisoformat(w["start"])
        events.add_row(f"{start:%d %b %H:%M}", duration_text(w["hours"] * 60), w["kind"],
                       w["name"])
    if len(windows) > len(shown):
        events.caption = f"and {len(windows) - len(shown)} more (--all lists every one)"
    console.print(events)


DECISIONS_SHOWN = 24


def _print_decisions(decisions: list[dict]) -> None:
    """The holding controllers' log: when each area was called, set up and stood down."""
    table = fold_table("Holding decisions", ["time", "area", "decision", "reason"], right_from=4)
    for d in decisions[:DECISIONS_SHOWN]:
        table.add_row(f"{datetime.fromisoformat(d['time']):%d %b %H:%M}", d["area"],
                      d["decision"], d["reason"])
    if len(decisions) > DECISIONS_SHOWN:
        table.caption = f"and {len(decisions) - DECISIONS_SHOWN} more (all in --json)"
    console.print(table)


def _print_security(security: dict, show_all: bool) -> None:
    """Attempts, their outcomes and the harm done, shown as plainly as the queues."""
    attempts = security["attempts"]
    population = security["population"]
    harm = security["harm"]
    if show_all:
        targets = list(attempts["by_target"])
        table = fold_table("People and security (aggregate counts)", ["", *targets, "total"])
        by_target = security["outcomes_by_target"]
        table.add_row("attempts", *(count_text(v["total"]) for v in attempts["by_target"].values()),
                      count_text(attempts["total"]))
        for outcome, total in security["outcomes"].items():
            table.add_row(outcome.replace("_", " "),
                          *(count_text(by_target[t][outcome]) for t in targets),
                          count_text(total))
        for kind in ("injuries", "deaths"):
            table.add_row(kind, *(count_text(harm[kind][t]) for t in targets),
                          count_text(harm[kind]["total"]))
        console.print(table)
    else:
        console.print(f"Attempts on lorries, port and tunnel: {count_text(attempts['total'])}; "
                      f"deaths {count_text(harm['deaths']['total'])}, injuries "
                      f"{count_text(harm['injuries']['total'])}.")
    console.print(
        f"People near Calais: {count_text(population['start'])} at the start, peak "
        f"{count_text(population['peak'])}, {count_text(population['end'])} at the end; "
        f"reaching the UK: {count_text(security['people_reaching_uk']['total'])}; tunnel "
        f"suspended {duration_text(security['tunnel']['suspension_hours'] * 60)} by "
        f"{count_text(security['tunnel']['intrusions'])} intrusions.")


def _print_classes(classes: dict, units: str) -> None:
    """Lorries, cars and coaches side by side: one row per direction and class."""
    table = fold_table("Vehicle classes (delay: mean, 95th percentile; people-hours of delay)",
                       ["", "arrived", "crossed", "mean", "p95", "road queue", "people-h"])
    for direction, by_class in classes.items():
        for name, k in by_class.items():
            hours = k.get("passenger_hours_delayed")
            table.add_row(f"{name} {direction.removesuffix('bound')}", count_text(k["arrived"]),
                          count_text(k["crossed"]),
                          duration_text(k["delay_minutes"]["mean"]),
                          duration_text(k["delay_minutes"]["p95"]),
                          queue_length_text(max(k["queue_peak_km"].values(), default=0.0),
                                            units),
                          "-" if hours is None else count_text(round(hours)))
    console.print(table)
