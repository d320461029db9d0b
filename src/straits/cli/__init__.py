"""The ``straits`` command line. Each module registers its commands on ``app``.

Import order is the order of ``straits --help``: corridor (run, scenarios, show,
check), experiments (ensemble, sweep, sensitivity, results), optimise, report (report,
compare, serve), validate, calibrate.
"""

from straits.cli import calibrate, corridor, experiments, optimise, report, validate  # noqa: F401
from straits.cli.app import app


def main() -> None:
    """Console entry point."""
    app()


__all__ = ["app", "main"]
