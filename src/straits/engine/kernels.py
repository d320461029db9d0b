"""Compiled recursions for stand-alone FIFO stages.

A FIFO stage fed in arrival order needs no event list: the Kiefer–Wolfowitz
recursion gives each lorry's start as ``max(arrival, earliest free booth)``.
These kernels are the fast path for a stage on its own (theory tests, the
SimPy comparison); the corridor event loop in :mod:`straits.engine.event_loop`
reproduces them exactly where both apply.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from straits.engine.heap import heap_replace_root


@njit(cache=True)
def fifo_multi_server(
    arrival_minutes: np.ndarray, service_minutes: np.ndarray, booths: int
) -> tuple[np.ndarray, np.ndarray]:
    """Start and end times at a FIFO stage with ``booths`` identical servers.

    ``arrival_minutes`` must be non-decreasing. Each lorry takes the booth
    that frees first (a min-heap of free times), so the cost is O(n log c).
    """
    n = arrival_minutes.shape[0]
    start = np.empty(n)
    end = np.empty(n)
    free_at = np.zeros(booths)
    seq = np.arange(booths, dtype=np.int64)
    booth = np.arange(booths, dtype=np.int64)
    for i in range(n):
        earliest = free_at[0]
        begins = arrival_minutes[i] if arrival_minutes[i] > earliest else earliest
        ends = begins + service_minutes[i]
        start[i] = begins
        end[i] = ends
        heap_replace_root(free_at, seq, booth, booths, ends, booths + i, booth[0])
    return start, end


@njit(cache=True)
def load_departures(
    ready_minutes: np.ndarray, departure_minutes: np.ndarray, capacity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Board lorries, in the order given, onto the first departure with room.

    A lorry ready at minute ``m`` boards the first departure at or after ``m``
    that is not yet full (bulk service with capacity ``capacity[j]`` at time
    ``departure_minutes[j]``, sorted). Full departures are skipped with a
    path-compressed "next departure with room" table, so the cost stays near
    O(n log m). Returns each lorry's departure index (-1: none left) and each
    departure's load.
    """
    n = ready_minutes.shape[0]
    m = departure_minutes.shape[0]
    taken = np.full(n, -1, dtype=np.int64)
    load = np.zeros(m, dtype=np.int64)
    next_open = np.arange(m + 1)
    for j in range(m):
        if capacity[j] <= 0:
            next_open[j] = j + 1
    for i in range(n):
        j = np.searchsorted(departure_minutes, ready_minutes[i], side="left")
        root = j
        while next_open[root] != root:
            root = next_open[root]
        while next_open[j] != j:
            nxt = next_open[j]
            next_open[j] = root
            j = nxt
        if root >= m:
            continue
        taken[i] = root
        load[root] += 1
        if load[root] >= capacity[root]:
            next_open[root] = root + 1
    return taken, load
