"""KPIs per vehicle class: cars and coaches beside the lorries.

Per direction and class: vehicles arrived and crossed, delay (time to the far
side beyond the class's free flow) mean, p95 and max, the peak queue on the
road to each terminal in km (each queued vehicle's lane-metres, over the
road's lanes), and passenger-hours of delay (each vehicle's delay × its
people). Lorries keep their own KPIs (:mod:`straits.metrics.kpis`); these sit
beside them only when a scenario has passenger classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from straits.engine.records import ClassRecords, DirectionRecords, Records
from straits.scenario.schema import Scenario


def _r(value: float, digits: int = 3) -> float:
    return round(float(value), digits)


def class_delay_minutes(cr: ClassRecords, horizon_minutes: float,
                        crossing_minutes: np.ndarray) -> np.ndarray:
    """Delay of each vehicle that crossed or is still on its way (those at the
    horizon counted as crossing then: a lower bound, as for the lorries)."""
    exit_minutes = np.where(cr.crossed, cr.exit_minutes,
                            horizon_minutes + crossing_minutes[cr.terminal])
    return np.maximum(exit_minutes - cr.arrival_minutes - cr.free_flow_minutes, 0.0)


def queue_km(arrival: np.ndarray, gate_entry: np.ndarray, metres: float, lanes: int,
             grid: np.ndarray) -> np.ndarray:
    """Road queue in km at each grid time: vehicles arrived and not yet through the gate."""
    came = np.searchsorted(np.sort(arrival), grid, side="right")
    entered = np.searchsorted(np.sort(gate_entry[~np.isnan(gate_entry)]), grid, side="right")
    return (came - entered) * metres / 1000.0 / lanes


def class_kpis(scenario: Scenario, records: Records, grid: np.ndarray,
               hgv_delays: dict[str, np.ndarray]) -> dict[str, Any]:
    """``{direction: {class: KPIs}}``, the lorries (``hgv``) included for comparison,
    with their delays as the lorry KPIs count them (``hgv_delays``)."""
    assert scenario.passengers is not None
    out: dict[str, Any] = {}
    for direction, dr in records.directions.items():
        lanes = getattr(scenario.holding, direction).overflow_lanes
        by_class = {"hgv": _hgv(dr, hgv_delays[direction], grid,
                                scenario.passengers.hgv_lane_metres, lanes)}
        for name, cr in dr.classes.items():
            metres = scenario.passengers.classes[name].lane_metres  # type: ignore[index]
            delays = class_delay_minutes(cr, records.horizon_minutes,
                                         dr.layout.crossing_minutes)
            by_class[name] = {
                "arrived": int(cr.arrival_minutes.shape[0]),
                "crossed": int(cr.crossed.sum()),
                "people": int(cr.people.sum()),
                **_delays(delays),
                "passenger_hours_delayed": _r((delays * cr.people).sum() / 60.0, 1),
                "queue_peak_km": _roads(dr, cr.arrival_minutes, cr.gate_entry_minutes,
                                        cr.terminal, metres, lanes, grid),
            }
        out[direction] = by_class
    return out


def _hgv(dr: DirectionRecords, delays: np.ndarray, grid: np.ndarray, metres: float,
         lanes: int) -> dict[str, Any]:
    return {"arrived": dr.lorries, "crossed": int(dr.crossed.sum()), **_delays(delays),
            "queue_peak_km": _roads(dr, dr.reached_corridor_minutes, dr.gate_entry_minutes,
                                    dr.terminal, metres, lanes, grid)}


def _delays(delays: np.ndarray) -> dict[str, Any]:
    some = delays.size > 0
    return {"delay_minutes": {
        "mean": _r(delays.mean() if some else 0.0),
        "p95": _r(np.percentile(delays, 95) if some else 0.0),
        "max": _r(delays.max() if some else 0.0)}}


def _roads(dr: DirectionRecords, arrival: np.ndarray, gate_entry: np.ndarray,
           terminal: np.ndarray, metres: float, lanes: int, grid: np.ndarray
           ) -> dict[str, float]:
    """Peak queue in km on the road to each terminal."""
    return {name: _r(queue_km(arrival[terminal == t], gate_entry[terminal == t], metres,
                              lanes, grid).max(initial=0.0))
            for t, name in enumerate(dr.layout.terminals)}
