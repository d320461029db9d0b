"""Holding decisions: the police and highways controllers, compiled for the event loop.

Each area with a ``decision`` is a small state machine read at every decision
time (a fixed interval): off → called (on a queue threshold, a forecast of the
queue, or a scheduled time) → in force once its set-up time has passed → stood down after its
minimum time in force, once the queue has stayed below a level for a while.
Every change is logged with its time and reason. What the areas in force
imply for the gates — how many lorries a terminal's own queue may hold before
newcomers join the shared ``fifo`` queue, and the metering gap between gate
entries — is recomputed after each decision time.

Areas without a decision are in force from the start, so a plan whose
thresholds are never reached behaves exactly like one without those areas.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from straits.engine.holding import (
    CALLED,
    IN_FORCE,
    REASON_FORECAST,
    REASON_QUEUE,
    REASON_QUIET,
    REASON_SCHEDULED,
    REASON_SET_UP,
    STOOD_DOWN,
)
from straits.scenario.schema import HoldingPlan

NEVER = np.iinfo(np.int64).max


class HoldingInput(NamedTuple):
    """A direction's holding plan as arrays; areas indexed as in the plan."""

    serves: np.ndarray  # (A, T) bool
    fifo: np.ndarray  # (A,) bool: part of the one shared queue (``fifo`` or ``alternate``)
    capacity_lorries: np.ndarray  # (A,) int64
    metering_gap_minutes: np.ndarray  # (A,) minutes between gate entries; 0: no metering
    has_decision: np.ndarray  # (A,) bool
    call_at_queue_lorries: np.ndarray  # (A,) int64; NEVER: no threshold
    call_at_forecast_lorries: np.ndarray  # (A,) int64; NEVER: no forecast threshold
    call_minutes: np.ndarray  # scheduled calls, flattened, sorted within each area
    call_offset: np.ndarray  # (A+1,) int64
    set_up_minutes: np.ndarray  # (A,)
    minimum_in_force_minutes: np.ndarray  # (A,)
    stand_down_below_lorries: np.ndarray  # (A,) int64
    stand_down_after_minutes: np.ndarray  # (A,)
    decision_interval_minutes: float  # inf: no decisions to take
    forecast_minutes: float  # how far ahead the queue forecast looks
    expected_lorries_per_minute: np.ndarray  # (T,) an ordinary day's mean arrivals
    # ``alternate`` release: minutes between releases from the shared area per terminal;
    # empty: the shared queue (if any) releases in arrival order
    release_gap_minutes: np.ndarray = np.zeros(0)


def holding_input(plan: HoldingPlan, terminals: list[str], to_minutes,
                  expected_lorries_per_minute: np.ndarray) -> HoldingInput:
    """Arrays for the loop; ``to_minutes`` turns a scheduled call into minutes."""
    areas = plan.areas
    calls = [sorted(to_minutes(m) for m in a.decision.call_at) if a.decision else []
             for a in areas]

    def per_area(get, default, dtype=float):
        return np.array([get(a.decision) if a.decision else default for a in areas],
                        dtype=dtype).reshape(len(areas))

    return HoldingInput(
        serves=np.array([[t in a.serves for t in terminals] for a in areas],
                        dtype=np.bool_).reshape(len(areas), len(terminals)),
        fifo=np.array([a.shared for a in areas], dtype=np.bool_),
        capacity_lorries=np.array([a.capacity_lorries for a in areas], dtype=np.int64),
        metering_gap_minutes=np.array(
            [60.0 / a.metering_lorries_per_hour if a.metering_lorries_per_hour else 0.0
             for a in areas], dtype=float),
        has_decision=np.array([a.decision is not None for a in areas], dtype=np.bool_),
        call_at_queue_lorries=per_area(
            lambda d: NEVER if d.call_at_queue_lorries is None else d.call_at_queue_lorries,
            NEVER, np.int64),
        call_at_forecast_lorries=per_area(
            lambda d: NEVER if d.call_at_forecast_lorries is None else d.call_at_forecast_lorries,
            NEVER, np.int64),
        call_minutes=np.array([m for c in calls for m in c], dtype=float),
        call_offset=np.concatenate([[0], np.cumsum([len(c) for c in calls])]).astype(np.int64),
        set_up_minutes=per_area(lambda d: d.set_up, 0.0),
        minimum_in_force_minutes=per_area(lambda d: d.minimum_in_force, 0.0),
        stand_down_below_lorries=per_area(lambda d: d.stand_down_below_lorries, 0, np.int64),
        stand_down_after_minutes=per_area(lambda d: d.stand_down_after, 0.0),
        decision_interval_minutes=plan.decision_interval if plan.has_decisions else np.inf,
        forecast_minutes=plan.forecast_horizon,
        expected_lorries_per_minute=np.asarray(expected_lorries_per_minute, dtype=float),
        release_gap_minutes=release_gaps(plan, terminals),
    )


def release_gaps(plan: HoldingPlan, terminals: list[str]) -> np.ndarray:
    """Minutes between releases per terminal from an ``alternate`` area (the schema
    makes every such area give the same rates); empty without one."""
    for area in plan.areas:
        if area.release == "alternate" and area.release_lorries_per_hour:
            rates = area.release_lorries_per_hour
            return np.array([60.0 / rates[t] if t in rates else 0.0 for t in terminals])
    return np.zeros(0)


@njit(cache=True)
def initial_states(has_decision):
    """Areas without a decision are in force from the start; the rest are off."""
    state = np.full(has_decision.shape[0], IN_FORCE, dtype=np.int64)
    for a in range(has_decision.shape[0]):
        if has_decision[a]:
            state[a] = STOOD_DOWN
    return state


@njit(cache=True)
def _log(now, a, new_state, reason, log_minutes, log_area, log_state, log_reason, size):
    log_minutes[size] = now
    log_area[size] = a
    log_state[size] = new_state
    log_reason[size] = reason
    return size + 1


@njit(cache=True)
def decide(now, outside, forecast, serves, has_decision, call_at_queue_lorries,
           call_at_forecast_lorries, call_minutes, call_offset, set_up_minutes,
           minimum_in_force_minutes, stand_down_below_lorries, stand_down_after_minutes, state,
           since, quiet_since, call_ptr, log_minutes, log_area, log_state, log_reason, log_size):
    """One decision time: every controller reads the queue it watches and acts.

    ``outside[t]`` is the lorries outside terminal ``t``'s gate (its own queue
    and its lorries in the shared queue); ``forecast[t]`` is that queue as
    forecast for the end of the plan's forecast horizon (:func:`forecast_outside`).
    ``since[a]`` is when the area was called (while CALLED) or put in force
    (while IN_FORCE). Returns the new log size.
    """
    for a in range(state.shape[0]):
        if not has_decision[a]:
            continue
        queue = 0
        expected = 0.0
        for terminal in range(serves.shape[1]):
            if serves[a, terminal]:
                queue += outside[terminal]
                expected += forecast[terminal]
        scheduled = False
        while call_ptr[a] < call_offset[a + 1] and call_minutes[call_ptr[a]] <= now:
            call_ptr[a] += 1
            scheduled = True
        foreseen = expected >= call_at_forecast_lorries[a]
        if state[a] == STOOD_DOWN and (scheduled or queue >= call_at_queue_lorries[a]
                                       or foreseen):
            state[a] = CALLED
            since[a] = now
            reason = REASON_SCHEDULED
            if not scheduled:
                reason = REASON_QUEUE if queue >= call_at_queue_lorries[a] else REASON_FORECAST
            log_size = _log(now, a, CALLED, reason, log_minutes, log_area, log_state,
                            log_reason, log_size)
        if state[a] == CALLED and now >= since[a] + set_up_minutes[a]:
            state[a] = IN_FORCE
            since[a] = now
            quiet_since[a] = -1.0
            log_size = _log(now, a, IN_FORCE, REASON_SET_UP, log_minutes, log_area, log_state,
                            log_reason, log_size)
        elif state[a] == IN_FORCE:
            if queue < stand_down_below_lorries[a]:
                if quiet_since[a] < 0:
                    quiet_since[a] = now
            else:
                quiet_since[a] = -1.0
            if (quiet_since[a] >= 0 and now - quiet_since[a] >= stand_down_after_minutes[a]
                    and now - since[a] >= minimum_in_force_minutes[a]):
                state[a] = STOOD_DOWN
                log_size = _log(now, a, STOOD_DOWN, REASON_QUIET, log_minutes, log_area,
                                log_state, log_reason, log_size)
    return log_size


@njit(cache=True)
def forecast_outside(now, horizon_minutes, outside, inside, buffer_lorries,
                     expected_lorries_per_minute, departure_minutes, departure_capacity,
                     dep_ptr, departure_offset, forecast):
    """The queue outside each terminal ``horizon_minutes`` ahead, as a controller
    would reckon it: everyone there now plus an ordinary day's arrivals, less the
    departures the timetable (as disrupted) offers, less what the terminal holds."""
    for terminal in range(outside.shape[0]):
        capacity = 0
        k = dep_ptr[terminal]
        while (k < departure_offset[terminal + 1]
               and departure_minutes[k] <= now + horizon_minutes):
            capacity += departure_capacity[k]
            k += 1
        total = (outside[terminal] + inside[terminal]
                 + expected_lorries_per_minute[terminal] * horizon_minutes - capacity)
        forecast[terminal] = max(total - buffer_lorries[terminal], 0.0)


@njit(cache=True)
def gate_rules(state, serves, fifo, capacity_lorries, metering_gap_minutes, near_lorries,
               metering_gap):
    """What the areas in force mean at the gates; returns whether the shared queue is open.

    ``near_lorries[t]``: lorries terminal ``t``'s own queue holds (the in-force
    ``lanes`` areas ahead of the first ``fifo`` area) before newcomers join the
    shared queue. ``metering_gap[t]``: the longest metering gap in force.
    """
    n_terminals = serves.shape[1]
    near_lorries[:] = 0
    metering_gap[:] = 0.0
    shared_open = False
    ahead = True
    for a in range(state.shape[0]):
        if fifo[a]:
            ahead = False
        if state[a] != IN_FORCE:
            continue
        if fifo[a]:
            shared_open = True
        for t in range(n_terminals):
            if not serves[a, t]:
                continue
            if ahead and not fifo[a]:
                near_lorries[t] += capacity_lorries[a]
            metering_gap[t] = max(metering_gap[t], metering_gap_minutes[a])
    return shared_open


NO_HOLDING = HoldingInput(
    serves=np.zeros((0, 0), dtype=np.bool_),
    fifo=np.zeros(0, dtype=np.bool_),
    capacity_lorries=np.zeros(0, dtype=np.int64),
    metering_gap_minutes=np.zeros(0),
    has_decision=np.zeros(0, dtype=np.bool_),
    call_at_queue_lorries=np.zeros(0, dtype=np.int64),
    call_at_forecast_lorries=np.zeros(0, dtype=np.int64),
    call_minutes=np.zeros(0),
    call_offset=np.zeros(1, dtype=np.int64),
    set_up_minutes=np.zeros(0),
    minimum_in_force_minutes=np.zeros(0),
    stand_down_below_lorries=np.zeros(0, dtype=np.int64),
    stand_down_after_minutes=np.zeros(0),
    decision_interval_minutes=np.inf,
    forecast_minutes=0.0,
    expected_lorries_per_minute=np.zeros(0),
)
"""A direction whose holding plan changes nothing in the loop."""
