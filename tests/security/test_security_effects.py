"""Direction of effects over small ensembles (common random numbers across levels)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.pipeline import simulate
from straits.security import plan
from straits.security.levers import OUT
from tests.effects import assert_increases, assert_no_increase
from tests.security.security_helpers import make_scenario, merge, summer_levers

SEEDS = (1, 2, 3, 4)


def _per_seed(security: dict, key, horizon: str = "2d", disruptions=None) -> np.ndarray:
    """``key`` of each seed's summary (the same seeds for every arm)."""
    scenario = make_scenario(security, horizon=horizon, disruptions=disruptions)
    return np.array([key(simulate(scenario, s).summary) for s in SEEDS], dtype=float)


def _entries(summary: dict) -> float:
    return summary["security"]["people_reaching_uk"]["total"]


def test_more_police_never_raises_successful_entries() -> None:
    levels = [0, 150, 600]
    entries = [
        _per_seed(merge(summer_levers(), {"sites": {t: {"police": p}
                                                    for t in ("lorries", "port", "tunnel")}}),
                  _entries)
        for p in levels
    ]
    assert_no_increase(entries[0], entries[1])
    assert_no_increase(entries[1], entries[2])
    assert_increases(entries[2], entries[0])


def test_more_fence_never_raises_successful_entries() -> None:
    levels = [0.0, 15.0, 30.0]
    entries = [
        _per_seed(merge(summer_levers(), {"sites": {"tunnel": {"fence_km": km,
                                                               "fence_quality": 0.9},
                                                    "port": {"fence_km": km / 3}}}), _entries)
        for km in levels
    ]
    assert_no_increase(entries[0], entries[1])
    assert_no_increase(entries[1], entries[2])
    assert_increases(entries[2], entries[0])


STRIKE = [
    {"name": "blockade of Calais port", "kind": "blockade", "target": "calais",
     "start": "2015-06-08T06:00", "duration": "24h"},
    {"name": "no sailings", "kind": "blockade", "target": "ferry",
     "start": "2015-06-08T06:00", "duration": "24h"},
    {"name": "tunnel blocked", "kind": "tunnel_suspension", "start": "2015-06-08T06:00",
     "duration": "24h"},
]


def test_a_strike_that_stops_traffic_raises_lorry_attempts() -> None:
    def lorries(summary: dict) -> float:
        return summary["security"]["attempts"]["by_target"]["lorries"]["total"]

    calm = _per_seed(summer_levers(), lorries)
    strike = _per_seed(summer_levers(), lorries, disruptions=STRIKE)
    assert_increases(1.5 * calm, strike)


def test_more_searching_lengthens_northbound_queues() -> None:
    def delay(summary: dict) -> float:
        return summary["directions"]["northbound"]["lorry_hours_delayed"]

    scanner = {"detection_probability": 0.9, "time_cost": "3min", "use_share": 1.0}
    light = merge(summer_levers(), {"controls": {"search_share": 0.3}})
    heavy = merge(summer_levers(), {"controls": {"search_share": 1.0,
                                                 "technologies": {"scanner": scanner}}})
    assert_increases(1.2 * _per_seed(light, delay), _per_seed(heavy, delay))


def test_returns_and_their_deterrence_assumption_can_be_switched_off() -> None:
    def pick(summary: dict) -> tuple[int, int, int]:
        pop = summary["security"]["population"]
        return pop["end"], summary["security"]["returned"]["total"], pop["arrivals"]

    def run(share: float, deterrence: bool) -> np.ndarray:
        security = merge(summer_levers(), {"returns": {"share_of_detected": share,
                                                       "deterrence": deterrence}})
        scenario = make_scenario(security, horizon="2d")
        return np.array([pick(simulate(scenario, s).summary) for s in SEEDS], dtype=float).T

    none, on, off = run(0.0, True), run(0.8, True), run(0.8, False)
    assert np.all(none[1] == 0) and np.all(on[1] > 0)
    assert_increases(on[0], none[0])  # returned people leave the camp
    assert_increases(on[2], off[2])  # the deterrence assumption cuts arrivals only when on
    assert np.array_equal(off[2], none[2])


def test_secure_parking_shields_stationary_lorries() -> None:
    def lorries(summary: dict) -> float:
        return summary["security"]["attempts"]["by_target"]["lorries"]["total"]

    open_roads = _per_seed(summer_levers(), lorries, disruptions=STRIKE)
    parked = _per_seed(merge(summer_levers(), {"secure_parking_lorries": 3000}), lorries,
                       disruptions=STRIKE)
    assert_increases(parked, 0.8 * open_roads)


@settings(max_examples=40, deadline=None)
@given(standing=st.lists(st.floats(0, 5000), min_size=24, max_size=24),
       passing=st.lists(st.floats(0, 2000), min_size=24, max_size=24),
       spaces=st.integers(1, 5000))
def test_secure_parking_never_pushes_attempts_onto_moving_lorries(standing, passing,
                                                                  spaces) -> None:
    """Per person-hour, secure parks cut attempts on standing lorries, leave attempts on
    moving ones as they were, and so never raise the expected lorry deaths."""
    def lorry_rates(parked: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scenario = make_scenario(merge(summer_levers(), {"secure_parking_lorries": parked}),
                                 horizon="1d")
        exposure = plan.LorryExposure(np.array(standing), np.array(passing))
        inputs = plan.hourly_inputs(scenario, plan.segments(scenario), exposure)
        attempts = inputs.attempt_probability[:, plan.LORRIES]
        weight = scenario.security.attempts.moving_lorry_weight
        moving = weight * np.array(passing)
        exposed = np.maximum(np.array(standing) - parked, 0.0) + moving
        moving_share = np.divide(moving, exposed, out=np.zeros(24), where=exposed > 0)
        deaths = attempts * inputs.outcome_probability[:, plan.LORRIES, OUT["died"]]
        return attempts * moving_share, attempts * (1 - moving_share), deaths

    moving_open, standing_open, deaths_open = lorry_rates(0)
    moving_parked, standing_parked, deaths_parked = lorry_rates(spaces)
    np.testing.assert_allclose(moving_parked, moving_open, rtol=1e-9, atol=1e-15)
    assert np.all(standing_parked <= standing_open + 1e-15)
    assert np.all(deaths_parked <= deaths_open * (1 + 1e-9) + 1e-18)
