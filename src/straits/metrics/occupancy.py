"""Where the lorries are, minute by minute: the holding plan applied to records."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from straits.engine.holding import allocate, area_km, gate_queue
from straits.engine.records import DirectionRecords
from straits.scenario.schema import HoldingPlan


class Occupancy(NamedTuple):
    minutes: np.ndarray  # (m,)
    lorries_by_area: np.ndarray  # (areas + overflow, m)
    km_by_area: np.ndarray  # (areas + overflow, m)


def lorries_by_area_terminal(records: DirectionRecords, plan: HoldingPlan,
                             minutes: np.ndarray) -> np.ndarray:
    """Lorries waiting outside the gates at ``minutes``, by (area + overflow, terminal, time)."""
    queue = gate_queue(records.arrival_minutes, records.gate_entry_minutes, records.terminal,
                       len(records.layout.terminals), minutes)
    return allocate(plan, records.layout.terminals, queue)


def occupancy(records: DirectionRecords, plan: HoldingPlan, minutes: np.ndarray) -> Occupancy:
    """Lorries (and km) in each holding area and on the overflow road at ``minutes``."""
    lorries = lorries_by_area_terminal(records, plan, minutes).sum(axis=1)
    return Occupancy(minutes, lorries, area_km(plan, lorries))


def inside_terminals(records: DirectionRecords, minutes: np.ndarray) -> np.ndarray:
    """Lorries admitted into each terminal and not yet gone, shape (T, m)."""
    n_terminals = len(records.layout.terminals)
    inside = np.zeros((n_terminals, minutes.shape[0]), dtype=np.int64)
    entry = np.where(np.isnan(records.gate_entry_minutes), np.inf, records.gate_entry_minutes)
    left = np.where(np.isnan(records.left_terminal_minutes), np.inf,
                    records.left_terminal_minutes)
    for t in range(n_terminals):
        mine = records.terminal == t
        inside[t] = (np.searchsorted(np.sort(entry[mine]), minutes, side="right")
                     - np.searchsorted(np.sort(left[mine]), minutes, side="right"))
    return inside


def peak_gate_queue(records: DirectionRecords) -> int:
    """The most lorries ever waiting outside the direction's terminals (exact)."""
    entry = records.gate_entry_minutes
    waited = ~(entry <= records.arrival_minutes)
    if not waited.any():
        return 0
    times = np.concatenate([records.arrival_minutes[waited], entry[waited & ~np.isnan(entry)]])
    steps = np.concatenate([np.ones(waited.sum()), -np.ones((waited & ~np.isnan(entry)).sum())])
    order = np.lexsort((steps, times))  # at equal times, leave before join
    return int(np.cumsum(steps[order]).max())
