"""Plots of the modelled queue over time against the reported facts (plotly).

Each figure shows the ensemble mean and the 2.5-97.5 percentile band across
replications, with the published figures drawn as lines or shaded bands. HTML
files reference one sibling ``plotly.min.js`` (written once, offline: no CDN).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from straits.scenario.clock import at
from straits.validation.scenario_runs import ScenarioRuns
from straits.validation.targets import TARGETS

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_MAX_POINTS = 800  # per trace: keeps the HTML small; hourly or finer for a six-week run


def _stride(ensemble: ScenarioRuns) -> int:
    return int(np.ceil(ensemble.minutes.shape[0] / _MAX_POINTS))


def _times(ensemble: ScenarioRuns) -> list:
    return [at(ensemble.scenario.start, m) for m in ensemble.minutes[::_stride(ensemble)]]


def _band(fig: go.Figure, x: list, series: np.ndarray, name: str, colour: str) -> None:
    """Mean line and 2.5-97.5 percentile band of ``series`` (N, m), thinned to ``x``."""
    series = series[:, :: int(np.ceil(series.shape[1] / len(x)))]
    low, high = np.round(np.percentile(series, [2.5, 97.5], axis=0), 1)
    fig.add_trace(go.Scatter(x=x + x[::-1], y=np.concatenate([high, low[::-1]]),
                             fill="toself", fillcolor=colour, opacity=0.2,
                             line={"width": 0}, hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=np.round(series.mean(axis=0), 1), name=name,
                             line={"color": colour, "width": 2}))


def _published(fig: go.Figure, low: float, high: float, label: str) -> None:
    if low == high:
        fig.add_hline(y=low, line_dash="dash", annotation_text=label,
                      annotation_position="top left")
    else:
        fig.add_hrect(y0=low, y1=high, fillcolor="orange", opacity=0.2, line_width=0,
                      annotation_text=label, annotation_position="top left")


def queue_figure(ensemble: ScenarioRuns) -> go.Figure:
    """Lorries queuing in Kent and held in Stack/Brock, against the scenario's targets."""
    x = _times(ensemble)
    name = ensemble.scenario.name
    fig = go.Figure()
    _band(fig, x, ensemble.kent_queue_lorries, "lorries queuing in Kent", _COLOURS[0])
    _band(fig, x, ensemble.stack_lorries, "of which in Stack / Brock", _COLOURS[1])
    for t in TARGETS:
        if t.scenario == name and t.unit == "lorries" and "Dover" not in t.quantity:
            _published(fig, t.published_low, t.published_high,
                       f"{t.facts}: {t.published_text}")
    if name == "calais-strike-2015":
        fig.add_vrect(x0="2015-06-23", x1="2015-08-02", fillcolor="grey", opacity=0.08,
                      line_width=0, annotation_text="F3.2: Stack on 28-32 of these days",
                      annotation_position="top right")
    fig.update_layout(
        title=f"{name}: modelled queue in Kent ({len(ensemble.seeds)} replications: mean and "
              "95% band)",
        yaxis_title="lorries", xaxis_title="time", template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def checks_figure(ensembles: list[ScenarioRuns]) -> go.Figure:
    """Dover-bound queue (miles) through the day for each check-time variant (F5.1, F5.2)."""
    fig = go.Figure()
    for colour, ensemble in zip(_COLOURS, ensembles, strict=False):
        _band(fig, _times(ensemble), ensemble.dover_queue_miles, ensemble.scenario.name, colour)
        for t in TARGETS:
            if t.scenario == ensemble.scenario.name:
                _published(fig, t.published_low, t.published_high,
                           f"{t.facts}: {t.published_text}")
    if ensembles:
        day = ensembles[0].scenario.start.date().isoformat()
        fig.add_vrect(x0=f"{day}T16:00", x1=f"{day}T22:00", fillcolor="grey", opacity=0.08,
                      line_width=0, annotation_text="evening peak measured (16:00-22:00)",
                      annotation_position="bottom right")
    fig.update_layout(
        title="Dover-bound lorry queue on the M20/A20, busy 2018 weekday (F5.1, F5.2)",
        yaxis_title="miles", xaxis_title="time of day", template="plotly_white",
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def figures(ensembles: dict[str, ScenarioRuns]) -> dict[str, go.Figure]:
    """One figure per historical event or study, by file stem."""
    out: dict[str, go.Figure] = {}
    checks = [e for n, e in ensembles.items() if n.startswith("dover-checks-2018")]
    for name, ensemble in ensembles.items():
        if not name.startswith("dover-checks-2018"):
            out[name] = queue_figure(ensemble)
    if checks:
        out["dover-checks-2018"] = checks_figure(checks)
    return out


def write_html(figs: dict[str, go.Figure], folder: Path) -> list[Path]:
    """Write each figure as HTML beside one shared, offline ``plotly.min.js``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figs.items():
        path = folder / f"{stem}.html"
        fig.write_html(path, include_plotlyjs="directory", full_html=True)
        paths.append(path)
    return paths
