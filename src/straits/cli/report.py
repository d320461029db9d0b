"""Report commands: a run's HTML report, a comparison of two runs, the web dashboard."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from straits.cli.app import (
    BadInput,
    app,
    check_budget,
    check_writable,
    console,
    errors,
    guarded,
    styled,
)
from straits.files import atomic_path

if TYPE_CHECKING:  # plotly and the engine load when a command runs
    from straits.report import RunData
    from straits.report.sources import RunSource

RUN_HELP = ("An --out folder written by `straits run`, an experiment id from `straits results "
            "list`, or a scenario (built-in name or YAML path) to run now.")
StoreOption = Annotated[Path | None, typer.Option(
    "--store", envvar="STRAITS_STORE", help="Results store holding experiment ids.")]
AXES = {"auto": None, "calendar": False, "relative": True}
OUTPUT_HELP = "HTML file to write (missing folders are created)."
PointOption = Annotated[int, typer.Option(min=0, help="Point of a sweep in the store.")]


@app.command()
def report(
    run: Annotated[str, typer.Argument(help=RUN_HELP)],
    output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)] = Path(
        "report.html"),
    seed: Annotated[int, typer.Option(min=0, help="First seed when a scenario is run now.")] = 1,
    replications: Annotated[int, typer.Option(
        "--replications", "-n", min=1, max=200,
        help="Replications when a scenario is run now (more than one gives bands).")] = 1,
    at: Annotated[str | None, typer.Option(
        help="Map time, e.g. 2015-06-24T12:00 (default: the busiest moment).")] = None,
    store: StoreOption = None,
    point: PointOption = 0,
    force: Annotated[bool, typer.Option(help="Replace the output file if it exists.")] = False,
) -> None:
    """Write a self-contained HTML report (charts, KPIs, corridor map) of one run."""
    from straits.report import render_report

    def action() -> None:
        _check_output(output, force)
        data = _load(_checked([run], replications, store)[0], seed, replications, point)
        _write(output, render_report(data, _map_time(at, data.start, data.summary)))
        console.print(f"report written to {output}")

    guarded(action)


@app.command()
def compare(
    a: Annotated[str, typer.Argument(help="Run A. " + RUN_HELP)],
    b: Annotated[str, typer.Argument(help="Run B, compared against A.")],
    output: Annotated[Path, typer.Option("--output", "-o", help=OUTPUT_HELP)] = Path(
        "diff.html"),
    seed: Annotated[int, typer.Option(min=0, help="First seed when a scenario is run now.")] = 1,
    replications: Annotated[int, typer.Option("--replications", "-n", min=1, max=200,
                                              help="Replications per scenario run now.")] = 1,
    store: StoreOption = None,
    axis: Annotated[str, typer.Option(
        help="Time axis of the charts: calendar, relative (days since each run's start) or "
             "auto (relative when the runs start at different times).")] = "auto",
    force: Annotated[bool, typer.Option(help="Replace the output file if it exists.")] = False,
) -> None:
    """Write an HTML comparison of two runs or scenarios, differences highlighted."""
    from straits.report import render_compare
    from straits.report.html import comparison_warnings

    def action() -> None:
        if axis not in AXES:
            raise BadInput(f"--axis: {axis!r} is not one of {', '.join(AXES)}")
        _check_output(output, force)
        source_a, source_b = _checked([a, b], replications, store)
        run_a = _load(source_a, seed, replications, 0)
        run_b = _load(source_b, seed, replications, 0)
        if run_a.label == run_b.label:
            run_a, run_b = _relabel(run_a, "A"), _relabel(run_b, "B")
        for warning in comparison_warnings(run_a, run_b):
            errors.print(styled(("warning:", "yellow"), f" {warning}"), soft_wrap=True)
        _write(output, render_compare(run_a, run_b, AXES[axis]))
        console.print(f"comparison written to {output}")

    guarded(action)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (localhost by default).")] = (
        "127.0.0.1"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    allow_host: Annotated[list[str] | None, typer.Option(
        help="Another host name the server answers to, as clients write it in the URL "
             "(repeatable; '*' for any). Loopback names are always allowed.")] = None,
    max_replications: Annotated[int, typer.Option(
        min=1, max=1000, help="Largest ensemble a user may ask for.")] = 10,
    max_horizon_days: Annotated[float, typer.Option(min=0.1, max=366,
                                                    help="Longest horizon a user may run.")] = 62,
    max_upload_kb: Annotated[int, typer.Option(min=1, max=10_000,
                                               help="Largest scenario upload.")] = 256,
    max_retained_mb: Annotated[int, typer.Option(
        min=1, max=1024**2, help="Memory for finished runs' results; the oldest are dropped "
                                 "first (they stay in the store).")] = 512,
    store: StoreOption = None,
    memory_only: Annotated[bool, typer.Option(
        help="Keep runs in memory only (not in the results store).")] = False,
) -> None:
    """Serve the web dashboard and its JSON API (runs saved to the results store)."""
    import uvicorn

    from straits.experiments.store_path import default_store_path
    from straits.web import Settings, create_app
    from straits.web.app import LOOPBACK_HOSTS

    def action() -> None:
        extra = [_host_name(h) for h in allow_host or []]
        if not _is_loopback(host):
            console.print(styled(("warning:", "yellow"), f" listening on {host}: anyone who can "
                                 "reach this address can run simulations. Use 127.0.0.1 "
                                 "unless you mean it."), soft_wrap=True)
            if not extra:
                console.print(styled(("note:", "yellow"), " the server answers only to "
                                     f"{', '.join(LOOPBACK_HOSTS)}; add --allow-host NAME for "
                                     "each name clients use in the URL (e.g. --allow-host "
                                     "straits.example.org), or --allow-host '*' for any."),
                              soft_wrap=True)
        settings = Settings(max_replications=max_replications, max_horizon_days=max_horizon_days,
                            max_upload_bytes=max_upload_kb * 1024,
                            max_retained_mb=max_retained_mb,
                            allowed_hosts=[*LOOPBACK_HOSTS, *extra],
                            store=None if memory_only else (store or default_store_path()))
        console.print(f"straits dashboard on http://{host}:{port}/ (Ctrl-C to stop)")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")

    guarded(action)


_HOST_NAME = re.compile(r"^(\*|\[?[0-9A-Za-z.:_-]{1,253}\]?)$")


def _host_name(name: str) -> str:
    """A host name as the Host header carries it (no scheme, path or port)."""
    if not _HOST_NAME.match(name) or name.count(":") == 1:
        raise BadInput(f"--allow-host: {name!r} is not a host name; give it as clients write "
                       "it in the URL, without scheme, port or path (e.g. "
                       "straits.example.org, 192.168.1.20) or '*'")
    return name


def _checked(references: list[str], replications: int, store: Path | None
             ) -> list[RunSource]:
    """What each reference names; the scenarios to run now must all fit the machine's
    work budget (:func:`check_budget`) before any of them runs."""
    from straits.report import SourceError
    from straits.report.sources import find_run

    try:
        sources = [find_run(reference, store) for reference in references]
    except SourceError as exc:
        raise BadInput(f"RUN: {exc}") from None
    check_budget([s.scenario for s in sources if s.scenario is not None], replications)
    return sources


def _load(source: RunSource, seed: int, replications: int, point: int) -> RunData:
    from straits.report import SourceError

    try:
        return source.load(seeds=range(seed, seed + replications), point=point)
    except SourceError as exc:
        raise BadInput(f"RUN: {exc}") from None


def _relabel(run: RunData, suffix: str) -> RunData:
    return replace(run, label=f"{run.label} ({suffix})")


def _check_output(output: Path, force: bool) -> None:
    if output.is_dir():
        raise BadInput(f"--output: {str(output)!r} is a folder; give a file name like report.html")
    if output.exists() and not force:
        raise BadInput(f"--output: {str(output)!r} exists; choose another name or add --force")
    check_writable(output, "--output")


def _write(output: Path, text: str) -> None:
    """Write next to the target, then rename: never a half-written report."""
    with atomic_path(output.resolve()) as partial:
        partial.write_text(text, encoding="utf-8")


def _map_time(at: str | None, start: datetime, summary: dict) -> datetime | None:
    if at is None:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise BadInput(f"--at: {at!r} is not a date and time; write it like "
                       "2015-06-24T12:00") from None
    end = start + timedelta(hours=summary["horizon_hours"])
    if not start <= when <= end:
        raise BadInput(f"--at: {at} is outside the run ({start:%Y-%m-%d %H:%M} to "
                       f"{end:%Y-%m-%d %H:%M})")
    return when


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
