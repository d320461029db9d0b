"""Facilities outside the terminals: open-hours FIFO booths, and zero share changes nothing."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.engine.facilities import open_hours_fifo
from straits.engine.kernels import fifo_multi_server
from tests.conftest import scenario_with

FACILITY = {"name": "checks", "direction": "southbound", "booths": 40,
            "service_time": {"distribution": "lognormal", "mean": "10min", "cv": 0.5},
            "opening_hours": [6, 22], "capacity_lorries": 500}


def test_open_all_day_is_the_plain_fifo_recursion():
    rng = np.random.default_rng(1)
    arrivals = np.sort(rng.uniform(0, 5000, 3000))
    service = rng.exponential(3.0, 3000)
    start, end = open_hours_fifo(arrivals, service, 4, 0.0, 1440.0, 0.0)
    expected_start, expected_end = fifo_multi_server(arrivals, service, 4)
    np.testing.assert_array_equal(start, expected_start)
    np.testing.assert_array_equal(end, expected_end)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 23), st.integers(1, 24), st.integers(1, 5), st.integers(0, 10**6))
def test_no_service_starts_while_closed_and_order_is_kept(opens, length, booths, seed):
    closes = min(opens + length, 24)
    rng = np.random.default_rng(seed)
    arrivals = np.sort(rng.uniform(0, 4 * 1440, 400))
    service = rng.exponential(20.0, 400)
    start, end = open_hours_fifo(arrivals, service, booths, opens * 60.0, closes * 60.0, 0.0)
    clock = start % 1440.0
    assert np.all((clock >= opens * 60.0 - 1e-9) & (clock < closes * 60.0 + 1e-9))
    assert np.all(start >= arrivals) and np.all(np.diff(start) >= 0)  # FIFO
    np.testing.assert_allclose(end - start, service)


def _records_equal(a, b):
    for direction in a.directions:
        x, y = a.directions[direction], b.directions[direction]
        for field in ("arrival_minutes", "terminal", "gate_entry_minutes", "stage_start_minutes",
                      "stage_end_minutes", "departure_index", "departure_load"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


def test_a_facility_with_zero_share_changes_nothing():
    plain = scenario_with(horizon="2d")
    zero = scenario_with(horizon="2d", facilities=[{**FACILITY, "share": 0.0}])
    _records_equal(run_replication(plain, 5), run_replication(zero, 5))


def test_lorries_through_a_facility_reach_the_corridor_after_it():
    scenario = scenario_with(horizon="2d", facilities=[{**FACILITY, "share": 0.4}])
    dr = run_replication(scenario, 5).directions["southbound"]
    passed = dr.facilities.facility == 0
    assert 0.35 < passed.mean() < 0.45
    entered = ~np.isnan(dr.gate_entry_minutes) & passed
    assert np.all(dr.gate_entry_minutes[entered] >= dr.facilities.end_minutes[entered])
    # everyone is accounted for: crossed, turned back or still in the corridor
    assert dr.crossed.sum() + dr.turned_back.sum() + dr.in_system_at_end.sum() == dr.lorries
