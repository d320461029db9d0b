"""Reports: charts, the corridor map and self-contained HTML pages of runs."""

from straits.report.html import render_compare, render_report, report_figures
from straits.report.sources import RunData, SourceError, load_run, run_from_results

__all__ = ["RunData", "SourceError", "load_run", "render_compare", "render_report",
           "report_figures", "run_from_results"]
