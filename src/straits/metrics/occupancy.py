"""Where the lorries are, minute by minute: the holding plan applied to records."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from straits.engine.holding import CALLED, DecisionLog, area_km, state_at
from straits.engine.records import DirectionRecords
from straits.scenario.schema import HoldingPlan


class Occupancy(NamedTuple):
    minutes: np.ndarray  # (m,)
    lorries_by_area: np.ndarray  # (areas + overflow, m)
    km_by_area: np.ndarray  # (areas + overflow, m)


def occupancy(records: DirectionRecords, plan: HoldingPlan, minutes: np.ndarray) -> Occupancy:
    """Lorries (and km) in each holding area and on the overflow road at ``minutes``."""
    lorries = records.queue_by_area(minutes).sum(axis=1)
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
    return peak_waiting(records.reached_corridor_minutes, records.gate_entry_minutes)


def peak_waiting(joined_minutes: np.ndarray, left_minutes: np.ndarray) -> int:
    """The most lorries ever between joining a queue and leaving it (exact; NaN:
    never left)."""
    waited = ~(left_minutes <= joined_minutes)
    if not waited.any():
        return 0
    gone = waited & ~np.isnan(left_minutes)
    times = np.concatenate([joined_minutes[waited], left_minutes[gone]])
    steps = np.concatenate([np.ones(waited.sum()), -np.ones(gone.sum())])
    order = np.lexsort((steps, times))  # at equal times, leave before join
    return int(np.cumsum(steps[order]).max())


def called_or_in_force(plan: HoldingPlan, log: DecisionLog, minutes: np.ndarray) -> np.ndarray:
    """Whether each area had been called (set-up under way or done) and not stood
    down, shape (A, m), from the decision log; areas without a decision: False."""
    out = np.zeros((len(plan.areas), minutes.shape[0]), dtype=bool)
    for a, area in enumerate(plan.areas):
        if area.decision is not None:
            out[a] = state_at(log, a, minutes) >= CALLED
    return out
