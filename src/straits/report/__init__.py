"""Reports: charts, the corridor map and self-contained HTML pages of runs.

The names below load on first use, so :mod:`straits.report.text` (how numbers
read, which the command line needs at start-up) comes without plotly.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from straits.report.html import render_compare, render_report, report_figures
    from straits.report.sources import RunData, SourceError, load_run, run_from_results

_HOME = {"render_compare": "html", "render_report": "html", "report_figures": "html",
         "RunData": "sources", "SourceError": "sources", "load_run": "sources",
         "run_from_results": "sources"}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOME[name]}"), name)


__all__ = ["RunData", "SourceError", "load_run", "render_compare", "render_report",
           "report_figures", "run_from_results"]
