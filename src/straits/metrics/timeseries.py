"""Tables for ``--out``: per-lorry records and 15-minute occupancy series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from straits.engine.holding import REASON_NAMES, STATE_NAMES
from straits.engine.records import Records
from straits.metrics.kpis import lorry_delays_minutes
from straits.metrics.occupancy import inside_terminals, occupancy
from straits.scenario.clock import clock_times
from straits.scenario.schema import Scenario

STEP_MINUTES = 15.0


def _timestamps(records: Records, minutes: np.ndarray) -> pa.Array:
    return pa.array(clock_times(records.start, minutes), pa.timestamp("s"))


def holding_timeseries(scenario: Scenario, records: Records,
                       step_minutes: float = STEP_MINUTES) -> pa.Table:
    """Lorries and km in every holding area, overflow road and terminal, every 15 min."""
    minutes = np.arange(0.0, records.horizon_minutes + step_minutes / 2, step_minutes)
    columns: dict[str, list] = {k: [] for k in ("minutes", "direction", "place", "kind",
                                                "lorries", "km")}
    for name, dr in records.directions.items():
        plan = getattr(scenario.holding, name)
        occ = occupancy(dr, plan, minutes)
        inside = inside_terminals(dr, minutes)
        kinds = ["holding_area"] * len(plan.areas) + ["overflow_road"]
        for a, area in enumerate(dr.area_names):
            _extend(columns, minutes, name, area, kinds[a], occ.lorries_by_area[a],
                    occ.km_by_area[a])
        for t, terminal in enumerate(dr.layout.terminals):
            _extend(columns, minutes, name, terminal, "terminal", inside[t],
                    np.full(minutes.shape[0], np.nan))
    all_minutes = np.concatenate(columns.pop("minutes"))
    return pa.table({
        "time": _timestamps(records, all_minutes),
        "minutes": all_minutes,
        "direction": np.concatenate(columns["direction"]),
        "place": np.concatenate(columns["place"]),
        "kind": np.concatenate(columns["kind"]),
        "lorries": np.round(np.concatenate(columns["lorries"]).astype(float), 3),
        "km": np.round(np.concatenate(columns["km"]).astype(float), 3),
    })


def _extend(columns, minutes, direction, place, kind, lorries, km) -> None:
    m = minutes.shape[0]
    columns["minutes"].append(minutes)
    columns["direction"].append(np.full(m, direction))
    columns["place"].append(np.full(m, place))
    columns["kind"].append(np.full(m, kind))
    columns["lorries"].append(lorries)
    columns["km"].append(km)


def lorry_table(records: Records) -> pa.Table:
    """One row per lorry: times at every stage (minutes from the start; NaN where
    not reached), the holding area it joined, its departure and exit."""
    parts = []
    for name, dr in records.directions.items():
        layout = dr.layout
        terminal = np.maximum(dr.terminal, 0)
        data: dict[str, Any] = {
            "direction": np.full(dr.lorries, name),
            "lorry": np.arange(dr.lorries, dtype=np.int64),
            "arrival_time": _timestamps(records, dr.arrival_minutes),
            "arrival_minutes": dr.arrival_minutes,
            "route": np.array(layout.routes)[terminal],
            "terminal": np.array(layout.terminals)[terminal],
            "holding_area": np.where(dr.holding_area >= 0,
                                     np.array([*dr.area_names, ""])[dr.holding_area], ""),
            "gate_entry_minutes": dr.gate_entry_minutes,
        }
        for stage in sorted({s for names in layout.stage_names for s in names}):
            start = np.full(dr.lorries, np.nan)
            end = np.full(dr.lorries, np.nan)
            for t, names in enumerate(layout.stage_names):
                if stage in names:
                    k = names.index(stage)
                    mine = dr.terminal == t
                    start[mine] = dr.stage_start_minutes[mine, k]
                    end[mine] = dr.stage_end_minutes[mine, k]
            data[f"{stage}_start_minutes"] = start
            data[f"{stage}_end_minutes"] = end
        if dr.facilities is not None:
            facility_names = np.array([*dr.facilities.names, ""])
            data["facility"] = facility_names[dr.facilities.facility]
            data["facility_start_minutes"] = dr.facilities.start_minutes
            data["facility_end_minutes"] = dr.facilities.end_minutes
        if any(a.shared for a in dr.holding_plan.areas):
            data["shared_queue_join_minutes"] = dr.held_minutes
            data["shared_queue_release_minutes"] = dr.released_minutes
        data["turned_back"] = dr.turned_back
        data["departure_minutes"] = dr.departure_minutes
        data["exit_minutes"] = dr.exit_minutes
        data["free_flow_minutes"] = dr.free_flow_minutes
        data["delay_minutes"] = lorry_delays_minutes(dr, records.horizon_minutes)
        data["delay_censored"] = dr.in_system_at_end
        if dr.dispatch is not None:  # the behaviour rule: what each haulier did first
            data["planned_minutes"] = dr.dispatch.planned_minutes
            data["held_back"] = dr.dispatch.held_back
            data["switched_route"] = dr.dispatch.switched
            data["rejoined"] = dr.dispatch.rejoined
        parts.append(pa.table(data))
    return pa.concat_tables(parts, promote_options="default")


def departures_table(records: Records) -> pa.Table:
    """The capacity log of the crossings: every scheduled departure, its capacity
    after disruptions (0 = cancelled) and its load."""
    parts = []
    for name, dr in records.directions.items():
        terminals = np.array(dr.layout.terminals)[dr.departure_terminal]
        routes = np.array(dr.layout.routes)[dr.departure_terminal]
        parts.append(pa.table({
            "direction": np.full(terminals.shape[0], name),
            "route": routes,
            "terminal": terminals,
            "time": _timestamps(records, dr.departure_time_minutes),
            "minutes": dr.departure_time_minutes,
            "scheduled_capacity": dr.layout.departure_scheduled_capacity,
            "capacity": dr.departure_capacity,
            "load": dr.departure_load,
            "vessel": dr.layout.departure_vessel,
        }))
    return pa.concat_tables(parts)


def decisions_table(records: Records) -> pa.Table:
    """The holding controllers' log: one row per decision (called, in force, stood down)."""
    parts = []
    for name, dr in records.directions.items():
        log = dr.decisions
        parts.append(pa.table({
            "direction": pa.array(np.full(log.minutes.shape[0], name), pa.string()),
            "time": _timestamps(records, log.minutes),
            "minutes": log.minutes,
            "area": pa.array(np.array(dr.area_names[:-1] or [""], dtype=object)[log.area]
                             if log.minutes.size else [], pa.string()),
            "decision": pa.array([STATE_NAMES[k] for k in log.state], pa.string()),
            "reason": pa.array([REASON_NAMES[k] for k in log.reason], pa.string()),
        }))
    return pa.concat_tables(parts)


def booths_table(records: Records) -> pa.Table:
    """The capacity log of the stages: booths open from each change onwards."""
    rows = [(name, t, s, m, b) for name, dr in records.directions.items()
            for t, s, m, b in dr.layout.booth_log]
    minutes = np.array([r[3] for r in rows], dtype=float)
    return pa.table({
        "direction": [r[0] for r in rows],
        "terminal": [r[1] for r in rows],
        "stage": [r[2] for r in rows],
        "time": _timestamps(records, minutes),
        "minutes": minutes,
        "booths": np.array([r[4] for r in rows], dtype=np.int64),
    })
