"""Facilities outside the terminals: open-hours FIFO booths, and zero share changes nothing."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.engine.facilities import open_hours_fifo
from straits.engine.kernels import fifo_multi_server
from straits.scenario import ScenarioError
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


SOUTHBOUND = ["dover", "dover-dunkirk", "folkestone"]


def test_a_route_limited_facility_with_zero_share_changes_nothing():
    plain = scenario_with(horizon="2d")
    zero = scenario_with(horizon="2d", facilities=[{**FACILITY, "share": 0.0,
                                                    "serves": ["dover"]}])
    _records_equal(run_replication(plain, 5), run_replication(zero, 5))


def test_a_facility_serving_every_terminal_is_the_unlimited_one():
    every = scenario_with(horizon="2d", facilities=[{**FACILITY, "share": 0.3,
                                                     "serves": SOUTHBOUND}])
    unlimited = scenario_with(horizon="2d", facilities=[{**FACILITY, "share": 0.3}])
    a, b = run_replication(every, 5), run_replication(unlimited, 5)
    _records_equal(a, b)  # the shares rule: committing a lorry to its terminal is a no-op
    np.testing.assert_array_equal(a.directions["southbound"].facilities.facility,
                                  b.directions["southbound"].facilities.facility)


@settings(max_examples=6, deadline=None)
@given(share=st.floats(0.1, 1.0), terminal=st.sampled_from(["dover", "folkestone"]),
       rule=st.sampled_from(["shares", "shortest_expected_wait"]), seed=st.integers(0, 100))
def test_only_the_served_terminals_lorries_pass_and_keep_their_terminal(share, terminal, rule,
                                                                       seed):
    facility = {**FACILITY, "share": share, "serves": [terminal],
                "opening_hours": [0, 24]}
    scenario = scenario_with({"route_choice.rule": rule, "route_choice.captive_share": 0.0},
                             horizon="2d", facilities=[facility])
    records = run_replication(scenario, seed)
    dr = records.directions["southbound"]
    # every lorry accounted for: crossed, turned back, in the corridor, or still at the
    # facility at the horizon (no terminal yet)
    assert dr.crossed.sum() + dr.turned_back.sum() + dr.in_system_at_end.sum() == dr.lorries
    mine = dr.layout.terminals.index(terminal)
    passed = dr.facilities.facility == 0
    still_there = dr.terminal < 0
    assert np.all(dr.facilities.end_minutes[still_there] > records.horizon_minutes)
    assert np.all(dr.terminal[passed & ~still_there] == mine)  # on to its terminal
    planned = planned_terminals_of(scenario, records)
    eligible = planned == mine
    assert not passed[~eligible].any()
    # the share of the eligible lorries, within the binomial error
    error = 4 * np.sqrt(share * (1 - share) / eligible.sum()) + 1e-9
    assert abs(passed[eligible].mean() - share) <= error


def planned_terminals_of(scenario, records):
    """Each southbound lorry's terminal by the route shares, rebuilt from its inputs."""
    from straits.engine.corridor import build_direction
    from straits.engine.replication import planned_terminals

    root = np.random.SeedSequence(records.seed)
    _, south, _ = root.spawn(3)
    inputs, _ = build_direction(scenario, "southbound", records.windows, south)
    return planned_terminals(inputs)


@pytest.mark.parametrize(("facilities", "message"), [
    ([{**FACILITY, "share": 0.5, "serves": ["calais"]}],
     r"facilities\[0\]\.serves: 'calais' is not a southbound terminal"),
    ([{**FACILITY, "share": 0.7, "serves": ["dover"]},
      {**FACILITY, "name": "other", "share": 0.5}],
     r"shares for 'dover' add up to 1\.2"),
])
def test_bad_facility_terminals_are_refused(facilities, message):
    with pytest.raises(ScenarioError, match=message):
        scenario_with(facilities=facilities)


def test_facilities_for_different_terminals_may_each_take_everyone():
    scenario_with(facilities=[{**FACILITY, "share": 1.0, "serves": ["dover"]},
                              {**FACILITY, "name": "tunnel", "share": 1.0,
                               "serves": ["folkestone"]}])
