"""Holding decisions in the event loop: set-up, replay, shared FIFO, metering, no-op plans."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.engine.holding import CALLED, IN_FORCE, STOOD_DOWN, gate_queue, in_force
from straits.scenario import Scenario
from tests.conftest import corridor_mapping, scenario_with
from tests.engine.invariants import check_records

# a ferry blockade builds a queue in Kent within hours and lets it clear after
BLOCKADE = [{"kind": "blockade", "target": "ferry", "start": "+8h", "duration": "14h",
             "capacity_fraction": 0.0}]
STACK = ("stack-phase-1", "stack-phase-2", "stack-phase-3")


def with_decisions(decision: dict, release: str = "fifo", areas=STACK, horizon="3d",
                   metering: float | None = None, **fields) -> Scenario:
    plan = corridor_mapping()["holding"]
    for area in plan["southbound"]["areas"]:
        if area["name"] in areas:
            area["release"] = release
            area["decision"] = decision
        if metering and area["name"] == "dover-tap":
            area["metering_lorries_per_hour"] = metering
    return scenario_with(horizon=horizon, holding=plan, disruptions=BLOCKADE, **fields)


DECISION = {"call_at_queue_lorries": 300, "set_up": "2h", "minimum_in_force": "6h",
            "stand_down_below_lorries": 250, "stand_down_after": "3h"}


@pytest.fixture(scope="module")
def stacked():
    scenario = with_decisions(DECISION)
    return scenario, run_replication(scenario, 11)


def test_the_plan_is_called_set_up_and_stood_down(stacked):
    scenario, records = stacked
    log = records.directions["southbound"].decisions
    assert set(log.state) == {CALLED, IN_FORCE, STOOD_DOWN}
    check_records(records, scenario)


def test_no_area_is_used_before_its_set_up_ends(stacked):
    _, records = stacked
    dr = records.directions["southbound"]
    log = dr.decisions
    for a in np.unique(log.area):
        mine = log.area == a
        called = log.minutes[mine][log.state[mine] == CALLED]
        ready = log.minutes[mine][log.state[mine] == IN_FORCE]
        assert np.all(ready - called[: ready.size] >= 120.0)  # set_up: 2h
    minutes = np.arange(0.0, records.horizon_minutes, 1.0)
    lorries = dr.queue_by_area(minutes).sum(axis=1)
    usable = in_force(dr.holding_plan, log, minutes)
    for a, area in enumerate(dr.holding_plan.areas):
        assert np.all(lorries[a][~usable[a]] == 0), f"{area.name} used while not in force"
        held = ~np.isnan(dr.held_minutes)
        assert held.any()
        # nobody joined the shared queue before the first area was in force
        assert dr.held_minutes[held].min() >= ready_time(log)


def ready_time(log) -> float:
    return float(log.minutes[log.state == IN_FORCE].min())


def test_the_decision_log_replays_from_the_recorded_queue(stacked):
    """A controller written afresh, reading the queue the records show at each
    decision time, takes exactly the logged decisions."""
    _, records = stacked
    dr = records.directions["southbound"]
    plan = dr.holding_plan
    ticks = np.arange(0.0, records.horizon_minutes + 1e-9, plan.decision_interval)
    outside = gate_queue(dr.arrival_minutes, dr.gate_entry_minutes, dr.terminal,
                         len(dr.layout.terminals), ticks)
    served = {a: [dr.layout.terminals.index(t) for t in area.serves]
              for a, area in enumerate(plan.areas)}
    replayed = []
    state = {a: STOOD_DOWN for a, area in enumerate(plan.areas) if area.decision}
    since, quiet = {}, {}
    for k, now in enumerate(ticks):
        for a in state:
            d = plan.areas[a].decision
            queue = outside[served[a], k].sum()
            if state[a] == STOOD_DOWN and queue >= d.call_at_queue_lorries:
                state[a], since[a] = CALLED, now
                replayed.append((now, a, CALLED))
            if state[a] == CALLED and now >= since[a] + d.set_up:
                state[a], since[a], quiet[a] = IN_FORCE, now, None
                replayed.append((now, a, IN_FORCE))
            elif state[a] == IN_FORCE:
                quiet[a] = (quiet[a] if quiet[a] is not None else now) \
                    if queue < d.stand_down_below_lorries else None
                if quiet[a] is not None and now - quiet[a] >= d.stand_down_after \
                        and now - since[a] >= d.minimum_in_force:
                    state[a] = STOOD_DOWN
                    replayed.append((now, a, STOOD_DOWN))
    logged = list(zip(dr.decisions.minutes.tolist(), dr.decisions.area.tolist(),
                      dr.decisions.state.tolist(), strict=True))
    assert logged == replayed


def test_the_shared_queue_releases_in_arrival_order_across_terminals(stacked):
    _, records = stacked
    dr = records.directions["southbound"]
    held = ~np.isnan(dr.held_minutes)
    terminals = set(dr.terminal[held].tolist())
    assert terminals == {0, 1}, "port and tunnel lorries stood in the same queue"
    order = np.argsort(dr.held_minutes[held], kind="stable")
    released = np.where(np.isnan(dr.released_minutes), np.inf, dr.released_minutes)[held][order]
    assert np.all(released[1:] >= released[:-1])  # (not np.diff: inf - inf, still held, is nan)
    assert np.all(dr.held_minutes[held] == dr.arrival_minutes[held])


def test_lanes_keep_terminals_apart():
    scenario = with_decisions(DECISION, release="lanes")
    dr = run_replication(scenario, 11).directions["southbound"]
    assert np.isnan(dr.held_minutes).all()


@pytest.mark.parametrize("rate", [60.0, 150.0])
def test_metering_never_lets_more_in_than_its_rate(rate):
    scenario = with_decisions(DECISION, metering=rate, horizon="2d")
    records = run_replication(scenario, 4)
    dr = records.directions["southbound"]
    dover = dr.terminal == 0
    entries = np.sort(dr.gate_entry_minutes[dover & ~np.isnan(dr.gate_entry_minutes)])
    assert np.all(np.diff(entries) >= 60.0 / rate - 1e-9)
    in_an_hour = (np.searchsorted(entries, entries + 60.0 - 1e-6, side="left")
                  - np.arange(entries.size))
    assert in_an_hour.max() <= rate
    check_records(records, scenario)


def _same_records(a, b):
    for direction in a.directions:
        x, y = a.directions[direction], b.directions[direction]
        for field in ("terminal", "gate_entry_minutes", "stage_start_minutes",
                      "stage_end_minutes", "departure_index", "departure_load", "held_minutes"):
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))


def test_a_plan_never_called_is_no_plan():
    never = with_decisions({**DECISION, "call_at_queue_lorries": 1_000_000})
    plan = corridor_mapping()["holding"]
    plan["southbound"]["areas"] = [a for a in plan["southbound"]["areas"]
                                   if a["name"] not in STACK]
    without = scenario_with(horizon="3d", holding=plan, disruptions=BLOCKADE)
    a, b = run_replication(never, 11), run_replication(without, 11)
    _same_records(a, b)
    assert a.directions["southbound"].decisions.minutes.size == 0
    minutes = np.arange(0.0, a.horizon_minutes, 15.0)
    stacked = a.directions["southbound"].queue_by_area(minutes).sum(axis=1)
    plain = b.directions["southbound"].queue_by_area(minutes).sum(axis=1)
    np.testing.assert_array_equal(stacked[[0, -1]], plain)  # TAP and roads; Stack empty
    assert stacked[1:-1].sum() == 0


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(call=st.integers(50, 3000), set_up=st.integers(0, 240), hold=st.integers(0, 720),
       below=st.integers(1, 500), after=st.integers(0, 600),
       release=st.sampled_from(["fifo", "lanes"]), metering=st.sampled_from([None, 120.0]))
def test_invariants_hold_under_any_plan(call, set_up, hold, below, after, release, metering):
    decision = {"call_at_queue_lorries": call, "set_up": f"{set_up}min",
                "minimum_in_force": f"{hold}min", "stand_down_below_lorries": below,
                "stand_down_after": f"{after}min"}
    scenario = with_decisions(decision, release=release, metering=metering, horizon="2d")
    records = run_replication(scenario, 2)
    check_records(records, scenario)
    dr = records.directions["southbound"]
    held = ~np.isnan(dr.held_minutes)
    left = ~np.isnan(dr.released_minutes)
    assert np.all(left <= held) and np.all(dr.released_minutes[left] >= dr.held_minutes[left])


def test_lanes_decisions_change_where_lorries_wait_not_when_they_leave():
    decided = with_decisions(DECISION, release="lanes")
    plan = corridor_mapping()["holding"]
    for area in plan["southbound"]["areas"]:
        area.pop("decision", None)
    plain = scenario_with(horizon="3d", holding=plan, disruptions=BLOCKADE)
    a, b = run_replication(decided, 11), run_replication(plain, 11)
    _same_records(a, b)
    assert a.directions["southbound"].decisions.minutes.size > 0
