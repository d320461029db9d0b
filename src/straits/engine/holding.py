"""Holding plans: where the queue outside each terminal physically waits.

The queue at a terminal's gate is FIFO whatever road it stands on, so the
holding plan does not change who leaves when; it says *where* lorries wait.
The areas fill in plan order; an area serving several terminals is shared in
proportion to their remaining queues; what no area takes overflows onto the
roads. Queue length in km is lorries × spacing / lanes.
"""

from __future__ import annotations

import numpy as np

from straits.scenario.schema import HoldingPlan


def area_names(plan: HoldingPlan) -> list[str]:
    """Areas in plan order, then the overflow road."""
    return [a.name for a in plan.areas] + [plan.overflow]


def gate_queue(
    arrival_minutes: np.ndarray,
    gate_entry_minutes: np.ndarray,
    terminal: np.ndarray,
    n_terminals: int,
    at_minutes: np.ndarray,
) -> np.ndarray:
    """Lorries waiting outside each terminal at each time, shape (T, m).

    Counts arrivals at or before each time less gate entries at or before it;
    a lorry never admitted has an entry of +inf.
    """
    queue = np.zeros((n_terminals, at_minutes.shape[0]), dtype=np.int64)
    entry = np.where(np.isnan(gate_entry_minutes), np.inf, gate_entry_minutes)
    for index in range(n_terminals):
        mine = terminal == index
        arrived = np.searchsorted(arrival_minutes[mine], at_minutes, side="right")
        entered = np.searchsorted(np.sort(entry[mine]), at_minutes, side="right")
        queue[index] = arrived - entered
    return queue


def allocate(plan: HoldingPlan, terminals: list[str], queue: np.ndarray) -> np.ndarray:
    """Lorries of each terminal in each area, shape (areas + 1, T, m).

    The last area is the overflow. Fractions arise where an area is shared and
    full; totals per terminal always equal its queue.
    """
    remaining = queue.astype(float).copy()
    out = np.zeros((len(plan.areas) + 1, *queue.shape))
    for a, area in enumerate(plan.areas):
        served = np.array([name in area.serves for name in terminals])
        wanting = remaining * served[:, None]
        total = wanting.sum(axis=0)
        taken = np.minimum(total, area.capacity_lorries)
        share = np.divide(taken, total, out=np.zeros_like(total), where=total > 0)
        out[a] = wanting * share
        remaining -= out[a]
    out[-1] = remaining
    return out


def area_km(plan: HoldingPlan, lorries_by_area: np.ndarray) -> np.ndarray:
    """Queue length in km per area (first axis), from lorries × spacing / lanes.

    An area's km never exceeds its road length, so an off-road lorry park
    (``length_km: 0``) holds lorries but adds nothing to queue lengths.
    """
    spacing_km = plan.lorry_spacing_m / 1000.0
    lanes = np.array([a.lanes for a in plan.areas] + [plan.overflow_lanes], dtype=float)
    km = lorries_by_area * spacing_km / lanes.reshape((-1,) + (1,) * (lorries_by_area.ndim - 1))
    for a, area in enumerate(plan.areas):
        km[a] = np.minimum(km[a], area.length_km)
    return km


def area_joined(
    plan: HoldingPlan,
    terminals: list[str],
    arrival_minutes: np.ndarray,
    gate_entry_minutes: np.ndarray,
    terminal: np.ndarray,
) -> np.ndarray:
    """Index of the area each lorry joined the queue in (-1: went straight in).

    A lorry joins at the back of its terminal's queue, so it stands in the
    area that holds that terminal's last queued lorry at its arrival.
    """
    joined = np.full(arrival_minutes.shape[0], -1, dtype=np.int64)
    waited = ~(gate_entry_minutes <= arrival_minutes)
    if not waited.any():
        return joined
    at = arrival_minutes[waited]
    queue = gate_queue(arrival_minutes, gate_entry_minutes, terminal, len(terminals), at)
    by_area = allocate(plan, terminals, queue)  # (A+1, T, k)
    mine = terminal[waited]
    columns = np.arange(at.shape[0])
    cumulative = np.cumsum(by_area[:, mine, columns], axis=0)  # (A+1, k)
    position = queue[mine, columns] - 0.5
    joined[waited] = np.argmax(cumulative >= position[None, :], axis=0)
    return joined
