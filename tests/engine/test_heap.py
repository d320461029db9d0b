"""The engine's one heap: entries leave in (time, push order), whatever the pushes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.engine.heap import heap_pop, heap_push, heap_replace_root

TIMES = st.lists(st.integers(0, 20).map(float), min_size=1, max_size=60)


@settings(deadline=None)  # the first call compiles
@given(TIMES)
def test_pops_come_out_by_time_then_push_order(times: list[float]) -> None:
    size = len(times)
    minutes, seq, item = np.empty(size), np.empty(size, np.int64), np.empty(size, np.int64)
    heap_size = 0
    for k, time in enumerate(times):
        heap_size = heap_push(minutes, seq, item, heap_size, time, k, 100 + k)
    popped = []
    while heap_size > 0:
        popped.append((minutes[0], seq[0], item[0]))
        heap_size = heap_pop(minutes, seq, item, heap_size)
    expected = sorted((time, k, 100 + k) for k, time in enumerate(times))
    assert popped == expected


@settings(deadline=None)
@given(TIMES, TIMES)
def test_replace_root_is_a_pop_then_a_push(first: list[float], then: list[float]) -> None:
    size = len(first)
    heaps = [(np.empty(size), np.empty(size, np.int64), np.empty(size, np.int64))
             for _ in range(2)]
    for heap in heaps:
        for k, time in enumerate(first):
            heap_push(*heap, k, time, k, k)
    for k, time in enumerate(then, start=size):
        heap_replace_root(*heaps[0], size, time, k, k)
        heap_push(*heaps[1], heap_pop(*heaps[1], size), time, k, k)
        assert (heaps[0][0][0], heaps[0][1][0]) == (heaps[1][0][0], heaps[1][1][0])
