"""Levers are small edits of the scenario, validated again by the schema."""

from __future__ import annotations

from datetime import datetime

import pytest

from straits.scenario import ScenarioError, load_scenario
from straits.web.levers import Levers, apply_levers, holding_plans
from tests.conftest import stage


def test_stage_lever_sets_booths_and_keeps_the_distribution_shape():
    base = load_scenario("baseline")
    levers = Levers(stages=[{"terminal": "dover", "stage": "french_border", "booths": 4,
                             "check_minutes": 3.5},
                            {"terminal": "dover", "stage": "uk_exit", "check_minutes": 0.5}])
    changed = apply_levers(base, levers)
    border = stage(changed, "dover", "french_border")
    assert border.booths == 4 and border.service_time.mean == 3.5
    assert border.service_time.cv == stage(base, "dover", "french_border").service_time.cv
    exit_stage = stage(changed, "dover", "uk_exit")
    assert exit_stage.service_time.distribution == "deterministic"
    assert exit_stage.service_time.value == 0.5
    assert changed.terminals["calais"] == base.terminals["calais"]


def test_shorter_horizon_keeps_only_disruptions_that_start_inside_it():
    strike = load_scenario("calais-strike-2015")
    short = apply_levers(strike, Levers(horizon_days=2))
    assert short.horizon == 2 * 1440
    kept = [d.name for d in short.disruptions]
    expected = [d.name for d in strike.disruptions if strike.start_minutes(d) < 2 * 1440]
    assert kept == expected and 0 < len(kept) < len(strike.disruptions)


def test_strike_becomes_a_capacity_cut():
    changed = apply_levers(load_scenario("baseline"), Levers(strikes=[{
        "target": "calais", "start": datetime(2015, 6, 9, 6), "duration_hours": 30,
        "capacity_fraction": 0.25}]))
    strike = changed.disruptions[-1]
    assert (strike.kind, strike.target, strike.capacity_fraction) == ("strike", "calais", 0.25)
    assert strike.duration.value == 30 * 60
    assert changed.start_minutes(strike) == 30 * 60


def test_hauliers_lever_switches_the_behaviour_rule_keeping_its_parameters():
    baseline = load_scenario("baseline")
    on = apply_levers(baseline, Levers(hauliers_respond=True))
    assert on.behaviour_on and not baseline.behaviour_on
    assert on.behaviour.model_copy(update={"enabled": False}) == baseline.behaviour
    strike = load_scenario("calais-strike-2015")
    assert not apply_levers(strike, Levers(hauliers_respond=False)).behaviour_on
    assert apply_levers(strike, Levers()).behaviour_on  # untouched: as the scenario has it


def test_holding_plans_come_from_the_built_ins():
    plans = holding_plans()
    assert {"corridor-2015", "rwcs-2021"} <= set(plans)
    changed = apply_levers(load_scenario("baseline"), Levers(holding_plan="rwcs-2021"))
    assert changed.holding.southbound == load_scenario("rwcs-2021").holding.southbound
    assert changed.holding.northbound == load_scenario("baseline").holding.northbound


def test_security_lever_holds_for_the_whole_run():
    summer = load_scenario("calais-summer-2015")
    police_changes = [c for c in summer.security.changes
                      if "police" in c.set.get("sites", {}).get("tunnel", {})]
    assert police_changes  # the scenario raises tunnel police by date; the lever overrides it
    changed = apply_levers(summer, Levers(security={"police": {"tunnel": 5},
                                                    "search_share": 0.9}))
    assert changed.security.sites["tunnel"].police == 5
    assert changed.security.controls.search_share == 0.9
    for start, policy in changed.security.policies():
        assert policy.sites["tunnel"].police == 5, start
    fence = [p.sites["tunnel"].fence_km for _, p in changed.security.policies()]
    assert fence == [p.sites["tunnel"].fence_km for _, p in summer.security.policies()]


@pytest.mark.parametrize(("levers", "field"), [
    ({"stages": [{"terminal": "nowhere", "stage": "x"}]}, "levers.stages[0].terminal"),
    ({"strikes": [{"target": "ferry", "start": "2016-01-01T00:00", "duration_hours": 1}]},
     "levers.strikes[0].start"),
    ({"horizon_days": 1, "strikes": [{"target": "moon", "start": "2015-06-08T00:00",
                                      "duration_hours": 1}]}, "levers.strikes[0].target"),
    ({"holding_plan": "nope"}, "levers.holding_plan"),
    ({"security": {"police": {"tunnel": 10}}}, "levers.security"),
])
def test_errors_name_the_lever(levers, field):
    with pytest.raises(ScenarioError) as error:
        apply_levers(load_scenario("baseline"), Levers(**levers))
    assert error.value.field == field
