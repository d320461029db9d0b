"""Every class of bad scenario input gives one clear message naming the field."""

from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from straits.scenario import (
    ScenarioError,
    builtin_names,
    load_scenario,
    scenario_from_mapping,
    scenario_from_text,
    scenario_hash,
    scenario_to_yaml,
    with_horizon,
)


def _error(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        scenario_from_text(text, source="s.yaml")
    return info.value


def test_builtins_load_and_are_listed():
    names = builtin_names()
    assert {"baseline", "calais-strike-2015"} <= set(names)
    assert not any(n.startswith("corridor") for n in names)
    for name in names:
        assert load_scenario(name).name == name


def test_malformed_yaml_names_the_line():
    err = _error("extends: baseline\nhorizon: [1d\n")
    assert "malformed YAML" in err.message
    assert err.line is not None


def test_unknown_field():
    err = _error("extends: baseline\nhorizont: 2d\n")
    assert err.field == "horizont"
    assert "unknown field" in err.message
    assert err.line == 2


def test_missing_field():
    err = _error("name: x\nhorizon: 1d\n")
    assert err.field == "start"
    assert "missing" in err.message


def test_wrong_unit():
    err = _error("extends: baseline\nhorizon: 7 weeks\n")
    assert err.field == "horizon"
    assert "'90s'" in err.message


def test_bare_number_for_a_duration_is_refused():
    err = _error(
        "extends: baseline\nroutes:\n  ferry:\n    crossing: 90\n"
    )
    assert err.field == "routes.ferry.crossing"
    assert "unit" in err.message


def test_negative_capacity():
    err = _error("extends: baseline\nterminals:\n  dover:\n    buffer_lorries: -5\n")
    assert err.field == "terminals.dover.buffer_lorries"
    assert "greater than or equal to 1" in err.message
    assert err.line == 4


def test_negative_holding_capacity_in_a_list():
    text = yaml.safe_dump({
        "extends": "baseline",
        "holding": {"southbound": {"areas": [{
            "name": "tap", "capacity_lorries": -1, "length_km": 1, "serves": ["dover"],
        }]}},
    })
    err = _error(text)
    assert err.field == "holding.southbound.areas[0].capacity_lorries"


def test_disruption_outside_the_horizon():
    err = _error(
        "extends: baseline\ndisruptions:\n  - kind: strike\n    target: dover\n"
        "    start: 2016-01-01T00:00\n    duration: 1d\n"
    )
    assert err.field == "disruptions[0].start"
    assert "outside the horizon" in err.message
    assert err.line == 5


def test_unknown_disruption_kind_lists_the_kinds():
    err = _error("extends: baseline\ndisruptions:\n  - kind: tsunami\n    start: +1h\n")
    assert err.field == "disruptions[0]"
    assert "tsunami" in err.message and "strike" in err.message


def test_unknown_disruption_target_lists_the_choices():
    err = _error(
        "extends: baseline\ndisruptions:\n  - kind: strike\n    target: ostend\n"
        "    start: +1h\n    duration: 2h\n"
    )
    assert err.field == "disruptions[0].target"
    assert "dover" in err.message


def test_unknown_stage_in_a_slowdown():
    err = _error(
        "extends: baseline\ndisruptions:\n  - kind: border_slowdown\n    target: dover\n"
        "    stage: customs\n    start: +1h\n    duration: 2h\n    added: 1min\n"
    )
    assert err.field == "disruptions[0].stage"
    assert "french_border" in err.message


def test_shares_must_cover_every_route():
    err = _error("extends: baseline\nroute_choice:\n  shares: {ferry: 1.0}\n")
    assert err.field == "route_choice.shares"


def test_probability_outside_zero_one():
    err = _error(
        "extends: baseline\ndisruptions:\n  - kind: blockade\n    target: ferry\n"
        "    start: +1h\n    duration: 2h\n    capacity_fraction: 1.5\n"
    )
    assert err.field == "disruptions[0].capacity_fraction"


def test_unknown_scenario_name_lists_the_builtins():
    with pytest.raises(ScenarioError, match="baseline"):
        load_scenario("no-such-scenario")


def test_missing_file():
    with pytest.raises(ScenarioError, match="no scenario file"):
        load_scenario("missing/file.yaml")


def test_extends_a_sibling_file(tmp_path: Path):
    (tmp_path / "parent.yaml").write_text("extends: baseline\nname: parent\nhorizon: 2d\n")
    (tmp_path / "child.yaml").write_text("extends: parent.yaml\nname: child\n")
    sc = load_scenario(tmp_path / "child.yaml")
    assert sc.name == "child"
    assert sc.horizon == 2 * 1440


def test_written_scenarios_load_back_identically():
    for name in builtin_names():
        sc = load_scenario(name)
        again = scenario_from_text(scenario_to_yaml(sc))
        assert again == sc
        assert scenario_hash(again) == scenario_hash(sc)


def test_hash_changes_with_content():
    a = load_scenario("baseline")
    b = scenario_from_text("extends: baseline\nhorizon: 6d\n")
    assert scenario_hash(a) != scenario_hash(b)


@pytest.mark.parametrize("name", ["../builtin/baseline", "/etc/passwd", "builtin/baseline"])
def test_a_builtin_name_is_never_a_path(name):
    with pytest.raises(ScenarioError, match="unknown scenario"):
        scenario_from_text(f"extends: {name}\n")


def _areas(*areas: dict) -> str:
    return yaml.safe_dump({"extends": "baseline", "holding": {"southbound": {"areas": [
        {"capacity_lorries": 100, "length_km": 2, **a} for a in areas]}}})


def test_fifo_areas_must_form_one_queue():
    err = _error(_areas({"name": "a", "serves": ["dover", "folkestone"], "release": "fifo"},
                        {"name": "b", "serves": ["dover"], "release": "fifo"}))
    assert err.field == "holding.southbound.areas[1].serves"
    assert "one queue" in err.message


def test_a_decision_needs_a_call_and_calls_inside_the_horizon():
    err = _error(_areas({"name": "a", "serves": ["dover"], "decision": {"set_up": "2h"}}))
    assert err.field == "holding.southbound.areas[0].decision"
    assert "call_at_queue_lorries, call_at_forecast_lorries or call_at" in err.message
    err = _error(_areas({"name": "a", "serves": ["dover"],
                         "decision": {"call_at": ["2016-01-01T00:00"]}}))
    assert err.field == "holding.southbound.areas[0].decision.call_at[0]"


def test_facility_shares_of_a_direction_add_up_to_at_most_one():
    facility = {"direction": "southbound", "share": 0.6, "booths": 2,
                "service_time": {"distribution": "deterministic", "value": "1min"}}
    err = _error(yaml.safe_dump({"extends": "baseline", "facilities": [
        {"name": "a", **facility}, {"name": "b", **facility}]}))
    assert err.field == "facilities"
    err = _error(yaml.safe_dump({"extends": "baseline", "facilities": [
        {"name": "a", **facility, "opening_hours": [22, 6]}]}))
    assert err.field == "facilities[0].opening_hours"


@pytest.mark.parametrize("name", ["calais-strike-2015", "calais-summer-2015", "rwcs-2021"])
def test_a_shorter_horizon_keeps_the_dated_items_inside_it_and_validates(name):
    """Cutting a run short goes through the scenario model: what starts after the new
    horizon is dropped (it would be refused), everything else is unchanged."""
    full = load_scenario(name)
    late = full.disruptions[0].model_copy(update={"start": timedelta(minutes=full.horizon - 1)})
    full = full.model_copy(update={"disruptions": [*full.disruptions, late]})
    hours = 24 * 3.0
    short = with_horizon(full, hours * 60)
    assert short.horizon == hours * 60
    inside = [d for d in full.disruptions if full.start_minutes(d) < hours * 60]
    assert short.disruptions == inside and late not in short.disruptions
    if full.security is not None:
        assert all(short.minutes_after_start(c.start) < hours * 60
                   for c in short.security.changes)
    assert short.model_copy(update={"horizon": full.horizon, "disruptions": full.disruptions,
                                    "security": full.security}) == full
    assert scenario_from_mapping(short.model_dump(mode="json")) == short
    assert with_horizon(full, full.horizon) == full


@pytest.mark.parametrize(("text", "what"), [
    ("terminals:\n  dover:\n    stages:\n      - {name: a, booths: 1, service_time: "
     "{distribution: exponential, mean: 1min}}\n      - {name: a, booths: 1, service_time: "
     "{distribution: exponential, mean: 1min}}\n", "stage"),
    ("holding:\n  southbound:\n    overflow: m20\n    areas:\n"
     "      - {name: m20, capacity_lorries: 10, length_km: 1, lanes: 1, serves: [dover]}\n"
     "      - {name: m20, capacity_lorries: 10, length_km: 1, lanes: 1, serves: [dover]}\n",
     "holding area"),
])
def test_names_that_references_use_must_be_unique(text, what):
    error = _error(f"extends: baseline\n{text}")
    assert f"{what} names must be unique" in error.message
