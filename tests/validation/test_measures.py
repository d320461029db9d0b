"""The measured quantities against direct recomputation from the records."""

from __future__ import annotations

import numpy as np
import pytest

from straits.pipeline import simulate
from straits.scenario import load_scenario, scenario_from_mapping
from straits.validation import measures
from tests.effects import assert_increases

# A Dover-bound plan built here: a TAP of 300 lorries on 4 km of one lane, then one lane
# of open road, 15 m a lorry (so the TAP's road fills before its capacity does).
TAP_LORRIES, TAP_KM, SPACING_KM = 300, 4.0, 0.015


@pytest.fixture(scope="module")
def plus2():
    data = load_scenario("dover-checks-2018-plus2").model_dump(mode="json")
    data["holding"]["southbound"] = {
        "lorry_spacing_m": SPACING_KM * 1000, "overflow": "open-road", "overflow_lanes": 1,
        "areas": [{"name": "tap", "capacity_lorries": TAP_LORRIES, "length_km": TAP_KM,
                   "lanes": 1, "serves": ["dover"]}]}
    return simulate(scenario_from_mapping(data), 7)


def _outside_gate(result, terminal: str, minutes: np.ndarray) -> np.ndarray:
    """Lorries that arrived for ``terminal`` but have not passed its gate, by brute force."""
    dr = result.records.directions["southbound"]
    mine = dr.terminal == dr.layout.terminals.index(terminal)
    arrived = dr.arrival_minutes[mine][:, None] <= minutes[None, :]
    entry = np.where(np.isnan(dr.gate_entry_minutes[mine]), np.inf, dr.gate_entry_minutes[mine])
    return (arrived & ~(entry[:, None] <= minutes[None, :])).sum(axis=0)


def test_dover_queue_length_is_lorries_times_spacing_in_tap_then_one_lane(plus2):
    minutes = np.arange(0.0, 1440.0, 30.0)
    lorries = _outside_gate(plus2, "dover", minutes)
    assert lorries.max() > TAP_LORRIES  # the queue reaches the open road
    expected_km = (np.minimum(np.minimum(lorries, TAP_LORRIES) * SPACING_KM, TAP_KM)
                   + np.maximum(lorries - TAP_LORRIES, 0) * SPACING_KM)
    km = measures.kent_queue_km_over_time(plus2, minutes, "dover")
    np.testing.assert_allclose(km, expected_km, atol=1e-9)


def test_evening_peak_is_the_longest_dover_queue_between_16_and_22(plus2):
    minutes = np.arange(16 * 60.0, 22 * 60.0 + 1, measures.GRID_MINUTES)
    km = measures.kent_queue_km_over_time(plus2, minutes, "dover")
    miles = measures.evening_peak_queue_miles(plus2)
    assert miles == pytest.approx(km.max() / measures.KM_PER_MILE)
    assert 0 < miles <= measures.kent_queue_peak_miles(plus2) + 1e-9


def test_longer_checks_mean_longer_evening_queues():
    """Common random numbers: the same seeds, one and two more minutes per lorry."""
    miles = [
        [measures.evening_peak_queue_miles(simulate(load_scenario(name), seed))
         for seed in (1, 2, 3)]
        for name in ("dover-checks-2018", "dover-checks-2018-plus1", "dover-checks-2018-plus2")
    ]
    assert_increases(miles[0], miles[1])
    assert_increases(miles[1], miles[2])


@pytest.fixture(scope="module")
def rwcs():
    return simulate(load_scenario("rwcs-2021"), 3)


def test_stack_and_queue_measures_are_consistent(rwcs):
    minutes = np.arange(0.0, rwcs.records.horizon_minutes, 60.0)
    queue = measures.kent_queue_lorries_over_time(rwcs, minutes)
    brute = _outside_gate(rwcs, "dover", minutes) + _outside_gate(rwcs, "folkestone", minutes)
    np.testing.assert_allclose(queue, brute, atol=1e-6)
    held = measures.stack_lorries_over_time(rwcs, minutes)
    assert np.all(held <= queue + 1e-6)
    assert measures.stack_peak_lorries(rwcs) <= measures.kent_queue_peak_lorries(rwcs)
    assert measures.kent_queue_peak_lorries(rwcs) >= queue.max()


def test_waits_are_bounded_by_the_longest(rwcs):
    longest = measures.max_wait_hours(rwcs)
    crossed_max = rwcs.summary["directions"]["southbound"]["delay_minutes"]["max"] / 60
    assert longest >= crossed_max - 1e-3
    assert 0 < measures.stack_mean_wait_hours(rwcs) < longest


def test_busiest_dover_day_counts_both_directions():
    result = simulate(load_scenario("baseline"), 1)
    south = result.records.directions["southbound"]
    north = result.records.directions["northbound"]
    from_dover = south.crossed & (south.terminal == south.layout.terminals.index("dover"))
    to_dover = north.crossed & (north.terminal == north.layout.terminals.index("calais"))
    sailed, landed = south.departure_minutes[from_dover], north.exit_minutes[to_dover]
    days = int(result.records.horizon_minutes // 1440)
    per_day = [((sailed >= d * 1440) & (sailed < (d + 1) * 1440)).sum()
               + ((landed >= d * 1440) & (landed < (d + 1) * 1440)).sum() for d in range(days)]
    busiest = measures.dover_busiest_day_lorries(result)
    assert busiest == max(per_day)
    assert 7_000 < busiest <= 10_000  # F1.3: busiest days up to ~10,000 both directions


def test_busiest_dover_day_counts_the_dunkirk_sailings_too():
    from tests.conftest import scenario_with

    scenario = scenario_with({"route_choice.shares": {"ferry": 0.5, "tunnel": 0.3,
                                                      "ferry-dunkirk": 0.2}}, horizon="2d")
    result = simulate(scenario, 1)
    south = result.records.directions["southbound"]
    north = result.records.directions["northbound"]
    ferries = [south.layout.routes.index(r) for r in ("ferry", "ferry-dunkirk")]
    sailed = south.departure_minutes[south.crossed & np.isin(south.terminal, ferries)]
    landed = north.exit_minutes[north.crossed & np.isin(north.terminal, ferries)]
    assert (south.terminal == ferries[1]).sum() > 0
    first_day = (sailed < 1440).sum() + (landed < 1440).sum()
    second_day = (sailed >= 1440).sum() + (landed >= 1440).sum()  # landings after: last day
    assert measures.dover_busiest_day_lorries(result) == max(first_day, second_day)
