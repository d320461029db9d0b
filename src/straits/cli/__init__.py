"""The ``straits`` command line. Each module registers its commands on ``app``."""

from straits.cli import corridor  # noqa: F401  (registers run, scenarios, show, check)
from straits.cli.app import app


def main() -> None:
    """Console entry point."""
    app()


__all__ = ["app", "main"]
