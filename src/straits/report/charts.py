"""The report's charts as plotly figures (the web page draws the same JSON).

Every time chart shades the disruption windows, and an ensemble shows its
mean with a 5–95% band across replications.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeGuard

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from straits.report.series import (
    CALLED,
    IN_FORCE,
    STOOD_DOWN,
    Decision,
    PlaceSeries,
    Series,
    decision_text,
    place_colours,
    run_decisions,
    run_series,
    timestamps,
)
from straits.report.sources import RunData

DIRECTION_TITLES = {"southbound": "Southbound: Kent (to Dover and Folkestone)",
                    "northbound": "Northbound: France (to Calais and Coquelles)"}
SHADE = "rgba(120, 120, 120, 0.18)"
ROUTE_COLOURS = {"ferry": "#1f77b4", "tunnel": "#ff7f0e"}
_UNITS = {"lorries": "lorries", "km": "km of queue"}


def queue_figure(run: RunData, unit: str = "lorries", series: Series | None = None) -> go.Figure:
    """Queue in each holding area and on each approach road over time, per direction,
    with the holding decisions marked along the time axis."""
    series = series or run_series(run)
    x = timestamps(run.start, series.minutes)
    colours = place_colours(series)
    decisions = run_decisions(run)[0]
    directions, fig = _by_direction(0.09)
    for row, direction in enumerate(directions, start=1):
        used = [p for p in series.queues(direction) if p.used]
        for place in used:
            _add_series(fig, x, place, unit, colours[place.place], row, run.is_ensemble)
        if used:
            _add_total(fig, run, x, series, direction, unit, row)
        if unit == "lorries":
            for terminal in series.terminals():
                if terminal.direction == direction:
                    fig.add_trace(go.Scatter(
                        x=x, y=_round(np.nanmean(terminal.lorries, axis=0)), mode="lines",
                        name=f"inside {terminal.place}", line={"width": 1, "dash": "dot"},
                        visible="legendonly" if used else True), row=row, col=1)
        if not used:
            fig.add_annotation(text="no queue outside the terminals", showarrow=False,
                               xref="x domain", yref="y domain", x=0.5, y=0.5,
                               row=row, col=1, font={"color": "#555"})
        _add_decisions(fig, run, [d for d in decisions if d.direction == direction], colours,
                       row)
        fig.update_yaxes(title_text=_UNITS[unit], rangemode="tozero", row=row, col=1)
    band = f" (mean, 5–95% band over {len(run.replications)} runs)" if run.is_ensemble else ""
    fig.update_layout(title=f"Queue outside the terminals, in {_UNITS[unit]}{band}",
                      height=620, hovermode="x unified", legend={"orientation": "h", "y": -0.08})
    shade_disruptions(fig, run)
    return fig


DECISION_MARKS = {CALLED: ("triangle-up", "holding area called"),
                  IN_FORCE: ("circle", "holding area in force (set up)"),
                  STOOD_DOWN: ("triangle-down", "holding area stood down")}


def _add_decisions(fig: go.Figure, run: RunData, decisions: list[Decision],
                   colours: dict[str, str], row: int) -> None:
    """A mark on the time axis for each decision (call, ready, stand-down), in the area's
    colour, its reason on hover; an ensemble shows its first replication's, as for the
    disruption windows."""
    which = " (first run)" if run.is_ensemble else ""
    for kind, (symbol, name) in DECISION_MARKS.items():
        mine = [d for d in decisions if d.decision == kind]
        if not mine:
            continue
        fig.add_trace(go.Scatter(
            x=timestamps(run.start, np.array([d.minutes for d in mine])), y=[0] * len(mine),
            mode="markers", name=name + which, legendgroup=f"decision {kind}",
            showlegend=row == 1 or not _has_trace(fig, f"decision {kind}"),
            marker={"symbol": symbol, "size": 11, "line": {"width": 1, "color": "#222"},
                    "color": [colours.get(d.area, "#555") for d in mine]},
            cliponaxis=False, text=[decision_text(run.start, d) for d in mine],
            hovertemplate="%{text}<extra></extra>"), row=row, col=1)


def _has_trace(fig: go.Figure, group: str) -> bool:
    return any(t.legendgroup == group for t in fig.data)


TOTAL_NAME = "total outside the terminals"
PEAK_NAME = "peak queue (KPI)"
_PEAK_KPI = {"lorries": "queue_peak_lorries", "km": "queue_peak_km"}


def _add_total(fig: go.Figure, run: RunData, x: list[str], series: Series, direction: str,
               unit: str, row: int) -> None:
    """The direction's whole queue (the sum of its places), and the headline peak KPI as a
    level line: the KPI is exact, the 15-minute samples can fall just short of it."""
    total = np.nansum([np.nanmean(p.lorries if unit == "lorries" else p.km, axis=0)
                       for p in series.queues(direction)], axis=0)
    fig.add_trace(go.Scatter(x=x, y=_round(total), mode="lines", name=TOTAL_NAME,
                             legendgroup="total", showlegend=row == 1,
                             line={"color": "#222", "width": 2.4}), row=row, col=1)
    peaks = [rep.summary["directions"][direction][_PEAK_KPI[unit]] for rep in run.replications
             if direction in rep.summary.get("directions", {})]
    if peaks:
        peak = float(np.mean(peaks))
        fig.add_trace(go.Scatter(x=[x[0], x[-1]], y=[round(peak, 3)] * 2, mode="lines",
                                 name=PEAK_NAME, legendgroup="peak", showlegend=row == 1,
                                 line={"color": "#222", "width": 1, "dash": "dot"},
                                 hovertemplate=f"headline peak: {peak:,.1f} {_UNITS[unit]}"
                                               "<extra></extra>"), row=row, col=1)


def _add_series(fig: go.Figure, x: list[str], place: PlaceSeries, unit: str, colour: str,
                row: int, ensemble: bool) -> None:
    values = place.lorries if unit == "lorries" else place.km
    label = f"{place.place}" + (" (approach road)" if place.kind == "overflow_road" else "")
    if ensemble:
        low, high = np.nanpercentile(values, [5, 95], axis=0)
        fig.add_trace(go.Scatter(x=x, y=_round(high), mode="lines", line={"width": 0},
                                 legendgroup=place.place, showlegend=False, hoverinfo="skip"),
                      row=row, col=1)
        fig.add_trace(go.Scatter(x=x, y=_round(low), mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor=_transparent(colour, 0.25),
                                 legendgroup=place.place, showlegend=False, hoverinfo="skip"),
                      row=row, col=1)
    fig.add_trace(go.Scatter(x=x, y=_round(np.nanmean(values, axis=0)), mode="lines",
                             name=label, legendgroup=place.place,
                             line={"color": colour, "width": 1.8}), row=row, col=1)


def delay_figure(run: RunData) -> go.Figure:
    """How long lorries were delayed beyond free flow (log scale: the tail matters)."""
    fig = go.Figure()
    pooled = _pooled_delays(run)
    if not pooled:
        return _empty(fig, "Delay distribution",
                      "per-lorry delays were not stored with this run")
    longest = max(float(v.max()) if v.size else 0.0 for v in pooled.values())
    in_hours = longest > 300
    scale = 60.0 if in_hours else 1.0
    width = _nice_width(longest / scale / 60.0)
    edges = np.arange(0.0, longest / scale + width * 1.01, width)
    per = len(run.replications)
    for direction, delays in pooled.items():
        counts, _ = np.histogram(delays / scale, bins=edges)
        mean, p95 = (float(delays.mean()), float(np.percentile(delays, 95))) if delays.size \
            else (0.0, 0.0)
        fig.add_trace(go.Bar(
            x=_round(edges[:-1] + width / 2), y=_round(counts / per), width=width,
            name=f"{direction}: mean {mean:.0f} min, p95 {p95:.0f} min", opacity=0.65,
            hovertemplate="%{y:.0f} lorries<extra>" + direction + "</extra>"))
    unit = "hours" if in_hours else "minutes"
    fig.update_layout(
        title="Delay per lorry beyond free-flow time" + (" (mean per replication)" if per > 1
                                                         else ""),
        barmode="overlay", xaxis_title=f"delay ({unit})", yaxis_title="lorries (log scale)",
        yaxis_type="log", height=380, legend={"orientation": "h", "y": -0.25})
    return fig


def throughput_figure(run: RunData) -> go.Figure:
    """Lorries carried per day by each route, against what the departures could carry."""
    directions, fig = _by_direction(0.1)
    daily = _daily_departures(run)
    if daily is None:
        return _empty(fig, "Daily throughput", "the departures log was not stored with this run")
    days, table = daily
    x = _midday(run, days)
    for row, direction in enumerate(directions, start=1):
        routes = table.get(direction, {})
        for index, (route, sums) in enumerate(routes.items()):
            colour = ROUTE_COLOURS.get(route, "#555")
            first = row == 1
            width, offset = _bar_slot(index, len(routes))
            fig.add_trace(go.Bar(x=x, y=_round(sums["load"]), name=f"{route}: lorries carried",
                                 marker_color=colour, legendgroup=route, showlegend=first,
                                 opacity=0.75, width=width, offset=offset), row=row, col=1)
            fig.add_trace(go.Scatter(x=x, y=_round(sums["capacity"]), mode="lines+markers",
                                     name=f"{route}: capacity after disruptions",
                                     line={"color": colour, "width": 2}, legendgroup=route,
                                     showlegend=first), row=row, col=1)
            fig.add_trace(go.Scatter(x=x, y=_round(sums["scheduled_capacity"]), mode="lines",
                                     name=f"{route}: scheduled capacity",
                                     line={"color": colour, "dash": "dot", "width": 1},
                                     legendgroup=route, showlegend=first), row=row, col=1)
        fig.update_yaxes(title_text="lorries per day", rangemode="tozero", row=row, col=1)
    fig.update_layout(title="Daily throughput by route against capacity", barmode="overlay",
                      height=620, legend={"orientation": "h", "y": -0.1})
    _day_axis(fig, run, len(days))
    shade_disruptions(fig, run)
    return fig


MS_PER_DAY = 86_400_000


def _bar_slot(index: int, count: int) -> tuple[float, float]:
    """Width and offset (ms) of bar ``index`` of ``count`` side by side within a day:
    plotly cannot size a lone bar on a date axis (a one-day run) by itself."""
    width = 0.8 * MS_PER_DAY / max(count, 1)
    return width, -0.4 * MS_PER_DAY + index * width


def _day_axis(fig: go.Figure, run: RunData, days: int) -> None:
    """The x axis spans the run's days, ticked daily up to a fortnight."""
    end = run.start + timedelta(days=days)
    fig.update_xaxes(range=[run.start.isoformat(), end.isoformat()])
    if days <= 14:
        fig.update_xaxes(dtick=MS_PER_DAY, tickformat="%a %d %b")


def security_figure(run: RunData) -> go.Figure | None:
    """The security funnel (attempts → outcomes) and harm; None when the model is off."""
    reports = [s for rep in run.replications if isinstance(s := rep.summary.get("security"), dict)]
    if len(reports) != len(run.replications):
        return None
    funnel = _mean_pairs([_funnel_stages(s) for s in reports])
    harm_runs = [_harm_by_target(s.get("harm") or {}) for s in reports]
    harm = {kind: dict(_mean_pairs([list(h.get(kind, {}).items()) for h in harm_runs]))
            for kind in harm_runs[0]}
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38],
                        specs=[[{"type": "funnel"}, {"type": "bar"}]],
                        subplot_titles=["Attempts, and what is left after each layer",
                                        "Deaths and injuries by target"])
    if funnel:
        fig.add_trace(go.Funnel(y=[k for k, _ in funnel], x=[v for _, v in funnel],
                                textinfo="value+percent initial", name="people",
                                showlegend=False), row=1, col=1)
    for (kind, by_target), colour in zip(harm.items(), ("#d62728", "#ff9896"), strict=False):
        fig.add_trace(go.Bar(x=list(by_target), y=list(by_target.values()), name=kind,
                             marker_color=colour), row=1, col=2)
    mean = f" (mean of {len(reports)} replications)" if len(reports) > 1 else ""
    fig.update_layout(title=f"Security: attempts, outcomes and harm (people){mean}", height=420,
                      barmode="group", legend={"orientation": "h", "y": -0.15})
    return fig


def _harm_by_target(harm: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Deaths and injuries by target (lorries, port, tunnel), totals left out."""
    out = {}
    for kind, value in harm.items():
        if isinstance(value, dict):
            counts = {k: float(v) for k, v in value.items() if k != "total" and _is_number(v)}
            if counts:
                out[kind] = counts
        elif _is_number(value):
            out[kind] = {"all": float(value)}
    return out


def _mean_pairs(runs: list[list[tuple[str, float]]]) -> list[tuple[str, float]]:
    """(name, value) pairs averaged over replications, in the first one's order."""
    names = [name for name, _ in runs[0]]
    values = [dict(pairs) for pairs in runs]
    return [(name, float(np.mean([v.get(name, 0.0) for v in values]))) for name in names]


# the layers an attempt meets, in order (docs/security.md); each removes one outcome
SECURITY_LAYERS = (("abandoned", "not abandoned"), ("stopped_at_perimeter", "past the perimeter"),
                   ("died", "alive past the perimeter"), ("found_by_police", "not found by police"),
                   ("detected_at_controls", "not found at the controls"),
                   ("detected_on_arrival_uk", "not found on arrival in the UK"))


def _funnel_stages(security: dict[str, Any]) -> list[tuple[str, float]]:
    """Attempts, then what is left after each layer; without the known layers, attempts
    then each outcome, largest first."""
    attempts = security.get("attempts")
    if isinstance(attempts, dict):
        attempts = attempts.get("total")
    outcomes = security.get("outcomes") or {}
    if not isinstance(attempts, int | float) or isinstance(attempts, bool) or not isinstance(
            outcomes, dict):
        return []
    stages = [("attempts", float(attempts))]
    if all(_is_number(outcomes.get(k)) for k, _ in SECURITY_LAYERS):
        for outcome, left in SECURITY_LAYERS:
            stages.append((left, stages[-1][1] - float(outcomes[outcome])))
        return stages
    pairs = [(k, float(v)) for k, v in outcomes.items() if _is_number(v)]
    return stages + sorted(pairs, key=lambda kv: -kv[1])


def shade_disruptions(fig: go.Figure, run: RunData, colour: str = SHADE,
                      who: str = "", relative: bool = False) -> None:
    """Shaded bands over the disruption windows on every x axis of ``fig`` (in days since
    the run's start when ``relative``)."""
    windows = run.summary.get("disruptions") or []
    for window in windows:
        x0, x1 = window["start"], window["end"]
        if relative:
            x0, x1 = (_days_since(run, x0), _days_since(run, x1))
        fig.add_vrect(x0=x0, x1=x1, fillcolor=colour, line_width=0,
                      layer="below", row="all", col="all")
    if windows:
        names = "; ".join(sorted({w["name"] or w["kind"] for w in windows}))
        if len(names) > 140:
            names = names[:137] + "..."
        fig.add_annotation(text=f"shaded{who}: disruption windows ({names})", showarrow=False,
                           xref="paper", yref="paper", x=0, y=1.08 if not who else 1.12,
                           xanchor="left", yanchor="bottom", font={"size": 11, "color": "#555"})
        fig.update_layout(margin={"t": 130})


def _by_direction(vertical_spacing: float) -> tuple[list[str], go.Figure]:
    """The directions and a figure with one row for each, sharing the time axis."""
    directions = list(DIRECTION_TITLES)
    return directions, make_subplots(rows=2, cols=1, shared_xaxes=True,
                                     vertical_spacing=vertical_spacing,
                                     subplot_titles=[DIRECTION_TITLES[d] for d in directions])


def _pooled_delays(run: RunData) -> dict[str, np.ndarray]:
    pooled: dict[str, list[np.ndarray]] = {}
    for rep in run.replications:
        if rep.delays_minutes is None:
            return {}
        for direction, delays in rep.delays_minutes.items():
            pooled.setdefault(direction, []).append(np.asarray(delays, dtype=float))
    return {d: np.concatenate(v) for d, v in pooled.items()}


def _daily_departures(run: RunData) -> tuple[np.ndarray, dict] | None:
    """Per direction and route: lorries carried and capacity per day (mean over replications)."""
    horizon_days = int(np.ceil(run.summary["horizon_hours"] / 24.0))
    days = np.arange(horizon_days)
    out: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for rep in run.replications:
        if rep.departures is None:
            return None
        table = rep.departures
        minutes = table["minutes"].to_numpy(zero_copy_only=False)
        # a departure at the horizon itself belongs to the last day
        day = np.minimum(minutes // 1440, horizon_days - 1).astype(np.int64)
        inside = minutes <= run.summary["horizon_hours"] * 60.0
        direction = np.asarray(table["direction"].to_pylist())
        route = np.asarray(table["route"].to_pylist())
        for d, r in dict.fromkeys(zip(direction.tolist(), route.tolist(), strict=True)):
            mine = (direction == d) & (route == r) & inside
            sums = out.setdefault(d, {}).setdefault(r, {})
            for column in ("load", "capacity", "scheduled_capacity"):
                values = table[column].to_numpy(zero_copy_only=False)[mine]
                per_day = np.bincount(day[mine], weights=values, minlength=horizon_days)
                sums[column] = sums.get(column, 0) + per_day / len(run.replications)
    return days, out


def _midday(run: RunData, days: np.ndarray) -> list[str]:
    """Noon of each simulated day, so a day's bar sits over that day on a time axis."""
    return [(run.start + timedelta(days=int(d), hours=12)).isoformat(timespec="minutes")
            for d in days]


def _nice_width(rough: float) -> float:
    for width in (1, 2, 5, 10, 15, 30, 60, 120, 240, 480):
        if width >= rough:
            return float(width)
    return 960.0


def _empty(fig: go.Figure, title: str, note: str) -> go.Figure:
    fig.add_annotation(text=note, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_layout(title=title, height=260)
    return fig


def _round(values: np.ndarray) -> list[float | None]:
    """Three decimals, NaN as a gap: keeps the HTML small and the JSON valid."""
    return [None if np.isnan(v) else round(float(v), 3) for v in np.asarray(values, float)]


def _transparent(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)



COMPARE_STYLES = (("solid", "rgba(120, 120, 120, 0.18)"), ("dash", "rgba(255, 140, 0, 0.15)"))
COMPARE_COLOURS = ("#1f77b4", "#d62728")


def _compared(a: RunData, b: RunData) -> list[tuple[str, str, RunData, str]]:
    """(line dash, disruption shade, run, colour) for run A then run B."""
    return [(dash, shade, run, colour) for (dash, shade), run, colour
            in zip(COMPARE_STYLES, (a, b), COMPARE_COLOURS, strict=True)]


def relative_axis(a: RunData, b: RunData, relative: bool | None = None) -> bool:
    """Days since each run's start (True) or calendar time; by default calendar time
    only when both runs start at the same moment."""
    return relative if relative is not None else a.start != b.start


def compare_queue_figure(a: RunData, b: RunData, relative: bool | None = None) -> go.Figure:
    """Total queue outside the terminals, A against B, per direction."""
    relative = relative_axis(a, b, relative)
    directions, fig = _by_direction(0.09)
    for dash, shade, run, colour in _compared(a, b):
        series = run_series(run)
        x = _round(series.minutes / 1440.0) if relative else timestamps(run.start,
                                                                         series.minutes)
        for row, direction in enumerate(directions, start=1):
            rows = [np.nanmean(p.lorries, axis=0) for p in series.queues(direction)]
            total = np.nansum(rows, axis=0) if rows else np.zeros(series.minutes.shape[0])
            fig.add_trace(go.Scatter(x=x, y=_round(total), mode="lines", name=run.label,
                                     legendgroup=run.label, showlegend=row == 1,
                                     line={"color": colour, "dash": dash, "width": 1.8}),
                          row=row, col=1)
        shade_disruptions(fig, run, shade, who=f" ({run.label})" if run is b else "",
                          relative=relative)
    fig.update_yaxes(title_text="lorries queued", rangemode="tozero")
    if relative:
        fig.update_xaxes(title_text="days since the start of each run", row=2, col=1)
    fig.update_layout(title="Queue outside the terminals: A against B", height=620,
                      hovermode="x unified", legend={"orientation": "h", "y": -0.08})
    return fig


def compare_daily_figure(a: RunData, b: RunData) -> go.Figure:
    """Day by day (day 1 = each run's first day), A against B: the longest queue outside
    the terminals and the lorries that crossed, both directions together. Comparable
    however the runs' dates and horizons differ."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=["Longest queue outside the terminals that day "
                                        "(lorries, both directions)",
                                        "Lorries crossed that day (both directions)"])
    for (_, _), run, colour in zip(COMPARE_STYLES, (a, b), COMPARE_COLOURS, strict=True):
        peaks = daily_peak_queue(run)
        fig.add_trace(go.Bar(x=[f"day {d + 1}" for d in range(peaks.shape[0])],
                             y=_round(peaks), name=run.label, legendgroup=run.label,
                             marker_color=colour, opacity=0.8), row=1, col=1)
        daily = _daily_departures(run)
        if daily is not None:
            days, table = daily
            crossed = sum((sums["load"] for routes in table.values() for sums in routes.values()),
                          np.zeros(days.shape[0]))
            fig.add_trace(go.Bar(x=[f"day {d + 1}" for d in days], y=_round(crossed),
                                 name=run.label, legendgroup=run.label, showlegend=False,
                                 marker_color=colour, opacity=0.8), row=2, col=1)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(title="Day by day: A against B", barmode="group", height=560,
                      legend={"orientation": "h", "y": -0.1})
    return fig


def daily_peak_queue(run: RunData) -> np.ndarray:
    """The most lorries queued outside the terminals at once (15-minute samples, both
    directions together, mean over replications) in each day of the run."""
    series = run_series(run)
    rows = [np.nanmean(p.lorries, axis=0) for p in series.queues()]
    total = np.nansum(rows, axis=0) if rows else np.zeros(series.minutes.shape[0])
    days = int(np.ceil(run.summary["horizon_hours"] / 24.0))
    day = np.minimum(series.minutes // 1440, days - 1).astype(np.int64)
    peaks = np.zeros(days)
    np.maximum.at(peaks, day, total)
    return peaks


def compare_delay_figure(a: RunData, b: RunData) -> go.Figure:
    """Share of lorries delayed longer than x, A against B (the tail on a log scale)."""
    fig = go.Figure()
    for (dash, _), run in zip(COMPARE_STYLES, (a, b), strict=True):
        for direction, delays in _pooled_delays(run).items():
            ordered = np.sort(delays)
            if not ordered.size:
                continue
            grid = np.unique(np.quantile(ordered, np.linspace(0, 1, 301)))
            share = 1.0 - np.searchsorted(ordered, grid, side="right") / ordered.size
            keep = share > 0
            fig.add_trace(go.Scatter(x=_round(grid[keep] / 60.0), y=_round(share[keep]),
                                     mode="lines", name=f"{run.label} · {direction}",
                                     line={"dash": dash}))
    fig.update_layout(title="Share of lorries delayed longer than x", height=380,
                      xaxis_title="delay (hours)", yaxis_title="share of lorries (log)",
                      yaxis_type="log", legend={"orientation": "h", "y": -0.25})
    return fig


def compare_throughput_figure(a: RunData, b: RunData,
                              relative: bool | None = None) -> go.Figure:
    """Lorries crossed per day, all routes, A against B."""
    relative = relative_axis(a, b, relative)
    directions, fig = _by_direction(0.1)
    for dash, shade, run, colour in _compared(a, b):
        daily = _daily_departures(run)
        if daily is None:
            continue
        days, table = daily
        x = _round(days + 0.5) if relative else _midday(run, days)
        for row, direction in enumerate(directions, start=1):
            routes = table.get(direction, {})
            total = sum((sums["load"] for sums in routes.values()), np.zeros(days.shape[0]))
            fig.add_trace(go.Scatter(x=x, y=_round(total), mode="lines+markers",
                                     name=run.label, legendgroup=run.label,
                                     showlegend=row == 1,
                                     line={"color": colour, "dash": dash}), row=row, col=1)
        shade_disruptions(fig, run, shade, who=f" ({run.label})" if run is b else "",
                          relative=relative)
    fig.update_yaxes(title_text="lorries per day", rangemode="tozero")
    if relative:
        fig.update_xaxes(title_text="days since the start of each run", row=2, col=1)
    fig.update_layout(title="Lorries crossed per day: A against B", height=560,
                      legend={"orientation": "h", "y": -0.1})
    return fig


def _days_since(run: RunData, stamp: str) -> float:
    return round((datetime.fromisoformat(stamp) - run.start).total_seconds() / 86400.0, 4)
