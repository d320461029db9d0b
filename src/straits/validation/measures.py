"""Headline quantities of the validation targets, measured on one replication.

Each measure is a pure function of a run (scenario + records) and names the
published quantity it stands for; the targets in :mod:`targets` say which
fact row (shared/domain/facts.md) each is compared with. Peaks over time are
read on a 5-minute grid (a queue of thousands moves little in 5 minutes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from straits.engine.holding import area_km
from straits.engine.records import DirectionRecords
from straits.metrics.kpis import delay_minutes
from straits.pipeline import RunResult
from straits.scenario.schema import FerryRoute

KM_PER_MILE = 1.609344
SOUTHBOUND = "southbound"
GRID_MINUTES = 5.0

Measure = Callable[[RunResult], float]


def _grid(result: RunResult) -> np.ndarray:
    return np.arange(0.0, result.records.horizon_minutes + GRID_MINUTES / 2, GRID_MINUTES)


def _kent(result: RunResult) -> DirectionRecords:
    return result.records.directions[SOUTHBOUND]


def _by_area_terminal(result: RunResult, minutes: np.ndarray) -> np.ndarray:
    """Southbound lorries by (area + overflow, terminal, time) outside the gates."""
    return _kent(result).queue_by_area(minutes)


def stack_lorries_over_time(result: RunResult, minutes: np.ndarray) -> np.ndarray:
    """Lorries held in Operation Stack / Brock areas (all terminals) at ``minutes``."""
    plan = result.scenario.holding.southbound
    flags = np.array([a.stack_or_brock for a in plan.areas] + [False])
    return _by_area_terminal(result, minutes)[flags].sum(axis=(0, 1))


def kent_queue_lorries_over_time(result: RunResult, minutes: np.ndarray) -> np.ndarray:
    """Lorries queuing in Kent outside the port and tunnel gates at ``minutes``."""
    return _by_area_terminal(result, minutes).sum(axis=(0, 1))


def kent_queue_km_over_time(result: RunResult, minutes: np.ndarray,
                            terminal: str | None = None) -> np.ndarray:
    """Length of the Kent road queue (km) at ``minutes``: all terminals or one."""
    by_area = _by_area_terminal(result, minutes)
    if terminal is not None:
        index = _kent(result).layout.terminals.index(terminal)
        by_area = by_area[:, index:index + 1, :]
    return area_km(result.scenario.holding.southbound, by_area.sum(axis=1)).sum(axis=0)


def stack_days(result: RunResult) -> float:
    """F3.2: calendar days on which Stack/Brock held lorries."""
    return float(result.summary["stack_or_brock"]["days_active"])


def stack_peak_lorries(result: RunResult) -> float:
    """F3.3: most lorries held in the Stack/Brock areas at one time."""
    return float(stack_lorries_over_time(result, _grid(result)).max())


def kent_queue_peak_lorries(result: RunResult) -> float:
    """F5.3: most lorries queuing in Kent outside the gates at one time."""
    return float(result.summary["directions"][SOUTHBOUND]["queue_peak_lorries"])


def kent_queue_peak_miles(result: RunResult) -> float:
    """F3.3: longest Kent lorry queue (all holding areas and roads), in miles."""
    return float(kent_queue_km_over_time(result, _grid(result)).max()) / KM_PER_MILE


def evening_peak_queue_miles(result: RunResult) -> float:
    """F5.1: longest Dover-bound queue on the M20/A20 between 16:00 and 22:00
    (F1.12 evening peak 16:00-19:00, plus the hours the queue takes to clear),
    on any day of the run, in miles."""
    minutes = _grid(result)
    start = result.scenario.start
    clock = (minutes + start.hour * 60 + start.minute) % 1440
    evening = minutes[(clock >= 16 * 60) & (clock <= 22 * 60)]
    if evening.size == 0:
        return 0.0
    return float(kent_queue_km_over_time(result, evening, "dover").max()) / KM_PER_MILE


def stack_mean_wait_hours(result: RunResult) -> float:
    """F3.3: mean delay (hours) of the southbound lorries that were held in a
    Stack/Brock area and crossed by the horizon."""
    dr = _kent(result)
    plan = result.scenario.holding.southbound
    stack_areas = [i for i, a in enumerate(plan.areas) if a.stack_or_brock]
    held = np.isin(dr.holding_area, stack_areas)[dr.crossed]
    return float(delay_minutes(dr)[held].mean() / 60.0) if held.any() else 0.0


def southbound_crossed_per_day(result: RunResult) -> float:
    """F1.1: mean lorries crossing southbound per whole day of the run."""
    return float(result.summary["directions"][SOUTHBOUND]["crossed_per_day"]["mean"])


def max_wait_hours(result: RunResult) -> float:
    """F5.3: the longest delay (hours) of a southbound lorry that crossed, or of
    one still waiting at the horizon."""
    dr = _kent(result)
    crossed = delay_minutes(dr)
    waiting = dr.in_system_at_end
    so_far = result.records.horizon_minutes - dr.arrival_minutes[waiting] \
        - dr.free_flow_minutes[waiting]
    longest = max(crossed.max(initial=0.0), so_far.max(initial=0.0))
    return float(longest) / 60.0


def dover_busiest_day_lorries(result: RunResult) -> float:
    """F3.4, F1.3: most lorries through the Port of Dover in a calendar day,
    both directions (sailings out of Dover plus sailings into Dover, on every
    ferry route: Calais and Dunkirk)."""
    days = int(np.ceil(result.records.horizon_minutes / 1440.0))
    total = np.zeros(days)
    ferries = [i for i, route in enumerate(_kent(result).layout.routes)
               if isinstance(result.scenario.routes[route], FerryRoute)]
    for name, dr in result.records.directions.items():
        mine = dr.crossed & np.isin(dr.terminal, ferries)
        moment = dr.departure_minutes[mine] if name == SOUTHBOUND else dr.exit_minutes[mine]
        day = np.minimum((moment // 1440).astype(np.int64), days - 1)
        total += np.bincount(day, minlength=days)[:days]
    whole = int(result.records.horizon_minutes // 1440)
    return float(total[: max(whole, 1)].max())



def _dover_cars(result: RunResult, vehicle_class: str = "car"
                ) -> tuple[np.ndarray, np.ndarray]:
    """Outbound cars (or coaches) at Dover: arrival and border time (arrival to the last
    control), vehicles still in the controls at the horizon counted to the horizon."""
    dr = _kent(result)
    cars = dr.classes[vehicle_class]
    dover = cars.terminal == dr.layout.terminals.index("dover")
    done = np.where(np.isnan(cars.controls_done_minutes), result.records.horizon_minutes,
                    cars.controls_done_minutes)
    return cars.arrival_minutes[dover], (done - cars.arrival_minutes)[dover]


def dover_car_border_mean_minutes(result: RunResult) -> float:
    """Mean border processing time of outbound cars at Dover (F6.5)."""
    _, minutes = _dover_cars(result)
    return float(minutes.mean()) if minutes.size else 0.0


def dover_car_border_peak_hour_minutes(result: RunResult) -> float:
    """The highest hourly mean border time of outbound cars at Dover, by hour of arrival
    (F6.5: the planned maximum reached in one single hour)."""
    arrival, minutes = _dover_cars(result)
    hour = (arrival // 60).astype(np.int64)
    counts = np.bincount(hour)
    means = np.bincount(hour, weights=minutes) / np.maximum(counts, 1)
    return float(means[counts >= 10].max(initial=0.0))


def dover_coach_border_at_4am_hours(result: RunResult) -> float:
    """Mean border time, in hours, of outbound coaches reaching Dover between 03:00 and
    05:00 on the run's second day (F6.6: coach delays at 04:00 Saturday)."""
    arrival, minutes = _dover_cars(result, "coach")
    start = result.records.start
    four = (24 - start.hour - start.minute / 60 + 4) * 60.0
    near = np.abs(arrival - four) <= 60.0
    return float(minutes[near].mean() / 60.0) if near.any() else 0.0
