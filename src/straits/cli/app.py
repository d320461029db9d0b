"""The typer app and the error handling every command shares.

Exit status: 0 success, 2 bad input (one line naming the field and the fix),
1 internal failure, 130 interrupted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from straits.scenario import ScenarioError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Simulate the Short Straits freight corridor (Dover, Folkestone, Calais, Coquelles).",
)
console = Console()
errors = Console(stderr=True)


class BadInput(Exception):
    """A user error that is not about the scenario file (flags, paths)."""


def fail(message: str, code: int = 2) -> None:
    """Print one error line and exit with ``code``."""
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def guarded(action: Callable[[], Any]) -> Any:
    """Turn bad input into one line and exit 2; Ctrl-C into exit 130."""
    try:
        return action()
    except (ScenarioError, BadInput) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; nothing was written", 130)
