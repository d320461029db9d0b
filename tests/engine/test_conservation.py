"""Property tests: random corridors and disruptions never break the invariants."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.metrics import summarise
from tests.conftest import scenario_with
from tests.engine.invariants import check_records

TERMINALS = {"dover": 3, "folkestone": 3, "calais": 3, "coquelles": 3}


@st.composite
def disruption(draw, horizon_hours: int):
    kind = draw(st.sampled_from(["blockade", "tunnel_suspension", "sailings_cancelled",
                                 "vessels_withdrawn", "border_slowdown", "staffing",
                                 "turn_back", "demand_shock"]))
    d = {"kind": kind, "start": f"+{draw(st.integers(0, horizon_hours - 1))}h",
         "duration": f"{draw(st.integers(1, 30))}h"}
    terminal = draw(st.sampled_from(sorted(TERMINALS)))
    stage = draw(st.integers(0, 2))
    stage_name = {"dover": ["uk_exit", "french_border", "check_in"],
                  "folkestone": ["check_in", "uk_exit", "french_border"],
                  "calais": ["check_in", "french_exit", "uk_border"],
                  "coquelles": ["check_in", "french_exit", "uk_border"]}[terminal][stage]
    if kind == "blockade":
        d["target"] = draw(st.sampled_from(["ferry", "tunnel", terminal]))
        d["capacity_fraction"] = draw(st.floats(0, 1))
    elif kind == "sailings_cancelled":
        d["share_cancelled"] = draw(st.floats(0, 1))
    elif kind == "vessels_withdrawn":
        d["vessels"] = draw(st.integers(1, 11))
    elif kind == "border_slowdown":
        d.update(target=terminal, stage=stage_name, multiplier=draw(st.floats(0.5, 4)),
                 added=f"{draw(st.integers(0, 300))}s")
    elif kind == "turn_back":
        d.update(target=terminal, stage=stage_name, share=draw(st.floats(0, 1)))
    elif kind == "staffing":
        d.update(target=terminal, stage=stage_name, booths=draw(st.integers(0, 6)))
    elif kind == "demand_shock":
        d["multiplier"] = draw(st.floats(0, 1.75))  # four may overlap: 1.75^4 < 10, the limit
        d["directions"] = draw(st.sampled_from([["southbound"], ["northbound"],
                                                ["southbound", "northbound"]]))
    return d


@st.composite
def small_scenario(draw):
    changes = {
        "demand.southbound.lorries_per_day": draw(st.integers(0, 9000)),
        "demand.northbound.lorries_per_day": draw(st.integers(0, 9000)),
        "route_choice": {
            "rule": draw(st.sampled_from(["shares", "shortest_expected_wait"])),
            "shares": {"ferry": 0.6, "tunnel": 0.4, "ferry-dunkirk": 0.0},
            "captive_share": draw(st.floats(0, 1)),
        },
    }
    for terminal in TERMINALS:
        changes[f"terminals.{terminal}.buffer_lorries"] = draw(st.integers(1, 400))
        for k in range(3):
            changes[f"terminals.{terminal}.stages.{k}.booths"] = draw(st.integers(0, 8))
    horizon_hours = draw(st.integers(2, 36))
    return scenario_with(changes, horizon=f"{horizon_hours}h",
                         disruptions=draw(st.lists(disruption(horizon_hours), max_size=4)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenario(), st.integers(0, 2**32 - 1))
def test_every_replication_keeps_the_invariants(scenario, seed):
    records = run_replication(scenario, seed)
    check_records(records, scenario)
    summary = summarise(scenario, records)
    for d in summary["directions"].values():
        assert d["arrived"] == d["crossed"] + d["turned_back"] + d["in_system_at_end"]
        assert d["queue_peak_lorries"] >= 0


def test_builtins_keep_the_invariants():
    from straits.scenario import load_scenario

    for name in ("baseline", "calais-strike-2015"):
        scenario = load_scenario(name)
        check_records(run_replication(scenario, 5), scenario)
