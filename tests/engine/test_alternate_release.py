"""``release: alternate``: each terminal's lane of a shared area, released in turn at its rate."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.scenario import Scenario, ScenarioError
from tests.conftest import corridor_mapping, scenario_with
from tests.engine.invariants import check_records
from tests.engine.test_holding_decisions import (
    BLOCKADE,
    DECISION,
    STACK,
    _same_records,
    with_decisions,
)

SERVED = ("dover", "dover-dunkirk", "folkestone")


def alternating(rates: dict[str, float], decision: dict | None = DECISION,
                horizon: str = "2d") -> Scenario:
    plan = corridor_mapping()["holding"]
    for area in plan["southbound"]["areas"]:
        if area["name"] in STACK:
            area["release"] = "alternate"
            area["release_lorries_per_hour"] = rates
            if decision is None:
                area.pop("decision", None)
            else:
                area["decision"] = decision
    return scenario_with(horizon=horizon, holding=plan, disruptions=BLOCKADE)


def releases_while_in_force(dr) -> np.ndarray:
    """Releases from the area, less the ones a stand-down made all at once."""
    released = dr.released_minutes
    stood_down = dr.decisions.minutes[dr.decisions.state == 0]
    return ~np.isnan(released) & ~np.isin(released, stood_down)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dover=st.floats(20.0, 400.0), tunnel=st.floats(20.0, 400.0),
       decided=st.booleans(), seed=st.integers(0, 50))
def test_alternate_release_keeps_each_terminals_rate_and_order(dover, tunnel, decided, seed):
    rates = {"dover": dover, "dover-dunkirk": 60.0, "folkestone": tunnel}
    scenario = alternating(rates, DECISION if decided else None)
    records = run_replication(scenario, seed)
    check_records(records, scenario)  # conservation of every lorry
    dr = records.directions["southbound"]
    terminals = dr.layout.terminals
    held = ~np.isnan(dr.held_minutes)
    assert held.any()
    counted = releases_while_in_force(dr)
    for name, rate in rates.items():
        mine = dr.terminal == terminals.index(name)
        times = np.sort(dr.released_minutes[mine & counted])
        assert np.all(np.diff(times) >= 60.0 / rate - 1e-9), f"{name} released above its rate"
        # FIFO within the terminal: released (and let in) in the order they were held
        order = np.argsort(dr.held_minutes[mine & held], kind="stable")
        left = np.where(np.isnan(dr.released_minutes), 1e18, dr.released_minutes)
        assert np.all(np.diff(left[mine & held][order]) >= 0)
    left = ~np.isnan(dr.released_minutes)
    assert np.all(left <= held) and np.all(dr.released_minutes[left] >= dr.held_minutes[left])


def test_a_tunnel_lorry_does_not_wait_behind_the_port():
    """Unlike ``fifo`` (head-of-line blocking), the tunnel's lane moves while the
    port's is stuck behind a ferry blockade."""
    fast = dict.fromkeys(SERVED, 600.0)
    waits = {}
    for name, scenario in {"alternate": alternating(fast),
                           "fifo": with_decisions(DECISION, horizon="2d")}.items():
        dr = run_replication(scenario, 11).directions["southbound"]
        tunnel = dr.terminal == dr.layout.terminals.index("folkestone")
        waits[name] = np.nanmax(dr.gate_entry_minutes[tunnel] - dr.arrival_minutes[tunnel])
    assert waits["alternate"] < 0.5 * waits["fifo"]


def test_an_alternate_plan_never_called_is_no_plan():
    rates = {"dover": 100.0, "dover-dunkirk": 30.0, "folkestone": 100.0}
    never = alternating(rates, {**DECISION, "call_at_queue_lorries": 1_000_000}, horizon="3d")
    plan = corridor_mapping()["holding"]
    plan["southbound"]["areas"] = [a for a in plan["southbound"]["areas"]
                                   if a["name"] not in STACK]
    without = scenario_with(horizon="3d", holding=plan, disruptions=BLOCKADE)
    _same_records(run_replication(never, 11), run_replication(without, 11))


@pytest.mark.parametrize(("rates", "release", "message"), [
    (None, "alternate", "release_lorries_per_hour: give a rate for"),
    ({"dover": 100.0, "dover-dunkirk": 30.0}, "alternate", "give a rate for ['folkestone']"),
    ({**dict.fromkeys(SERVED, 100.0), "calais": 5.0}, "alternate", "not served by this area"),
    (dict.fromkeys(SERVED, 100.0), "fifo", "applies to release: alternate only"),
    (dict.fromkeys(SERVED, 0.0), "alternate", "greater than 0"),
])
def test_bad_release_rates_are_refused_naming_the_field(rates, release, message):
    plan = corridor_mapping()["holding"]
    area = next(a for a in plan["southbound"]["areas"] if a["name"] == "stack-phase-1")
    area["release"] = release
    if rates is not None:
        area["release_lorries_per_hour"] = rates
    with pytest.raises(ScenarioError) as error:
        scenario_with(holding=plan)
    assert "holding.southbound.areas[1].release" in str(error.value)
    assert message in str(error.value)


def test_shared_areas_are_released_one_way():
    plan = corridor_mapping()["holding"]
    areas = {a["name"]: a for a in plan["southbound"]["areas"]}
    areas["stack-phase-1"].update(release="alternate",
                                  release_lorries_per_hour=dict.fromkeys(SERVED, 100.0))
    areas["stack-phase-2"]["release"] = "fifo"
    with pytest.raises(ScenarioError, match=r"areas\[2\]\.release: .*release: alternate"):
        scenario_with(holding=plan)
