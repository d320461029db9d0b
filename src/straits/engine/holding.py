"""Holding plans: where the queue outside each terminal physically waits.

A terminal's own queue is FIFO whatever road it stands on, so areas released
in ``lanes`` do not change who leaves when; they say *where* lorries wait.
An area released ``fifo`` (or ``alternate``) is one queue for every terminal it serves (2015
Stack), kept by the event loop. Areas with a ``decision`` are usable only while
in force (called, set up, not yet stood down): the event loop's controllers
log every decision, and the log says which areas existed when. The in-force
areas fill in plan order; an area serving several terminals is shared in
proportion to their remaining queues; what no area takes overflows onto the
roads. Queue length in km is lorries × spacing / lanes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from straits.scenario.schema import HoldingPlan

STOOD_DOWN, CALLED, IN_FORCE = 0, 1, 2
STATE_NAMES = ("stood down", "called", "in force")
REASON_QUEUE, REASON_SCHEDULED, REASON_SET_UP, REASON_QUIET, REASON_FORECAST = 0, 1, 2, 3, 4
REASON_NAMES = ("queue threshold", "scheduled", "set-up done", "queue quiet", "queue forecast")


class DecisionLog(NamedTuple):
    """Every decision of a direction's controllers, in time order."""

    minutes: np.ndarray  # when it was decided
    area: np.ndarray  # int64, index into the plan's areas
    state: np.ndarray  # int64: STOOD_DOWN, CALLED or IN_FORCE
    reason: np.ndarray  # int64: REASON_*

    @classmethod
    def empty(cls) -> DecisionLog:
        return cls(np.zeros(0), *(np.zeros(0, dtype=np.int64) for _ in range(3)))


def state_at(log: DecisionLog, area: int, at_minutes: np.ndarray) -> np.ndarray:
    """An area's controller state at each time, replayed from the log
    (STOOD_DOWN before its first decision)."""
    mine = log.area == area
    times, states = log.minutes[mine], log.state[mine]
    latest = np.searchsorted(times, at_minutes, side="right") - 1
    if times.size == 0:
        return np.full(at_minutes.shape[0], STOOD_DOWN, dtype=np.int64)
    return np.where(latest >= 0, states[np.maximum(latest, 0)], STOOD_DOWN)


def in_force(plan: HoldingPlan, log: DecisionLog, at_minutes: np.ndarray) -> np.ndarray:
    """Whether each area is usable at each time, shape (A, m), replayed from the log.

    An area without a decision is always in force; one with a decision is in
    force from its IN_FORCE entry (set-up done) up to, not including, its
    stand-down.
    """
    usable = np.ones((len(plan.areas), at_minutes.shape[0]), dtype=bool)
    for a, area in enumerate(plan.areas):
        if area.decision is not None:
            usable[a] = state_at(log, a, at_minutes) == IN_FORCE
    return usable


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
    a lorry never admitted has an entry of +inf. ``arrival_minutes`` is when
    each lorry joined the queue (after any facility), in any order.
    """
    queue = np.zeros((n_terminals, at_minutes.shape[0]), dtype=np.int64)
    entry = np.where(np.isnan(gate_entry_minutes), np.inf, gate_entry_minutes)
    for index in range(n_terminals):
        mine = terminal == index
        arrived = np.searchsorted(np.sort(arrival_minutes[mine]), at_minutes, side="right")
        entered = np.searchsorted(np.sort(entry[mine]), at_minutes, side="right")
        queue[index] = arrived - entered
    return queue


def allocate(plan: HoldingPlan, terminals: list[str], queue: np.ndarray,
             usable: np.ndarray | None = None, shared: np.ndarray | None = None) -> np.ndarray:
    """Lorries of each queue in each area, shape (areas + 1, rows, m).

    ``queue`` (T, m) is each terminal's own queue; ``shared`` (m,), when given,
    is the ``fifo`` queue and adds a last row that only ``fifo`` areas take.
    ``usable`` (A, m) masks areas not in force. The last area is the overflow.
    Fractions arise where an area is shared and full; totals per row always
    equal its queue.
    """
    rows = queue.astype(float)
    if shared is not None:
        rows = np.vstack([rows, shared[None, :].astype(float)])
    remaining = rows.copy()
    out = np.zeros((len(plan.areas) + 1, *rows.shape))
    for a, area in enumerate(plan.areas):
        served = [name in area.serves for name in terminals]
        if shared is not None:
            served.append(area.shared)
        wanting = remaining * np.array(served)[:, None]
        if usable is not None:
            wanting = wanting * usable[a][None, :]
        total = wanting.sum(axis=0)
        taken = np.minimum(total, area.capacity_lorries)
        share = np.divide(taken, total, out=np.zeros_like(total), where=total > 0)
        out[a] = wanting * share
        remaining -= out[a]
    out[-1] = remaining
    return out


def held_queue(held_minutes: np.ndarray, released_minutes: np.ndarray, terminal: np.ndarray,
               n_terminals: int, at_minutes: np.ndarray) -> np.ndarray:
    """Lorries of each terminal in the ``fifo`` queue at each time, shape (T, m)."""
    out = np.zeros((n_terminals, at_minutes.shape[0]), dtype=np.int64)
    held = ~np.isnan(held_minutes)
    released = np.where(np.isnan(released_minutes), np.inf, released_minutes)
    for index in range(n_terminals):
        mine = held & (terminal == index)
        out[index] = (np.searchsorted(np.sort(held_minutes[mine]), at_minutes, side="right")
                      - np.searchsorted(np.sort(released[mine]), at_minutes, side="right"))
    return out


def queue_by_area(plan: HoldingPlan, terminals: list[str], arrival_minutes: np.ndarray,
                  gate_entry_minutes: np.ndarray, terminal: np.ndarray,
                  held_minutes: np.ndarray, released_minutes: np.ndarray, log: DecisionLog,
                  at_minutes: np.ndarray) -> np.ndarray:
    """Lorries outside the gates by (area + overflow, queue row, time).

    Rows are the terminals' own queues, then (when the plan has a ``fifo``
    area) the shared queue. Only areas in force at a time take lorries.
    """
    n_terminals = len(terminals)
    queue = gate_queue(arrival_minutes, gate_entry_minutes, terminal, n_terminals, at_minutes)
    shared = None
    if any(a.shared for a in plan.areas):
        held = held_queue(held_minutes, released_minutes, terminal, n_terminals, at_minutes)
        queue, shared = queue - held, held.sum(axis=0)
    usable = in_force(plan, log, at_minutes) if plan.has_decisions else None
    return allocate(plan, terminals, queue, usable, shared)


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


def area_joined(plan: HoldingPlan, terminals: list[str], arrival_minutes: np.ndarray,
                gate_entry_minutes: np.ndarray, terminal: np.ndarray,
                held_minutes: np.ndarray, released_minutes: np.ndarray,
                log: DecisionLog) -> np.ndarray:
    """Index of the area each lorry joined the queue in (-1: went straight in).

    A lorry joins at the back of its queue (its terminal's, or the shared
    ``fifo`` one if it was held there), so it stands in the area that holds
    that queue's last lorry at its arrival.
    """
    joined = np.full(arrival_minutes.shape[0], -1, dtype=np.int64)
    waited = ~(gate_entry_minutes <= arrival_minutes)
    if not waited.any():
        return joined
    at = arrival_minutes[waited]
    by_area = queue_by_area(plan, terminals, arrival_minutes, gate_entry_minutes, terminal,
                            held_minutes, released_minutes, log, at)  # (A+1, R, k)
    row = np.where(held_minutes[waited] == at, len(terminals), terminal[waited])
    columns = np.arange(at.shape[0])
    mine = by_area[:, row, columns]  # (A+1, k)
    cumulative = np.cumsum(mine, axis=0)
    position = mine.sum(axis=0) - 0.5
    joined[waited] = np.argmax(cumulative >= position[None, :], axis=0)
    return joined
