"""The summary a user reads: one JSON-ready dict per replication.

Every key is documented in docs/kpis.md. Delay is the time to the far side
beyond the free-flow time (mean service at each stage, half a headway, the
crossing). Lorries still in the corridor at the horizon count in every delay
KPI with the least delay they can have (boarding at the horizon), flagged as
censored, so a disruption that runs into the horizon never lowers the delays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from straits.engine.facilities import direction_facilities
from straits.engine.holding import REASON_NAMES, STATE_NAMES, DecisionLog
from straits.engine.records import DirectionRecords, Records
from straits.metrics.classes import class_kpis
from straits.metrics.occupancy import (
    called_or_in_force,
    occupancy,
    peak_gate_queue,
    peak_waiting,
)
from straits.scenario.clock import stamp
from straits.scenario.schema import HoldingPlan, Scenario

GRID_MINUTES = 1.0
DELAY_THRESHOLDS_HOURS = (1, 6, 18, 24, 48)


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def summarise(scenario: Scenario, records: Records) -> dict[str, Any]:
    """KPIs of one replication, with rounded floats so output is byte-stable."""
    grid = np.arange(0.0, records.horizon_minutes + GRID_MINUTES / 2, GRID_MINUTES)
    directions: dict[str, Any] = {}
    holding: dict[str, Any] = {}
    stack_minutes = np.zeros(grid.shape[0], dtype=bool)
    total_hours = 0.0
    diversion_gbp = 0.0
    for name, dr in records.directions.items():
        plan = getattr(scenario.holding, name)
        occ = occupancy(dr, plan, grid)
        directions[name] = _direction_kpis(dr, records, occ.km_by_area.sum(axis=0))
        total_hours += directions[name]["lorry_hours_delayed"]
        if dr.dispatch is not None:
            directions[name]["behaviour"] = behaviour_kpis(dr, records.horizon_minutes)
            diversion_gbp += directions[name]["behaviour"]["diversion_cost_gbp"]
        flags = [a.stack_or_brock for a in plan.areas] + [False]
        decided = [a.decision is not None for a in plan.areas] + [False]
        called = called_or_in_force(plan, dr.decisions, grid)
        for a, area in enumerate(dr.area_names):
            active = occ.lorries_by_area[a] > 0.5
            if flags[a]:
                stack_minutes |= called[a] if decided[a] else active
            holding[area] = {
                "direction": name,
                "peak_lorries": int(np.floor(occ.lorries_by_area[a].max() + 0.5)),
                "peak_km": _r(occ.km_by_area[a].max()),
                "hours_active": _r(active.sum() * GRID_MINUTES / 60.0, 2),
            }
            if decided[a]:
                holding[area]["hours_called"] = _r(called[a].sum() * GRID_MINUTES / 60.0, 2)
    decisions = [
        _decision_entry(records, name, getattr(scenario.holding, name), dr.decisions, k)
        for name, dr in records.directions.items() for k in range(dr.decisions.minutes.shape[0])
    ]
    extra: dict[str, Any] = {"holding_decisions": decisions} if any(
        getattr(scenario.holding, d).has_decisions for d in records.directions) else {}
    if scenario.facilities:
        extra["facilities"] = _facility_kpis(scenario, records)
    if scenario.passengers is not None:
        hgv_delays = {name: delay_at_horizon_minutes(dr, records.horizon_minutes)[0]
                      for name, dr in records.directions.items()}
        extra["classes"] = class_kpis(scenario, records, grid, hgv_delays)
    summary = {
        "scenario": records.scenario,
        "seed": records.seed,
        "start": records.start.isoformat(timespec="minutes"),
        "horizon_hours": _r(records.horizon_minutes / 60.0, 2),
        "directions": directions,
        "holding": holding,
        "stack_or_brock": _stack_kpis(stack_minutes, grid, records),
        **extra,
        "cost_gbp": _r(total_hours * scenario.cost.delay_gbp_per_lorry_hour, 0),
        "disruptions": [
            {
                "name": w.name,
                "kind": w.kind,
                "start": _stamp(records, w.start_minutes),
                "end": _stamp(records, w.end_minutes),
                "hours": _r((w.end_minutes - w.start_minutes) / 60.0, 2),
            }
            for w in records.windows
        ],
    }
    if any(dr.dispatch is not None for dr in records.directions.values()):
        summary["diversion_cost_gbp"] = _r(diversion_gbp, 0)
    return summary


def _facility_kpis(scenario: Scenario, records: Records) -> dict[str, Any]:
    """Lorries through each facility, their wait for a booth, its busiest queue."""
    out = {}
    for name, dr in records.directions.items():
        facilities = direction_facilities(scenario, name)
        passed = dr.facilities
        if passed is None:  # no facility in this direction
            continue
        for k, f in enumerate(facilities):
            mine = passed.facility == k
            wait = passed.start_minutes[mine] - dr.arrival_minutes[mine]
            queue = peak_waiting(dr.arrival_minutes[mine], passed.start_minutes[mine])
            out[f.name] = {
                "direction": name,
                "lorries": int(mine.sum()),
                "wait_minutes": {"mean": _r(wait.mean() if wait.size else 0.0),
                                 "p95": _r(np.percentile(wait, 95) if wait.size else 0.0)},
                "queue_peak_lorries": queue,
                "queue_peak_beyond_park_lorries": max(queue - f.capacity_lorries, 0),
            }
    return out


def _decision_entry(records: Records, direction: str, plan: HoldingPlan, log: DecisionLog,
                    k: int) -> dict[str, Any]:
    return {
        "time": _stamp(records, float(log.minutes[k])),
        "direction": direction,
        "area": plan.areas[int(log.area[k])].name,
        "decision": STATE_NAMES[int(log.state[k])],
        "reason": REASON_NAMES[int(log.reason[k])],
    }


def _stamp(records: Records, minutes: float) -> str:
    return stamp(records.start, minutes)


def delay_minutes(dr: DirectionRecords) -> np.ndarray:
    """Delay of each lorry that crossed: time to the far side beyond free flow."""
    crossed = dr.crossed
    elapsed = dr.exit_minutes[crossed] - dr.arrival_minutes[crossed]
    return np.maximum(elapsed - dr.free_flow_minutes[crossed], 0.0)


def lorry_delays_minutes(dr: DirectionRecords, horizon_minutes: float,
                         from_minutes: np.ndarray | None = None) -> np.ndarray:
    """Delay of each lorry as every delay KPI counts it; NaN for lorries turned back.

    A lorry still in the corridor at the horizon reaches the far side at the
    horizon plus its crossing at the earliest, so that gives its delay: a lower
    bound, never above what a worse disruption would give it. Lorries turned
    back never cross, so they have no delay. ``from_minutes`` (per lorry; default
    its arrival) is where the delay is counted from: the planned departure
    includes the time a load was held back.
    """
    start = dr.arrival_minutes if from_minutes is None else from_minutes
    earliest_exit = horizon_minutes + dr.layout.crossing_minutes[np.maximum(dr.terminal, 0)]
    exit_minutes = np.where(dr.crossed, dr.exit_minutes, earliest_exit)
    delays = np.maximum(exit_minutes - start - dr.free_flow_minutes, 0.0)
    return np.where(dr.crossed | dr.in_system_at_end, delays, np.nan)


def delay_at_horizon_minutes(dr: DirectionRecords, horizon_minutes: float,
                             from_minutes: np.ndarray | None = None
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Delays of the lorries that crossed or are still in the corridor, and which of
    those are censored (still waiting at the horizon)."""
    counted = dr.crossed | dr.in_system_at_end
    return (lorry_delays_minutes(dr, horizon_minutes, from_minutes)[counted],
            dr.in_system_at_end[counted])


def _per_full_day(minutes: np.ndarray, horizon_minutes: float) -> np.ndarray:
    """Events per whole simulated day from the start (the one day of a shorter run)."""
    days = max(horizon_minutes / 1440.0, 1e-9)
    counts = np.bincount((minutes // 1440).astype(np.int64), minlength=int(np.ceil(days)))
    return counts[: max(int(days), 1)]


def _direction_kpis(dr: DirectionRecords, records: Records, km: np.ndarray) -> dict[str, Any]:
    crossed = dr.crossed
    delays, censored = delay_at_horizon_minutes(dr, records.horizon_minutes)
    waiting = dr.in_system_at_end
    full_days = _per_full_day(dr.departure_minutes[crossed], records.horizon_minutes)
    by_route = {}
    for index, route in enumerate(dr.layout.routes):
        mine = crossed & (dr.terminal == index)
        route_per_day = _per_full_day(dr.departure_minutes[mine], records.horizon_minutes)
        capacity = dr.departure_capacity[dr.departure_terminal == index].sum()
        by_route[route] = {
            "terminal": dr.layout.terminals[index],
            "arrived": int((dr.terminal == index).sum()),
            "crossed": int(mine.sum()),
            "turned_back": int((dr.turned_back & (dr.terminal == index)).sum()),
            "crossed_per_day_max": int(route_per_day.max()) if route_per_day.size else 0,
            "capacity_lorries": int(capacity),
            "load_factor": _r(mine.sum() / capacity if capacity else 0.0),
        }
    return {
        "arrived": dr.lorries,
        "crossed": int(crossed.sum()),
        "turned_back": int(dr.turned_back.sum()),
        "in_system_at_end": int(waiting.sum()),
        "delay_minutes": {
            "mean": _r(delays.mean() if delays.size else 0.0),
            "p50": _r(np.percentile(delays, 50) if delays.size else 0.0),
            "p95": _r(np.percentile(delays, 95) if delays.size else 0.0),
            "max": _r(delays.max() if delays.size else 0.0),
            "censored_lorries": int(censored.sum()),
        },
        "queue_peak_lorries": peak_gate_queue(dr),
        "queue_peak_km": _r(km.max() if km.size else 0.0),
        "lorry_hours_delayed": _r(delays.sum() / 60.0, 1),
        "lorries_delayed_over_hours": {
            str(h): int((delays > 60 * h).sum()) for h in DELAY_THRESHOLDS_HOURS
        },
        "crossed_per_day": {
            "mean": _r(full_days.mean() if full_days.size else 0.0, 1),
            "max": int(full_days.max()) if full_days.size else 0,
        },
        "routes": by_route,
    }


def behaviour_kpis(dr: DirectionRecords, horizon_minutes: float) -> dict[str, Any]:
    """What hauliers did under the behaviour rule (docs/kpis.md, ``behaviour``).

    Every planned load is counted once: it reached the corridor (``arrived``),
    was diverted, or was still held back at the horizon (``postponed_pending``).
    """
    dispatch = dr.dispatch
    assert dispatch is not None  # called only when the behaviour rule was on
    delays, _ = delay_at_horizon_minutes(dr, horizon_minutes, dispatch.planned_minutes)
    diverted_to = dispatch.outside_diverted_to[dispatch.diverted]
    by_where = np.bincount(diverted_to, minlength=len(dispatch.diversions))
    switched_to = np.bincount(dr.terminal[dispatch.switched], minlength=len(dr.layout.routes))
    pending = dispatch.pending
    postponed_hours = (
        (dr.arrival_minutes - dispatch.planned_minutes).sum()
        + (horizon_minutes - dispatch.outside_planned_minutes[pending]).sum()
    ) / 60.0
    return {
        "planned": int(dr.lorries + dispatch.outside_planned_minutes.shape[0]),
        "postponed": int((dispatch.held_back > 0).sum()
                         + (dispatch.outside_held_back > 0).sum()),
        "postponed_pending": int(pending.sum()),
        "lorry_hours_postponed": _r(postponed_hours, 1),
        "diverted": int(dispatch.diverted.sum()),
        "diverted_by_where": {name: int(c) for name, c in zip(dispatch.diversions, by_where,
                                                              strict=True)},
        "switched_route": int(dispatch.switched.sum()),
        "switched_to": {route: int(c) for route, c in zip(dr.layout.routes, switched_to,
                                                         strict=True) if c},
        "rejoined": int(dispatch.rejoined.sum()),
        "delay_with_postponement_minutes": {
            "mean": _r(delays.mean() if delays.size else 0.0),
            "p95": _r(np.percentile(delays, 95) if delays.size else 0.0),
        },
        "diversion_cost_gbp": _r(float(np.dot(by_where, dispatch.diversion_cost_gbp)), 0),
    }


def _stack_kpis(active: np.ndarray, grid: np.ndarray, records: Records) -> dict[str, Any]:
    """When any Stack or Brock area held lorries or (for an area with a decision)
    was called or in force: hours, calendar days, first opening."""
    if not active.any():
        return {"hours_active": 0.0, "days_active": 0, "first_opened": None}
    midnight = records.start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (records.start - midnight).total_seconds() / 60.0
    days = np.unique((grid[active] + offset) // 1440.0)
    return {
        "hours_active": _r(active.sum() * GRID_MINUTES / 60.0, 2),
        "days_active": len(days),
        "first_opened": _stamp(records, float(grid[active][0])),
    }
