"""The holding controllers: called on thresholds or schedules, set up, held, stood down."""

import numpy as np
import pytest

from straits.engine.decisions import (
    decide,
    forecast_outside,
    gate_rules,
    holding_input,
    initial_states,
)
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


def plan_with(decision: dict | None, **area) -> HoldingPlan:
    return HoldingPlan.model_validate({
        "lorry_spacing_m": 20, "overflow": "roads", "decision_interval": "15min",
        "areas": [{"name": "stack", "capacity_lorries": 100, "length_km": 2, "serves": ["x"],
                   **area, **({"decision": decision} if decision else {})}],
    })


def run_controller(plan: HoldingPlan, queue_at: dict[float, int], until: float,
                   forecast_at: dict[float, float] | None = None):
    """Tick the controller every interval with the queue (and its forecast) given as
    {from minute: lorries}."""
    h = holding_input(plan, ["x"], lambda m: m.total_seconds() / 60.0, np.zeros(1))
    state = initial_states(h.has_decision)
    since = np.zeros(1)
    quiet = np.full(1, -1.0)
    ptr = h.call_offset[:-1].copy()
    log = [np.zeros(64), np.zeros(64, np.int64), np.zeros(64, np.int64), np.zeros(64, np.int64)]
    size = 0
    states = []
    for now in np.arange(0.0, until, h.decision_interval_minutes):
        level = [v for m, v in sorted(queue_at.items()) if m <= now][-1]
        foreseen = [v for m, v in sorted((forecast_at or {0: 0.0}).items()) if m <= now][-1]
        size = decide(now, np.array([level]), np.array([float(foreseen)]), h.serves,
                      h.has_decision, h.call_at_queue_lorries, h.call_at_forecast_lorries,
                      h.call_minutes, h.call_offset, h.set_up_minutes,
                      h.minimum_in_force_minutes, h.stand_down_below_lorries,
                      h.stand_down_after_minutes, state, since, quiet, ptr, *log, size)
        states.append((now, int(state[0])))
    return [tuple(x[k] for x in log) for k in range(size)], states


def test_called_on_threshold_in_force_after_set_up_and_stood_down_after_quiet_spell():
    plan = plan_with({"call_at_queue_lorries": 50, "set_up": "2h", "minimum_in_force": "6h",
                      "stand_down_below_lorries": 10, "stand_down_after": "3h"})
    log, _ = run_controller(plan, {0: 0, 60: 60, 300: 0}, until=24 * 60)
    assert log == [
        (60.0, 0, CALLED, REASON_QUEUE),
        (180.0, 0, IN_FORCE, REASON_SET_UP),
        # in force at 180; quiet from 300; 3 h quiet at 480, but 6 h in force only at 540
        (540.0, 0, STOOD_DOWN, REASON_QUIET),
    ]


def test_a_busy_spell_resets_the_quiet_clock():
    plan = plan_with({"call_at_queue_lorries": 50, "stand_down_below_lorries": 10,
                      "stand_down_after": "2h"})
    log, _ = run_controller(plan, {0: 60, 60: 0, 150: 20, 165: 0}, until=12 * 60)
    # quiet 60-150, busy at 150, quiet again from 165: stood down at 165 + 120
    assert log[-1] == (285.0, 0, STOOD_DOWN, REASON_QUIET)


def test_scheduled_call_and_never_reached_threshold():
    plan = plan_with({"call_at": ["+3h"], "set_up": "30min"})
    log, _ = run_controller(plan, {0: 0}, until=5 * 60)
    assert log[:2] == [(180.0, 0, CALLED, REASON_SCHEDULED), (210.0, 0, IN_FORCE, REASON_SET_UP)]
    plan = plan_with({"call_at_queue_lorries": 10_000})
    log, states = run_controller(plan, {0: 500}, until=48 * 60)
    assert log == [] and {s for _, s in states} == {STOOD_DOWN}


def test_called_on_a_forecast_before_the_queue_builds():
    plan = plan_with({"call_at_queue_lorries": 500, "call_at_forecast_lorries": 300,
                      "set_up": "2h"})
    log, _ = run_controller(plan, {0: 0, 240: 500}, until=6 * 60, forecast_at={0: 0, 60: 400})
    assert log[:2] == [(60.0, 0, CALLED, REASON_FORECAST), (180.0, 0, IN_FORCE, REASON_SET_UP)]


def test_forecast_counts_arrivals_less_the_timetable_and_the_terminal():
    forecast = np.zeros(2)
    # terminal 0: 100 outside, 50 inside, 2/min for 60 min, 2 departures of 40 in the hour
    # (the one at 61 min is beyond it), holds 30; terminal 1: more capacity than traffic
    forecast_outside(0.0, 60.0, np.array([100, 0]), np.array([50, 10]),
                     np.array([30, 30], np.int64), np.array([2.0, 1.0]),
                     np.array([10.0, 40.0, 61.0, 5.0]), np.array([40, 40, 40, 500], np.int64),
                     np.array([0, 3], np.int64), np.array([0, 3, 4], np.int64), forecast)
    assert list(forecast) == [100 + 50 + 120 - 80 - 30, 0.0]


def test_area_without_decision_is_in_force_from_the_start():
    log, states = run_controller(plan_with(None), {0: 0}, until=60)
    assert log == [] and {s for _, s in states} == {IN_FORCE}


@pytest.mark.parametrize(("fifo_state", "open_"), [(IN_FORCE, True), (CALLED, False)])
def test_gate_rules_count_lanes_ahead_of_the_shared_queue(fifo_state, open_):
    # tap (lanes, x only, metered) then stack (fifo, x and y): x keeps 250 of its own
    serves = np.array([[True, False], [True, True]])
    near = np.zeros(2, np.int64)
    gap = np.zeros(2)
    state = np.array([IN_FORCE, fifo_state])
    shared_open = gate_rules(state, serves, np.array([False, True]),
                             np.array([250, 2100], np.int64), np.array([0.5, 0.0]), near, gap)
    assert shared_open is open_
    assert list(near) == [250, 0]
    assert list(gap) == [0.5, 0.0]
