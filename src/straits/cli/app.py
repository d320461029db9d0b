"""The typer app and the error handling every command shares.

Exit status: 0 success, 2 bad input (one line naming the field and the fix),
1 internal failure, 130 interrupted.

Both consoles print text as given, never as Rich markup or emoji codes: file names, scenario
and disruption names and error messages are user text (``plan[v2].yaml``,
``[/] strike``), and markup would eat or choke on them. Style goes through
``style=`` or :class:`rich.text.Text`, never through brackets in a string.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from straits import __version__
from straits.scenario import ScenarioError

if TYPE_CHECKING:
    from straits.scenario import Scenario

app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Simulate the Short Straits freight corridor (Dover, Folkestone, Calais, Coquelles).",
)
console = Console(markup=False, emoji=False, highlight=False)
errors = Console(stderr=True, markup=False, emoji=False, highlight=False)


class BadInput(Exception):
    """A user error that is not about the scenario file (flags, paths)."""


def styled(*parts: str | tuple[str, str]) -> Text:
    """Plain strings stay plain; ``(text, style)`` pairs are styled; nothing is markup."""
    return Text.assemble(*parts)


def fail(message: str, code: int = 2) -> None:
    """Print one error line and exit with ``code``."""
    errors.print(styled(("error:", "bold red"), " ", message), soft_wrap=True)
    raise typer.Exit(code)


def guarded(action: Callable[[], Any]) -> Any:
    """Turn bad input into one line and exit 2; Ctrl-C into exit 130."""
    try:
        return action()
    except (ScenarioError, BadInput) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; nothing was written", 130)


def _print_version(value: bool) -> None:
    if value:
        console.print(f"straits {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Simulate the Short Straits freight corridor (Dover, Folkestone, Calais, Coquelles)."""


def check_writable(path: Path, flag: str) -> None:
    """Refuse, before any work, an output path that cannot be written.

    Missing parent folders are fine (the writer creates them); the nearest
    folder that exists must be a folder and accept a new file, which is tried
    rather than guessed from permission bits (read-only mounts, root).
    """
    existing = path.resolve().parent  # written beside the target, then renamed into place
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise BadInput(f"{flag}: {str(existing)!r} is a file, so {str(path)!r} cannot be "
                       "written; choose a path under a folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise BadInput(f"{flag}: cannot write in {str(existing)!r} ({exc.strerror or exc}); "
                       "choose a folder you can write to") from None


def check_budget(scenarios: list[Scenario], replications: int) -> None:
    """Refuse, before any simulation, work this machine cannot hold: the same estimate
    as the web's, against a budget of half the machine's memory per replication
    (docs/experiments.md). Raises :class:`ScenarioError` naming the scenario and the field
    to change."""
    from straits.engine.budget import WorkBudget, check_work

    budget = WorkBudget.for_machine()
    for scenario in scenarios:
        try:
            check_work(scenario, replications, budget)
        except ScenarioError as exc:
            raise ScenarioError(exc.field, exc.message, source=exc.source or scenario.name
                                ) from None
