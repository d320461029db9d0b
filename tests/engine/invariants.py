"""Checks every replication must pass: conservation, causality, capacity, FIFO."""

from __future__ import annotations

import numpy as np

from straits.engine.records import DirectionRecords, Records
from straits.scenario import Scenario


def _fifo(arrive: np.ndarray, leave: np.ndarray) -> bool:
    """Whoever arrives strictly earlier leaves no later (NaN leave = never)."""
    if arrive.size == 0:
        return True
    leave = np.where(np.isnan(leave), np.inf, leave)
    order = np.argsort(arrive, kind="stable")
    a, out = arrive[order], leave[order]
    starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
    group_max = np.maximum.reduceat(out, starts)
    group_min = np.minimum.reduceat(out, starts)
    earlier_max = np.maximum.accumulate(group_max)[:-1]
    return bool(np.all(group_min[1:] >= earlier_max))


def check_direction(dr: DirectionRecords, scenario: Scenario, horizon: float) -> None:
    assert np.all(dr.terminal >= 0), "every lorry chose a terminal"
    assert np.all(np.diff(dr.arrival_minutes) >= 0)
    assert np.all((dr.arrival_minutes >= 0) & (dr.arrival_minutes <= horizon))
    crossed = dr.crossed
    assert not np.any(crossed & dr.turned_back), "a lorry sent back never crosses"
    boarded = np.bincount(dr.departure_index[crossed], minlength=dr.departure_load.shape[0])
    assert np.array_equal(boarded, dr.departure_load), "every boarding is on one departure"
    assert np.array_equal(dr.departure_minutes[crossed],
                          dr.departure_time_minutes[dr.departure_index[crossed]])
    assert np.all(dr.terminal[crossed] == dr.departure_terminal[dr.departure_index[crossed]])
    assert np.all(np.isnan(dr.departure_minutes[~crossed])), "no departure time unless boarded"
    assert np.all(dr.departure_load <= dr.departure_capacity), "no departure over capacity"

    entry = dr.gate_entry_minutes
    admitted = ~np.isnan(entry)
    assert np.all(entry[admitted] >= dr.arrival_minutes[admitted])
    for t, terminal in enumerate(dr.layout.terminals):
        mine = dr.terminal == t
        assert _fifo(dr.arrival_minutes[mine], entry[mine]), f"gate FIFO at {terminal}"
        previous = entry[mine]
        for k, stage in enumerate(dr.layout.stage_names[t]):
            start = dr.stage_start_minutes[mine, k]
            end = dr.stage_end_minutes[mine, k]
            reached = ~np.isnan(start)
            assert np.all(start[reached] >= previous[reached]), f"{terminal}.{stage} causal"
            done = ~np.isnan(end)
            assert np.all(end[done] >= start[done])
            assert np.all(reached[done]), "no lorry ends a stage it never started"
            assert _fifo(np.where(np.isnan(previous), np.inf, previous)[reached],
                         start[reached]), f"FIFO at {terminal}.{stage}"
            previous = end
        sent_back = dr.turned_back[mine]
        if sent_back.any():
            ends = dr.stage_end_minutes[mine][sent_back]
            done = (~np.isnan(ends)).sum(axis=1)
            assert np.all(done >= 1), "sent back after finishing a stage"
            assert np.all(np.isnan(dr.departure_minutes[mine][sent_back]))
        left = dr.departure_minutes[mine]
        boarded = ~np.isnan(left)
        assert np.all(left[boarded] >= previous[boarded]), f"{terminal}: boards once ready"
        assert np.all(left[boarded] <= horizon)
        ready = ~np.isnan(previous) & ~sent_back
        assert _fifo(previous[ready], left[ready]), f"{terminal}: lanes board in FIFO order"
        buffer = scenario.terminals[terminal].buffer_lorries
        entries = np.sort(entry[mine][admitted[mine]])
        if entries.size:
            gone = dr.left_terminal_minutes[mine]
            gone = np.sort(gone[~np.isnan(gone)])
            inside = (np.searchsorted(entries, entries, side="right")
                      - np.searchsorted(gone, entries, side="right"))
            assert inside.max() <= buffer, f"{terminal} holds at most its buffer"


def check_records(records: Records, scenario: Scenario) -> None:
    for dr in records.directions.values():
        check_direction(dr, scenario, records.horizon_minutes)
