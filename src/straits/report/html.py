"""Self-contained HTML pages: one file, plotly.js inlined once, no external URL,
so a report can be mailed and opened offline.

The pages are deterministic (no clock, fixed element ids): the same run gives
the same bytes.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs

from straits import __version__
from straits.report import charts
from straits.report.corridor_map import map_figure
from straits.report.kpi_table import KpiRow, change_class, format_value, kpi_rows, unit_label
from straits.report.series import decided_areas, run_decisions, run_series, when
from straits.report.sources import RunData

PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "showSendToCloud": False}
PLOTLY_MARKER = "<!-- plotly.js (MIT licence) inlined below so this file works offline -->"
SECURITY_OFF = "Security model off for this scenario: no attempts, outcomes or harm to show."

_CSS = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto;
       max-width: 1200px; padding: 1.5rem; color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; margin: .2rem 0; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .92rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #eee; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th.section { background: #f3f5f8; text-align: left; }
td.better { background: #dff3e3; } td.worse { background: #fbe0e0; }
td.changed { background: #fff4cf; }
.range { color: #777; font-size: .85em; }
#kpis { display: flex; flex-wrap: wrap; gap: 0 2rem; align-items: flex-start; }
.note { background: #f7f7f7; border-left: 4px solid #999; padding: .6rem 1rem; }
.note.warning { background: #fff7e6; border-left-color: #e69500; }
details pre { background: #f7f7f7; padding: 1rem; overflow-x: auto; font-size: .8rem; }
.chart { margin: .5rem 0 1.5rem; }
"""


def report_figures(run: RunData, at: datetime | None = None) -> dict[str, go.Figure]:
    """Every chart of a run's report, by name (the web page draws the same ones)."""
    series = run_series(run)
    figures = {
        "map": map_figure(run, series, at),
        "queue_lorries": charts.queue_figure(run, "lorries", series),
        "queue_km": charts.queue_figure(run, "km", series),
        "delay": charts.delay_figure(run),
        "throughput": charts.throughput_figure(run),
    }
    security = charts.security_figure(run)
    if security is not None:
        figures["security"] = security
    return figures


def render_report(run: RunData, at: datetime | None = None) -> str:
    """The report of one run or ensemble as a single HTML document."""
    figures = report_figures(run, at)
    body = [
        f"<h1>{escape(run.label)}</h1>",
        _meta(run),
        "<h2>Key figures</h2>",
        _kpi_table(run),
        "<h2>Corridor map</h2>",
        "<p class='meta'>Queues drawn along their roads; drag the slider to move in time. "
        "Geometry is approximate and for orientation only.</p>",
        _chart(figures["map"], "map"),
        "<h2>Queues over time</h2>",
        _chart(figures["queue_lorries"], "queue-lorries"),
        _chart(figures["queue_km"], "queue-km"),
        "<h2>Holding decisions</h2>",
        _decisions(run),
        "<h2>Delay</h2>",
        _chart(figures["delay"], "delay"),
        "<h2>Throughput</h2>",
        _chart(figures["throughput"], "throughput"),
        "<h2>Security</h2>",
        _chart(figures["security"], "security") if "security" in figures
        else f"<p class='note' id='security-off'>{SECURITY_OFF}</p>",
        "<h2>Disruptions</h2>",
        _disruptions(run),
        "<h2>Scenario</h2>",
        f"<details><summary>Full scenario (YAML)</summary><pre>{escape(run.scenario_yaml)}"
        "</pre></details>",
    ]
    return _page(f"straits report: {run.label}", body)


def comparison_warnings(a: RunData, b: RunData) -> list[str]:
    """What makes A and B not like for like: different horizons (totals and peaks cover
    different spans) or different starts (calendar charts would not line up)."""
    warnings = []
    hours_a, hours_b = a.summary["horizon_hours"], b.summary["horizon_hours"]
    if hours_a != hours_b:
        warnings.append(
            f"the horizons differ (A {_span(hours_a)}, B {_span(hours_b)}): totals, peaks "
            "and delays cover different spans; the day-by-day chart compares like with "
            "like, or give both scenarios the same horizon")
    if a.start != b.start:
        warnings.append(f"the runs start at different times (A {a.start:%Y-%m-%d %H:%M}, "
                        f"B {b.start:%Y-%m-%d %H:%M})")
    return warnings


def render_compare(a: RunData, b: RunData, relative: bool | None = None) -> str:
    """Two runs side by side: KPI differences highlighted, charts overlaid.

    ``relative`` puts the time charts in days since each run's start (default: only
    when the runs start at different times)."""
    relative = charts.relative_axis(a, b, relative)
    notes = comparison_warnings(a, b)
    if relative:
        notes.append("time charts show days since the start of each run")
    body = [
        f"<h1>{escape(a.label)} against {escape(b.label)}</h1>",
        f"<p class='meta'>A: {_describe(a)}</p>",
        f"<p class='meta'>B: {_describe(b)}</p>",
        *(f"<p class='note warning'>Note: {escape(n)}.</p>" for n in notes),
        "<h2>Key figures</h2>",
        "<p class='meta'>Changes of 5% or more are highlighted: green where B is better, "
        "red where worse, yellow where neither is better.</p>",
        _compare_table(a, b),
        "<h2>Day by day</h2>",
        _chart(charts.compare_daily_figure(a, b), "compare-daily"),
        "<h2>Queues</h2>",
        _chart(charts.compare_queue_figure(a, b, relative), "compare-queue"),
        "<h2>Delay</h2>",
        _chart(charts.compare_delay_figure(a, b), "compare-delay"),
        "<h2>Throughput</h2>",
        _chart(charts.compare_throughput_figure(a, b, relative), "compare-throughput"),
        "<h2>Corridor maps</h2>",
        f"<h3>A: {escape(a.label)}</h3>",
        _chart(map_figure(a), "map-a"),
        f"<h3>B: {escape(b.label)}</h3>",
        _chart(map_figure(b), "map-b"),
    ]
    return _page(f"straits comparison: {a.label} / {b.label}", body)


def _span(hours: float) -> str:
    return f"{hours / 24:g} days" if hours % 24 == 0 else f"{hours:g} h"


def _page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{escape(title)}</title>",
        f"<style>{_CSS}</style>",
        PLOTLY_MARKER,
        f"<script type='text/javascript'>{get_plotlyjs()}</script>",
        "</head><body>",
        *body,
        f"<p class='meta'>Made with straits {escape(__version__)}.</p>",
        "</body></html>",
    ])


def _chart(fig: go.Figure, name: str) -> str:
    html = pio.to_html(fig, include_plotlyjs=False, full_html=False, config=PLOTLY_CONFIG,
                       div_id=f"chart-{name}")
    return f"<div class='chart'>{html}</div>"


def _describe(run: RunData) -> str:
    sc = run.scenario
    seeds = ", ".join(str(r.summary["seed"]) for r in run.replications)
    runs = f"{len(run.replications)} replications (seeds {seeds})" if run.is_ensemble \
        else f"seed {seeds}"
    return escape(f"scenario {sc.name}, from {run.summary['start']} for "
                  f"{run.summary['horizon_hours']:g} h, {runs}")


def _meta(run: RunData) -> str:
    description = run.scenario.description
    lines = [f"<p class='meta'>{_describe(run)}</p>"]
    if description:
        lines.append(f"<p class='meta'>{escape(description)}</p>")
    if run.is_ensemble:
        lines.append("<p class='meta'>Figures are means over the replications; "
                     "the range column gives the lowest and highest.</p>")
    return "\n".join(lines)


def _kpi_table(run: RunData) -> str:
    """KPIs grouped: corridor, then each direction side by side, routes, holding areas."""
    rows = kpi_rows(run)
    by_section: dict[str, dict[str, KpiRow]] = {}
    for row in rows:
        by_section.setdefault(row.section, {})[row.label] = row
    directions = [d for d in ("southbound", "northbound") if d in by_section]
    parts = [_pivot(run, "corridor", [("value", by_section.get("corridor", {}))])]
    parts.append(_pivot(run, "by direction", [(d, by_section[d]) for d in directions]))
    parts.append(_pivot(run, "by route", [(d, by_section.get(f"{d} routes", {}))
                                          for d in directions]))
    for direction in directions:
        holding = by_section.get(f"holding areas ({direction})", {})
        if holding:
            parts.append(_holding_table(run, direction, holding))
    if "security" in by_section:
        parts.append(_pivot(run, "security", [("value", by_section["security"])]))
    return "<div id='kpis'>" + "\n".join(parts) + "</div>"


def _pivot(run: RunData, title: str, columns: list[tuple[str, dict[str, KpiRow]]]) -> str:
    labels = list(dict.fromkeys(label for _, rows in columns for label in rows))
    head = "".join(f"<th>{escape(name)}</th>" for name, _ in columns)
    out = [f"<table class='kpi'><tr><th>{escape(title)}</th><th>unit</th>{head}</tr>"]
    for label in labels:
        unit = next(rows[label].unit for _, rows in columns if label in rows)
        cells = "".join(f"<td>{_cell(run, rows.get(label))}</td>" for _, rows in columns)
        out.append(f"<tr><td>{escape(label)}</td><td>{escape(unit_label(unit))}</td>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _holding_table(run: RunData, direction: str, rows: dict[str, KpiRow]) -> str:
    measures = ("peak queue", "peak queue length", "hours in use")
    areas = list(dict.fromkeys(label.split(": ")[0] for label in rows))
    out = [f"<table class='kpi'><tr><th>holding areas ({escape(direction)})</th>"
           "<th>peak lorries</th><th>peak length</th><th>hours in use</th></tr>"]
    for area in areas:
        cells = "".join(f"<td>{_cell(run, rows.get(f'{area}: {m}'))}</td>" for m in measures)
        out.append(f"<tr><td>{escape(area)}</td>{cells}</tr>")
    out.append("</table>")
    return "".join(out)


def _cell(run: RunData, row: KpiRow | None) -> str:
    if row is None:
        return ""
    text = format_value(row.mean, row.unit)
    if run.is_ensemble and row.low != row.high:
        text += (f" <span class='range'>({format_value(row.low, row.unit)}–"
                 f"{format_value(row.high, row.unit)})</span>")
    return text


def _compare_table(a: RunData, b: RunData) -> str:
    rows_b = {(r.section, r.label): r for r in kpi_rows(b)}
    out = ["<table id='kpis'>", "<tr><th>KPI</th><th>unit</th><th>A</th><th>B</th>"
           "<th>B − A</th><th>change</th></tr>"]
    section = None
    for row_a in kpi_rows(a):
        row_b = rows_b.get((row_a.section, row_a.label))
        if row_b is None:
            continue
        if row_a.section != section:
            section = row_a.section
            out.append(f"<tr><th class='section' colspan='6'>{escape(section)}</th></tr>")
        out.append(_compare_row(row_a, row_b))
    out.append("</table>")
    return "\n".join(out)


def _compare_row(row_a: KpiRow, row_b: KpiRow) -> str:
    delta = row_b.mean - row_a.mean
    percent = f"{100 * delta / abs(row_a.mean):+.0f}%" if row_a.mean else (
        "new" if delta else "")
    css = change_class(row_a, row_b)
    attr = f" class='{css}'" if css else ""
    sign = "+" if delta > 0 else ("−" if delta < 0 else "")
    return (f"<tr><td>{escape(row_a.label)}</td><td>{escape(unit_label(row_a.unit))}</td>"
            f"<td>{format_value(row_a.mean, row_a.unit)}</td>"
            f"<td>{format_value(row_b.mean, row_b.unit)}</td>"
            f"<td{attr}>{sign}{format_value(abs(delta), row_a.unit)}</td>"
            f"<td{attr}>{percent}</td></tr>")


def _disruptions(run: RunData) -> str:
    windows = run.summary.get("disruptions") or []
    if not windows:
        return "<p class='note'>No disruptions in this scenario.</p>"
    rows = "".join(
        f"<tr><td>{escape(w['name'] or '')}</td><td>{escape(w['kind'])}</td>"
        f"<td>{escape(w['start'])}</td><td>{escape(w['end'])}</td><td>{w['hours']:g}</td></tr>"
        for w in windows)
    note = " (windows of the first replication; sampled durations vary between runs)" \
        if run.is_ensemble else ""
    return (f"<p class='meta'>Shaded grey on the time charts{note}.</p>"
            "<table><tr><th>disruption</th><th>kind</th><th>start</th><th>end</th>"
            f"<th>hours</th></tr>{rows}</table>")


def _decisions(run: RunData) -> str:
    """The holding decisions logged (the first replication's in an ensemble), as marked on
    the queue charts; or why there are none."""
    if not decided_areas(run):
        return ("<p class='note'>No holding area of this scenario has a decision: each is in "
                "force throughout.</p>")
    if "holding_decisions" not in run.summary:
        return ("<p class='note'>This source keeps no decision log (the results store); "
                "report a <code>straits run --out</code> folder or the scenario itself.</p>")
    decisions = run_decisions(run)[0]
    if not decisions:
        return "<p class='note'>No holding area was called in this run.</p>"
    rows = "".join(
        f"<tr><td>{escape(when(run.start, d.minutes))}</td><td>{escape(d.direction)}</td>"
        f"<td>{escape(d.area)}</td><td>{escape(d.decision)}</td><td>{escape(d.reason)}</td></tr>"
        for d in decisions)
    which = " of the first replication" if run.is_ensemble else ""
    return (f"<details id='decisions'><summary>{len(decisions)} decisions{which}, marked on "
            "the queue charts (▲ called, ● in force, ▼ stood down)</summary>"
            "<table><tr><th>time</th><th>direction</th><th>area</th><th>decision</th>"
            f"<th>reason</th></tr>{rows}</table></details>")
