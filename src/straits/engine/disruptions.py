"""Disruptions become capacity over time on the nodes they hit.

Each replication draws the uncertain durations once, in the order the
disruptions are listed, then turns the windows into step functions: booths
open per stage, speed per stage, which departures run, and a demand factor.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from straits.engine.timetable import Departures
from straits.scenario.schema import (
    BorderSlowdown,
    CapacityCut,
    DemandShock,
    DisruptionModel,
    SailingsCancelled,
    Scenario,
    Staffing,
    TunnelSuspension,
    TurnBack,
    VesselsWithdrawn,
)


class Window(NamedTuple):
    """One disruption as it happens in this replication, in minutes."""

    position: int  # in the scenario's list of disruptions
    kind: str
    name: str
    start_minutes: float
    end_minutes: float
    disruption: DisruptionModel


def sample_windows(scenario: Scenario, rng: np.random.Generator) -> list[Window]:
    """Draw each disruption's duration; clip windows to the horizon."""
    windows = []
    for i, d in enumerate(scenario.disruptions):
        start = scenario.start_minutes(d)
        end = min(start + float(d.duration.sample(rng, 1)[0]), scenario.horizon)
        windows.append(Window(i, d.kind, d.name or f"{d.kind} {i}", start, end, d))
    return windows


def _active(windows: list[Window], minute: float) -> list[Window]:
    return [w for w in windows if w.start_minutes <= minute < w.end_minutes]


def _breakpoints(windows: list[Window]) -> np.ndarray:
    points = {0.0}
    for w in windows:
        points.update((w.start_minutes, w.end_minutes))
    return np.array(sorted(points))


def booth_schedule(
    windows: list[Window], terminal: str, stage: str, nominal_booths: int
) -> tuple[int, list[tuple[float, int]]]:
    """Booths open at the start and the later changes ``(minutes, booths)``.

    A staffing change sets the count (the last listed wins when two overlap);
    a strike or blockade of the terminal then scales it by its capacity
    fraction, rounded to the nearest whole booth.
    """
    relevant = [
        w for w in windows
        if (isinstance(w.disruption, CapacityCut) and w.disruption.target == terminal)
        or (isinstance(w.disruption, Staffing) and w.disruption.target == terminal
            and w.disruption.stage == stage)
    ]
    changes: list[tuple[float, int]] = []
    current = None
    for minute in _breakpoints(relevant):
        booths = float(nominal_booths)
        for w in _active(relevant, minute):
            if isinstance(w.disruption, Staffing):
                booths = float(w.disruption.booths)
        for w in _active(relevant, minute):
            if isinstance(w.disruption, CapacityCut):
                booths *= w.disruption.capacity_fraction
        count = int(np.floor(booths + 0.5))
        if current is None:
            current = count
        elif count != (changes[-1][1] if changes else current):
            changes.append((float(minute), count))
    return int(current if current is not None else nominal_booths), changes


def speed_schedule(
    windows: list[Window], terminal: str, stage: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints (first at 0) with what holds for services starting from each:
    the service multiplier and added minutes (slowdowns multiply, additions
    add) and the share of lorries turned back (independent turn-backs combine)."""
    relevant = [
        w for w in windows
        if (isinstance(w.disruption, BorderSlowdown) and w.disruption.target == terminal
            and w.disruption.stage in (None, stage))
        or (isinstance(w.disruption, TurnBack) and w.disruption.target == terminal
            and w.disruption.stage == stage)
    ]
    times = _breakpoints(relevant)
    multiplier = np.ones(times.shape[0])
    added = np.zeros(times.shape[0])
    kept = np.ones(times.shape[0])
    for k, minute in enumerate(times):
        for w in _active(relevant, minute):
            d = w.disruption
            if isinstance(d, TurnBack):
                kept[k] *= 1.0 - d.share
            elif isinstance(d, BorderSlowdown):
                multiplier[k] *= d.multiplier
                added[k] += d.added
    return times, multiplier, added, 1.0 - kept


def _route_fraction(w: Window, route: str, direction: str) -> float | None:
    """The share of departures a window lets run on ``route``, or None."""
    d = w.disruption
    if direction not in d.directions or getattr(d, "target", None) != route:
        return None
    if isinstance(d, CapacityCut):
        return d.capacity_fraction
    if isinstance(d, TunnelSuspension):
        return 0.0
    if isinstance(d, SailingsCancelled):
        return 1.0 - d.share_cancelled
    return None


def apply_to_departures(
    windows: list[Window], route: str, direction: str, departures: Departures, fleet_size: int
) -> np.ndarray:
    """Capacity of each scheduled departure after disruptions (0 = cancelled).

    A fraction f of departures runs by even thinning (every other one at
    f = 0.5), so "some boats let through" keeps a regular service; withdrawn
    ships lose their own sailings.
    """
    capacity = departures.capacity.copy()
    cuts = [(w, f) for w in windows if (f := _route_fraction(w, route, direction)) is not None]
    withdrawals = [
        (w, d.vessels) for w in windows
        if isinstance(d := w.disruption, VesselsWithdrawn) and d.target == route
        and direction in d.directions
    ]
    credit = 0.0
    for k, minute in enumerate(departures.minutes):
        fraction = 1.0
        for w, f in cuts:
            if w.start_minutes <= minute < w.end_minutes:
                fraction *= f
        credit += fraction
        if credit >= 1.0 - 1e-9:
            credit -= 1.0
        else:
            capacity[k] = 0
        for w, vessels in withdrawals:
            gone = fleet_size - vessels
            if w.start_minutes <= minute < w.end_minutes and departures.vessel[k] >= gone:
                capacity[k] = 0
    return capacity


def demand_edges_and_factor(
    windows: list[Window], direction: str, horizon_minutes: float, first_hour_minutes: float
) -> tuple[np.ndarray, np.ndarray]:
    """Edges at every clock hour (the first ``first_hour_minutes`` after the start)
    plus shock boundaries, and the demand factor in each interval.

    Edges on clock hours keep each interval inside one clock hour and one day, so
    the hour-of-day and day-of-week weights apply whatever minute the run starts.
    """
    shocks = [
        (w, d.multiplier) for w in windows
        if isinstance(d := w.disruption, DemandShock) and direction in d.directions
    ]
    edges = {0.0, float(horizon_minutes)}
    edges.update(np.arange(first_hour_minutes, horizon_minutes, 60.0).tolist())
    for w, _ in shocks:
        edges.update((w.start_minutes, w.end_minutes))
    grid = np.array(sorted(e for e in edges if 0.0 <= e <= horizon_minutes))
    factor = np.ones(grid.shape[0] - 1)
    for w, multiplier in shocks:
        inside = (grid[:-1] >= w.start_minutes) & (grid[:-1] < w.end_minutes)
        factor[inside] *= multiplier
    return grid, factor
