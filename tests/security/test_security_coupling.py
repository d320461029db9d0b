"""The two-way coupling: its fixed point converges, is reproducible, and acts on the engine."""

from __future__ import annotations

import json

import numpy as np

from straits.engine import run_replication
from straits.metrics import summarise
from straits.pipeline import result_tables, simulate
from straits.scenario import load_scenario, scenario_to_yaml
from straits.scenario.schema import BorderSlowdown, TunnelSuspension
from straits.security import run_coupled
from straits.security.coupling import SUSPENSION_NAME, suspension_hours, suspension_windows
from straits.security.people import simulate_people
from straits.security.plan import hourly_inputs, lorry_exposure, segments
from tests.security.security_helpers import make_scenario, summer_levers


def test_fixed_point_converges_and_is_self_consistent() -> None:
    scenario = make_scenario(summer_levers())
    run = run_coupled(scenario, seed=3)
    assert run.converged
    assert run.iterations[-1]["hours_changed"] == 0
    assert 2 <= len(run.iterations) <= scenario.security.coupling.max_iterations
    assert run.suspended.sum() > 0, "this scenario should suspend shuttles"
    # the engine ran with exactly the suspensions the people model asks for
    ran = [d for d in run.engine_scenario.disruptions if isinstance(d, TunnelSuspension)]
    windows = suspension_windows(run.segments, run.suspended, scenario.horizon)
    assert len(ran) == len(windows)
    assert all(d.name == SUSPENSION_NAME for d in ran)
    # and re-running the people model on the final engine records proposes the same set
    records = run_replication(run.engine_scenario, 3)
    inputs = hourly_inputs(scenario, run.segments, lorry_exposure(scenario, records))
    ss = np.random.SeedSequence(3, spawn_key=(0x5EC,)).spawn(2)
    uniforms = np.random.default_rng(ss[1]).random(run.suspended.shape[0])
    again = suspension_hours(run.segments, simulate_people(inputs, ss[0]), uniforms)
    assert np.array_equal(again, run.suspended)


def test_convergence_over_seeds() -> None:
    scenario = make_scenario(summer_levers(), horizon="2d")
    for seed in range(1, 6):
        run = run_coupled(scenario, seed)
        assert run.converged, run.iterations


def test_suspensions_cut_shuttles_in_the_engine() -> None:
    scenario = make_scenario(summer_levers())
    result = simulate(scenario, 3)
    suspended = [d for d in result.summary["disruptions"] if d["name"] == SUSPENSION_NAME]
    assert suspended
    hours = sum(d["hours"] for d in suspended)
    assert abs(hours - result.summary["security"]["tunnel"]["suspension_hours"]) < 1e-6
    tunnel = result.records.directions["northbound"]
    t = tunnel.layout.routes.index("tunnel")
    mine = tunnel.departure_terminal == t
    times = tunnel.departure_time_minutes[mine]
    cut = tunnel.departure_capacity[mine] == 0
    for d in [d for d in result.security.engine_scenario.disruptions
              if isinstance(d, TunnelSuspension)]:
        start = d.start.total_seconds() / 60.0
        inside = (times >= start) & (times < start + d.duration.value)
        assert cut[inside].all()


def test_same_seed_same_results_and_seeds_differ() -> None:
    scenario = make_scenario(summer_levers(), horizon="2d")
    first = json.dumps(simulate(scenario, 5).summary, sort_keys=True)
    assert first == json.dumps(simulate(scenario, 5).summary, sort_keys=True)
    assert first != json.dumps(simulate(scenario, 6).summary, sort_keys=True)


def test_search_time_becomes_a_border_slowdown() -> None:
    security = summer_levers()
    security["controls"]["search_share"] = 1.0
    scenario = make_scenario(security, horizon="1d")
    run = run_coupled(scenario, 1)
    slow = [d for d in run.engine_scenario.disruptions if isinstance(d, BorderSlowdown)]
    assert {d.target for d in slow} == {"calais", "coquelles"}
    assert all(d.stage == "uk_border" and d.multiplier > 1 for d in slow)


def test_changes_split_the_horizon_into_segments() -> None:
    security = summer_levers()
    security["changes"] = [{"start": "+1d", "set": {"sites": {"tunnel": {"police": 900}}}},
                           {"start": "2015-06-09T12:30", "set": {"controls": {"search_share": 1}}}]
    segs = segments(make_scenario(security))
    assert list(segs.start_hours) == [0, 24, 37]
    assert segs.of_hour[23] == 0 and segs.of_hour[24] == 1 and segs.of_hour[37] == 2
    assert segs.policies[2].sites["tunnel"].police == 900  # earlier changes carry on


def test_without_security_output_is_the_plain_engine() -> None:
    scenario = load_scenario("baseline")
    result = simulate(scenario, 1)
    assert result.security is None
    assert "security" not in result.summary
    assert "security" not in scenario_to_yaml(scenario)
    plain = summarise(scenario, run_replication(scenario, 1))
    assert json.dumps(plain) == json.dumps(result.summary)
    assert set(result_tables(result)) == {"lorries", "holding_timeseries", "departures", "booths",
                                          "holding_decisions"}  # Stack has decisions


def test_time_series_tables() -> None:
    result = simulate(make_scenario(summer_levers(), horizon="2d"), 2)
    tables = result_tables(result)
    hourly, daily = tables["security_hourly"], tables["security_daily"]
    assert hourly.num_rows == 48 and daily.num_rows == 2
    attempts = sum(np.asarray(hourly[f"attempts_{t}"]).sum() for t in ("lorries", "port", "tunnel"))
    security = result.summary["security"]
    assert attempts == security["attempts"]["total"] == sum(security["outcomes"].values())
    for target, outcomes in security["outcomes_by_target"].items():
        assert sum(outcomes.values()) == security["attempts"]["by_target"][target]["total"]
    pop = security["population"]
    assert pop["end"] == (pop["start"] + pop["arrivals"] - pop["departures"]
                          - pop["reached_uk_undetected"] - pop["detected_on_arrival_uk"]
                          - pop["died"] - pop["returned_from_france"])
    assert np.asarray(daily["died"]).sum() == result.summary["security"]["harm"]["deaths"]["total"]
