"""Property tests: random corridors and disruptions never break the invariants."""

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.metrics import summarise
from tests.conftest import scenario_with
from tests.engine.invariants import check_records

CORRIDOR = scenario_with()
STAGES = {name: [s.name for s in t.stages] for name, t in CORRIDOR.terminals.items()}
FLEET = CORRIDOR.routes["ferry"].vessels


@st.composite
def disruption(draw, horizon_hours: int):
    kind = draw(st.sampled_from(["blockade", "tunnel_suspension", "sailings_cancelled",
                                 "vessels_withdrawn", "border_slowdown", "staffing",
                                 "turn_back", "demand_shock"]))
    d = {"kind": kind, "start": f"+{draw(st.integers(0, horizon_hours - 1))}h",
         "duration": f"{draw(st.integers(1, 30))}h"}
    terminal = draw(st.sampled_from(sorted(STAGES)))
    stage_name = draw(st.sampled_from(STAGES[terminal]))
    if kind == "blockade":
        d["target"] = draw(st.sampled_from(["ferry", "tunnel", terminal]))
        d["capacity_fraction"] = draw(st.floats(0, 1))
    elif kind == "sailings_cancelled":
        d["share_cancelled"] = draw(st.floats(0, 1))
    elif kind == "vessels_withdrawn":
        d["vessels"] = draw(st.integers(1, FLEET))
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
    for terminal, stages in STAGES.items():
        changes[f"terminals.{terminal}.buffer_lorries"] = draw(st.integers(1, 400))
        for name in stages:
            changes[f"terminals.{terminal}.stages.{name}.booths"] = draw(st.integers(0, 8))
    horizon_hours = draw(st.integers(2, 36))
    return scenario_with(changes, horizon=f"{horizon_hours}h",
                         disruptions=draw(st.lists(disruption(horizon_hours), max_size=4)))


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(small_scenario(), st.integers(0, 2**32 - 1))
@example(scenario_with(horizon="1d"), 0)  # the shared corridor as it is
def test_every_replication_keeps_the_invariants(scenario, seed):
    records = run_replication(scenario, seed)
    check_records(records, scenario)
    summary = summarise(scenario, records)
    for direction, d in summary["directions"].items():
        dr = records.directions[direction]
        # the KPIs count what the records hold: boardings from the departures' loads
        assert d["arrived"] == dr.lorries
        assert d["crossed"] == dr.departure_load.sum()
        assert d["crossed"] == sum(r["crossed"] for r in d["routes"].values())
        assert d["queue_peak_lorries"] <= d["arrived"]


def test_builtins_keep_the_invariants():
    from straits.scenario import load_scenario

    for name in ("baseline", "calais-strike-2015"):
        scenario = load_scenario(name)
        check_records(run_replication(scenario, 5), scenario)
