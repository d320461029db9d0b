"""A map of the corridor drawn from geometry shipped with straits (no tiles, no
internet): coasts, roads and terminals as plain plotly lines, with each
holding area's queue drawn along its road at a chosen time and a time slider.

A holding area fills its road segment from the head (terminal end) back in
proportion to how full it is; an approach road (the overflow) shows its km
along its road, clipped at the edge of the map. Areas the geometry does not
know are listed under the map, not guessed. An area with a ``decision`` is
outlined (dotted, every logged decision on hover) and, while called or in
force, drawn thin along its whole road (dashed while it is being set up), its
state named in the legend and on hover at the slider's time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import plotly.graph_objects as go

from straits.report.series import (
    CALLED,
    IN_FORCE,
    STOOD_DOWN,
    Decision,
    PlaceSeries,
    Series,
    area_state,
    decided_areas,
    decision_text,
    place_colours,
    run_decisions,
    run_series,
    when,
)
from straits.report.sources import RunData

MAX_SLIDER_STEPS = 120
_KM_PER_DEGREE_LAT = 110.57
_MAP_LATITUDE = 51.05
_TERMINAL_PLACES = {"dover": "Dover", "folkestone": "Folkestone", "calais": "Calais",
                    "coquelles": "Coquelles"}


@cache
def corridor_geometry() -> dict[str, Any]:
    """The shipped outline: coasts, roads, crossings, places and holding-area paths."""
    text = (resources.files("straits.report") / "data" / "corridor.json").read_text("utf-8")
    return json.loads(text)


def path_km(path: list[list[float]]) -> np.ndarray:
    """Cumulative length along a lon/lat polyline, in km (equirectangular, fine at this scale)."""
    xy = _projected(path)
    steps = np.hypot(*np.diff(xy, axis=0).T)
    return np.concatenate([[0.0], np.cumsum(steps)])


def cut_path(path: list[list[float]], km: float) -> list[list[float]]:
    """The first ``km`` of a polyline (the whole of it if shorter)."""
    if km <= 0:
        return []
    along = path_km(path)
    out = [path[0]]
    for i in range(1, len(path)):
        if along[i] >= km:
            t = (km - along[i - 1]) / (along[i] - along[i - 1])
            a, b = path[i - 1], path[i]
            out.append([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])])
            return out
        out.append(path[i])
    return out


def offset_path(path: list[list[float]], km: float) -> list[list[float]]:
    """The polyline shifted ``km`` to its left, so two carriageways show side by side."""
    xy = _projected(path)
    out = []
    for i in range(len(xy)):
        a, b = (xy[i - 1], xy[i]) if i else (xy[0], xy[1])
        dx, dy = b - a
        norm = math.hypot(dx, dy) or 1.0
        x, y = xy[i] + km * np.array([-dy, dx]) / norm
        out.append([x / _km_per_degree_lon(), y / _KM_PER_DEGREE_LAT])
    return out


def map_figure(run: RunData, series: Series | None = None, at: datetime | None = None,
               max_steps: int = MAX_SLIDER_STEPS) -> go.Figure:
    """The corridor with queues at ``at`` (default: the busiest moment) and a time slider."""
    geometry = corridor_geometry()
    series = series or run_series(run)
    fig = go.Figure()
    _draw_background(fig, geometry)
    queues = [p for p in series.queues() if p.place in geometry["areas"]]
    unknown = [p.place for p in series.queues() if p.place not in geometry["areas"]]
    capacity = _capacities(run)
    colours = place_colours(series)
    steps = _step_indices(series, max_steps)
    decisions = run_decisions(run)
    decided = [p for p in queues if p.place in decided_areas(run)]
    for place in decided:
        _outline(fig, run, geometry, place, decisions[0])
    first = len(fig.data)
    for place in queues:
        fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=place.place,
                                 legendgroup=place.place,
                                 line={"color": colours[place.place],
                                       "width": 5 if place.kind == "overflow_road" else 8},
                                 hoverinfo="text", showlegend=True))
    terminals = [t for t in series.terminals() if t.place in _TERMINAL_PLACES]
    fig.add_trace(go.Scatter(x=[], y=[], mode="markers", name=TERMINALS_NAME,
                             marker={"color": "rgba(31, 119, 180, 0.45)", "sizemode": "area"},
                             hoverinfo="text"))
    by_class = class_queue_text(run)
    for place in decided:
        for dash in ("dash", "solid"):
            fig.add_trace(go.Scatter(x=[], y=[], mode="lines", name=place.place,
                                     legendgroup=place.place, showlegend=True,
                                     line={"color": colours[place.place], "width": 2.5,
                                           "dash": dash},
                                     opacity=0.8, hoverinfo="text"))
    frames = []
    for k in steps:
        states = {p.place: area_states(run, decisions, p.place, series.minutes[k])
                  for p in decided}
        frames.append(_frame(geometry, queues, terminals, capacity, k, states, by_class)
                      + _state_frame(geometry, states))
    chosen = _chosen_step(run, series, steps, at)
    total = _total_queue(series)
    labels = [when(run.start, series.minutes[k]) for k in steps]
    indices = list(range(first, first + len(queues) + 1 + 2 * len(decided)))
    for i, trace in zip(indices, frames[chosen], strict=True):
        fig.data[i].update({k.replace(".", "_"): v for k, v in trace.items()})
    fig.update_layout(
        title=_title(labels[chosen], total[steps[chosen]]),
        sliders=[{
            "active": chosen, "currentvalue": {"prefix": "time: "}, "pad": {"t": 30},
            "steps": [{"label": labels[j], "method": "update",
                       "args": [_restyle(frames[j]), {"title.text": _title(labels[j],
                                                                             total[k])},
                                indices]}
                      for j, k in enumerate(steps)],
        }],
    )
    _map_layout(fig, unknown)
    return fig


TERMINALS_NAME = "inside the terminals"
MAX_OUTLINE_DECISIONS = 12


def _area_path(geometry: dict[str, Any], place: str) -> list[list[float]]:
    area = geometry["areas"][place]
    return offset_path(area["path"], area["offset_km"]) if area.get("offset_km") else area["path"]


def _outline(fig: go.Figure, run: RunData, geometry: dict[str, Any], place: PlaceSeries,
             decisions: list[Decision]) -> None:
    """The whole road of an area with a decision, dotted, its logged decisions on hover
    (the first run's in an ensemble)."""
    path = _area_path(geometry, place.place)
    mine = [decision_text(run.start, d) for d in decisions if d.area == place.place]
    which = "first run's " if run.is_ensemble else ""
    if not mine:
        text = f"{place.place}: never called"
    else:
        more = len(mine) - MAX_OUTLINE_DECISIONS
        shown = mine[:MAX_OUTLINE_DECISIONS] + ([f"and {more} more (holding_decisions)"]
                                                 if more > 0 else [])
        text = f"{place.place}, {which}decisions:<br>" + "<br>".join(shown)
    fig.add_trace(go.Scatter(x=[p[0] for p in path], y=[p[1] for p in path], mode="lines",
                             name=f"{place.place} (decisions)", legendgroup=place.place,
                             showlegend=False, hoverinfo="text", hovertext=text,
                             line={"color": "#777", "width": 1.5, "dash": "dot"}))


@dataclass(frozen=True)
class AreaState:
    """What the map says of an area with a decision at one moment."""

    text: str  # hover line
    being_set_up: str  # legend entry of the dashed line ("": not drawn)
    in_force: str  # legend entry of the thin solid line ("": not drawn)


def area_states(run: RunData, decisions: list[list[Decision]], area: str,
                minutes: float) -> AreaState:
    """The area's state at ``minutes``: since when and why for one run, in how many runs
    it is in force or being set up for an ensemble."""
    latest = [area_state(log, area, minutes) for log in decisions]
    states = [d.decision if d is not None else STOOD_DOWN for d in latest]
    if run.is_ensemble:
        runs = len(states)
        n_in, n_called = states.count(IN_FORCE), states.count(CALLED)
        set_up = f"being set up in {n_called} of {runs} runs" if n_called else ""
        in_force = f"in force in {n_in} of {runs} runs" if n_in else ""
        text = ", ".join(t for t in (in_force, set_up) if t) or f"stood down in all {runs} runs"
        return AreaState(text, set_up, in_force)
    now = latest[0]
    if now is None:
        return AreaState("not called yet", "", "")
    text = f"{now.decision} since {when(run.start, now.minutes)} ({now.reason})"
    if now.decision == IN_FORCE:
        call = next((d for d in reversed(decisions[0]) if d.area == area
                     and d.decision == CALLED and d.minutes <= now.minutes), None)
        if call is not None:
            text += f"; called {when(run.start, call.minutes)} ({call.reason})"
    return AreaState(text, "being set up" if now.decision == CALLED else "",
                     IN_FORCE if now.decision == IN_FORCE else "")


def _state_frame(geometry: dict[str, Any], states: dict[str, AreaState]) -> list[dict[str, Any]]:
    """The dashed (being set up) and thin solid (in force) lines of each area with a
    decision, named in the legend while drawn."""
    traces = []
    for place, state in states.items():
        path = _area_path(geometry, place)
        text = f"{place}: {state.text}"
        for label in (state.being_set_up, state.in_force):
            line = path if label else []
            traces.append({"x": [p[0] for p in line], "y": [p[1] for p in line],
                           "hovertext": [text] * len(line), "name": f"{place}: {label}"})
    return traces


def class_queue_text(run: RunData) -> dict[str, str]:
    """Per terminal, the passenger classes' peak queues on the road to it (mean over the
    replications), for the terminal's hover text; empty for lorry-only runs."""
    peaks: dict[tuple[str, str], list[float]] = {}
    for rep in run.replications:
        for by_class in (rep.summary.get("classes") or {}).values():
            for name, kpis in by_class.items():
                if name == "hgv":
                    continue
                for terminal, km in (kpis.get("queue_peak_km") or {}).items():
                    peaks.setdefault((terminal, name), []).append(float(km))
    text: dict[str, list[str]] = {}
    for (terminal, name), values in peaks.items():
        if max(values) > 0:
            text.setdefault(terminal, []).append(
                f"{name}s: peak queue {np.mean(values):.1f} km")
    return {terminal: "; ".join(parts) for terminal, parts in text.items()}


def _frame(geometry: dict[str, Any], queues: list[PlaceSeries], terminals: list[PlaceSeries],
           capacity: dict[str, int], k: int, states: dict[str, AreaState],
           by_class: dict[str, str]) -> list[dict[str, Any]]:
    """One trace update per queue place, then the terminal markers, at time index ``k``
    (with the passenger classes' peak queues, ``by_class``, in their hover text)."""
    traces = []
    for place in queues:
        area = geometry["areas"][place.place]
        path = _area_path(geometry, place.place)
        lorries = float(np.nanmean(place.lorries[:, k]))
        km = float(np.nanmean(place.km[:, k]))
        length = float(path_km(path)[-1])
        if place.place in capacity and not area.get("overflow"):
            shown = length * min(lorries / capacity[place.place], 1.0) if capacity[
                place.place] else 0.0
        else:
            shown = min(km, length)
        line = cut_path(path, shown) if lorries >= 0.5 else []
        beyond = " (continues beyond the map)" if km > length + 0.05 and area.get("overflow") \
            else ""
        text = f"{place.place} — {area['road']}: {lorries:,.0f} lorries, {km:.1f} km{beyond}"
        state = states.get(place.place)
        if state is not None:
            text += f"<br>{state.text}"
        traces.append({"x": [p[0] for p in line], "y": [p[1] for p in line],
                       "hovertext": [text] * len(line), "name": place.place})
    xs, ys, sizes, texts = [], [], [], []
    for terminal in terminals:
        lon, lat = geometry["places"][_TERMINAL_PLACES[terminal.place]]
        inside = float(np.nanmean(terminal.lorries[:, k]))
        xs.append(lon)
        ys.append(lat)
        sizes.append(round(4 + 0.4 * math.sqrt(max(inside, 0.0)) * 4, 2))
        extra = f" ({by_class[terminal.place]})" if terminal.place in by_class else ""
        texts.append(f"{terminal.place}: {inside:,.0f} lorries inside the terminal{extra}")
    traces.append({"x": xs, "y": ys, "hovertext": texts, "marker.size": sizes,
                   "name": TERMINALS_NAME})
    return traces


def _restyle(traces: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Per-trace updates merged into plotly's restyle form (one list entry per trace)."""
    keys = sorted({k for t in traces for k in t})
    return {key: [t.get(key) for t in traces] for key in keys}


def _draw_background(fig: go.Figure, geometry: dict[str, Any]) -> None:
    for name, line in geometry["coasts"].items():
        fig.add_trace(_line(line, name, "#6b8fb3", 1.5, hover=name))
    for name, line in geometry["roads"].items():
        fig.add_trace(_line(line, name, "#9a9a9a", 2.5, hover=name))
    for name, line in geometry["crossings"].items():
        fig.add_trace(_line(line, f"{name} crossing", "#6b8fb3", 1.5, dash="dot",
                            hover=f"{name} crossing"))
    names = list(geometry["places"])
    fig.add_trace(go.Scatter(
        x=[geometry["places"][n][0] for n in names], y=[geometry["places"][n][1] for n in names],
        mode="markers", text=names, hoverinfo="text", marker={"size": 7, "color": "#333"},
        showlegend=False, name="places"))
    for label in place_labels(geometry):
        fig.add_annotation(x=label.x, y=label.y, text=label.text, showarrow=False,
                           xanchor=label.xanchor, yanchor=label.yanchor,
                           font={"size": label.size, "color": label.colour})
    _scale_bar(fig)


@dataclass(frozen=True)
class Label:
    """A map label and the box it covers (lon/lat), so labels can be kept apart."""

    text: str
    x: float
    y: float
    xanchor: str
    yanchor: str
    size: int
    colour: str

    def box(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in degrees at the report's scale."""
        width = len(self.text) * CHAR_PX[self.size] * DEGREES_LON_PER_PX
        height = LINE_PX[self.size] * DEGREES_LAT_PER_PX
        left = {"left": self.x, "center": self.x - width / 2, "right": self.x - width}[
            self.xanchor]
        bottom = {"bottom": self.y, "middle": self.y - height / 2, "top": self.y - height}[
            self.yanchor]
        return left, bottom, left + width, bottom + height


# the map is about 470 px tall for one degree of latitude (640 px figure, title, slider);
# a degree of longitude spans cos(latitude) as many pixels
DEGREES_LAT_PER_PX = 1.0 / 470
DEGREES_LON_PER_PX = DEGREES_LAT_PER_PX / math.cos(math.radians(_MAP_LATITUDE))
CHAR_PX = {10: 6.2, 11: 6.8}  # average character width, with room to spare
LINE_PX = {10: 14.0, 11: 15.0}
_GAP = 0.004  # degrees between a marker and its label
_ROAD_OFFSETS = tuple((k * dx, k * dy, x_anchor, y_anchor) for k in (1, 4) for dx, dy, x_anchor,
                      y_anchor in ((0, _GAP, "center", "bottom"), (0, -_GAP, "center", "top"),
                                   (_GAP, 0, "left", "middle"), (-_GAP, 0, "right", "middle"),
                                   (_GAP, -_GAP, "left", "top"), (-_GAP, _GAP, "right",
                                                                   "bottom")))


def place_labels(geometry: dict[str, Any]) -> list[Label]:
    """Town names beside their markers (above, or the side ``label_sides`` prefers), then
    road names along their roads, each at the first of its candidate spots whose box
    meets no label already placed and no town."""
    placed: list[Label] = []
    points = [tuple(p) for p in geometry["places"].values()]
    for name, (lon, lat) in geometry["places"].items():
        sides = {"above": Label(name, lon, lat + _GAP, "center", "bottom", 11, "#222"),
                 "below": Label(name, lon, lat - _GAP, "center", "top", 11, "#222"),
                 "right": Label(name, lon + _GAP, lat, "left", "middle", 11, "#222"),
                 "left": Label(name, lon - _GAP, lat, "right", "middle", 11, "#222")}
        preferred = geometry.get("label_sides", {}).get(name, "above")
        candidates = [sides[preferred], *(v for k, v in sides.items() if k != preferred)]
        placed.append(_first_free(candidates, placed, points))
    for name, line in geometry["roads"].items():
        spots = [line[round(f * (len(line) - 1))] for f in (0.5, 0.35, 0.65, 0.2, 0.8, 0.1,
                                                               0.9)]
        candidates = [Label(name, lon + dx, lat + dy, x_anchor, y_anchor, 10, "#666")
                      for lon, lat in spots
                      for dx, dy, x_anchor, y_anchor in _ROAD_OFFSETS]
        placed.append(_first_free(candidates, placed, points))
    return placed


def _first_free(candidates: list[Label], placed: list[Label],
                points: list[tuple[float, float]]) -> Label:
    for label in candidates:
        if not any(boxes_overlap(label.box(), other.box()) for other in placed) and not any(
                _inside(label.box(), point) for point in points):
            return label
    return candidates[0]  # nowhere free: the first choice (a test keeps the map clear)


def boxes_overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(box: tuple[float, ...], point: tuple[float, float]) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


SCALE_KM = 20.0
_SCALE_ORIGIN = (0.18, 50.56)  # lower left, in the open Channel clear of roads and towns


def _scale_bar(fig: go.Figure) -> None:
    """Bars of 20 km and 20 miles drawn to the map's scale, bottom left."""
    lon, lat = _SCALE_ORIGIN
    for row, (length_km, text) in enumerate(((SCALE_KM, f"{SCALE_KM:g} km"),
                                             (SCALE_KM * 1.609344, f"{SCALE_KM:g} miles"))):
        y = lat + row * 0.045
        x1 = lon + length_km / _km_per_degree_lon()
        fig.add_shape(type="line", x0=lon, x1=x1, y0=y, y1=y, line={"color": "#333", "width": 3})
        for x in (lon, x1):
            fig.add_shape(type="line", x0=x, x1=x, y0=y - 0.006, y1=y + 0.006,
                          line={"color": "#333", "width": 2})
        fig.add_annotation(x=x1 + _GAP, y=y, text=text, showarrow=False, xanchor="left",
                           yanchor="middle", font={"size": 10, "color": "#333"})


def _line(points: list[list[float]], name: str, colour: str, width: float,
          dash: str = "solid", hover: str = "") -> go.Scatter:
    return go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points], mode="lines",
                      name=name, line={"color": colour, "width": width, "dash": dash},
                      hoverinfo="text", hovertext=hover, showlegend=False)


def _map_layout(fig: go.Figure, unknown: list[str]) -> None:
    fig.update_xaxes(visible=False, range=[0.1, 2.45])
    fig.update_yaxes(visible=False, range=[50.5, 51.5], scaleanchor="x",
                     scaleratio=1 / math.cos(math.radians(_MAP_LATITUDE)))
    fig.update_layout(height=640, plot_bgcolor="#f4f8fb", hovermode="closest",
                      margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      legend={"title": {"text": "queues"}, "x": 1.0, "xanchor": "right",
                              "y": 1.0, "bgcolor": "rgba(255,255,255,0.8)"})
    if unknown:
        fig.add_annotation(text="not on the map (no geometry): " + ", ".join(unknown),
                           showarrow=False, xref="paper", yref="paper", x=0, y=0,
                           xanchor="left", font={"size": 11, "color": "#a00"})


def _capacities(run: RunData) -> dict[str, int]:
    plans = (run.scenario.holding.southbound, run.scenario.holding.northbound)
    return {a.name: a.capacity_lorries for plan in plans for a in plan.areas}


def _total_queue(series: Series) -> np.ndarray:
    rows = [np.nanmean(p.lorries, axis=0) for p in series.queues()]
    return np.nansum(rows, axis=0) if rows else np.zeros(series.minutes.shape[0])


def _step_indices(series: Series, max_steps: int) -> list[int]:
    stride = max(1, math.ceil(series.minutes.shape[0] / max_steps))
    return list(range(0, series.minutes.shape[0], stride))


def _chosen_step(run: RunData, series: Series, steps: list[int], at: datetime | None) -> int:
    """The slider position nearest ``at``, or the busiest sampled moment."""
    if at is not None:
        minutes = (at - run.start).total_seconds() / 60.0
        return int(np.argmin(np.abs(series.minutes[steps] - minutes)))
    return int(np.argmax(_total_queue(series)[steps]))


def _title(label: str, lorries: float) -> str:
    return f"Corridor map at {label}: {lorries:,.0f} lorries queued outside the terminals"


def _km_per_degree_lon() -> float:
    return _KM_PER_DEGREE_LAT * math.cos(math.radians(_MAP_LATITUDE))


def _projected(path: list[list[float]]) -> np.ndarray:
    points = np.asarray(path, dtype=float)
    return np.column_stack([points[:, 0] * _km_per_degree_lon(),
                            points[:, 1] * _KM_PER_DEGREE_LAT])
