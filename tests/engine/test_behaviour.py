"""The behaviour rule: off is today's engine; on, every load is accounted for and
hauliers respond the way the rule says (engine/behaviour.py, docs/model.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.engine.behaviour import hold_back_share, published_delay, shared_queue_delay
from straits.metrics import summarise
from straits.pipeline import simulate
from straits.scenario import ScenarioError, scenario_from_mapping, scenario_from_text
from tests.conftest import scenario_with
from tests.engine.invariants import check_records
from tests.engine.test_conservation import disruption
from tests.engine.test_holding_decisions import DECISION, with_decisions

DATA = Path(__file__).parent / "data"


def _golden(behaviour: dict | None):
    data = yaml.safe_load((DATA / "rule-off-golden.yaml").read_text())
    if behaviour is not None:
        data["behaviour"] = behaviour
    return scenario_from_mapping(data)


RECORD_FIELDS = ("arrival_minutes", "terminal", "turned_back", "gate_entry_minutes",
                 "stage_start_minutes", "stage_end_minutes", "departure_index",
                 "departure_minutes", "departure_capacity", "departure_load")


def _digest(records) -> dict[str, dict]:
    out = {}
    for name, dr in records.directions.items():
        for field in RECORD_FIELDS:
            array = np.ascontiguousarray(getattr(dr, field))
            out[f"{name}.{field}"] = {"dtype": str(array.dtype), "shape": list(array.shape),
                                      "sha256": hashlib.sha256(array.tobytes()).hexdigest()}
    return out


@pytest.mark.parametrize("behaviour", [None, {"enabled": False},
                                       {"enabled": False, "booked_share": 0.0,
                                        "rejoin_after": "1h"}])
def test_rule_off_gives_the_records_of_the_engine_before_it(behaviour):
    """Frozen from the engine before the rule (a closure, a suspension, turn-backs and a
    demand shock): every per-lorry and per-departure array, bit for bit."""
    records = run_replication(_golden(behaviour), 11)
    assert not any(dr.dispatch for dr in records.directions.values())
    expected = json.loads((DATA / "rule-off-golden-records.json").read_text())
    assert _digest(records) == expected


def _behaviour_scenario(behaviour: dict, disruptions: list, horizon: str = "2d", **changes):
    return scenario_with(changes, horizon=horizon, disruptions=disruptions,
                         behaviour={"enabled": True, **behaviour})


@st.composite
def behaviour_section(draw):
    return {
        "published_every": f"{draw(st.integers(10, 180))}min",
        "booked_share": draw(st.floats(0, 1)),
        "switch_penalty": f"{draw(st.integers(0, 180))}min",
        "hold_back_threshold": f"{draw(st.integers(0, 12))}h",
        "hold_back_scale": f"{draw(st.integers(1, 48))}h",
        "recheck_after": f"{draw(st.integers(10, 360))}min",
        "divert_after": f"{draw(st.integers(1, 30))}h",
        "diversions": draw(st.sampled_from([
            {}, {"far": {"share": 1.0, "extra_cost_gbp_per_lorry": 300}},
            {"west": {"share": 0.4, "extra_cost_gbp_per_lorry": 100},
             "north": {"share": 0.6, "extra_cost_gbp_per_lorry": 700}}])),
        "rejoin_after": draw(st.sampled_from([None, "3h", {"distribution": "uniform",
                                                           "low": "10min", "high": "8h"}])),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(behaviour_section(), st.integers(6, 36), st.data(), st.integers(0, 2**32 - 1))
def test_every_load_is_accounted_for(behaviour, horizon_hours, data, seed):
    """Planned = reached the corridor + diverted + still held back; reached =
    crossed + turned back + in the corridor; the planned loads are the rule-off
    arrivals, and every record still passes the engine's invariants."""
    disruptions = data.draw(st.lists(disruption(horizon_hours), max_size=3))
    scenario = _behaviour_scenario(behaviour, disruptions, horizon=f"{horizon_hours}h")
    records = run_replication(scenario, seed)
    check_records(records, scenario)
    off = run_replication(scenario.model_copy(update={"behaviour": None}), seed)
    summary = summarise(scenario, records)
    for name, dr in records.directions.items():
        dispatch = dr.dispatch
        planned = np.sort(np.concatenate([dispatch.planned_minutes,
                                          dispatch.outside_planned_minutes]))
        np.testing.assert_array_equal(planned, off.directions[name].arrival_minutes)
        assert np.all(dr.arrival_minutes >= dispatch.planned_minutes)
        assert not np.any(dr.turned_back & dispatch.rejoined), "a rejoined lorry has papers"
        if behaviour["rejoin_after"] is None:
            assert not dispatch.rejoined.any()
        if not behaviour["diversions"]:
            assert not dispatch.diverted.any()
        kpis = summary["directions"][name]
        b = kpis["behaviour"]
        assert b["planned"] == kpis["arrived"] + b["diverted"] + b["postponed_pending"]
        assert kpis["arrived"] == (kpis["crossed"] + kpis["turned_back"]
                                   + kpis["in_system_at_end"])
        assert sum(b["diverted_by_where"].values()) == b["diverted"]
        assert sum(b["switched_to"].values()) == b["switched_route"]
        assert b["postponed"] >= b["postponed_pending"]
        assert b["delay_with_postponement_minutes"]["mean"] >= kpis["delay_minutes"]["mean"] - 1e-9
    costs = {name: d["extra_cost_gbp_per_lorry"] for name, d in behaviour["diversions"].items()}
    expected = sum(count * costs[where] for d in summary["directions"].values()
                   for where, count in d["behaviour"]["diverted_by_where"].items())
    assert summary["diversion_cost_gbp"] == pytest.approx(expected, abs=1)


def _ferry_crossings(scenario, seeds) -> np.ndarray:
    crossed = []
    for seed in seeds:
        kpis = summarise(scenario, run_replication(scenario, seed))["directions"]
        crossed.append(kpis["southbound"]["routes"]["ferry"]["crossed"])
    return np.array(crossed)


def test_closing_the_tunnel_sends_unbooked_lorries_to_the_ferries():
    """Same seeds, tunnel shut for 18 h: with every lorry free to switch, more
    cross by ferry than when every lorry is booked; the margin is judged against
    the spread of the paired differences (a 99% interval above zero)."""
    closure = [{"kind": "tunnel_suspension", "start": "+4h", "duration": "18h"}]
    seeds = range(6)
    free = _ferry_crossings(_behaviour_scenario({"booked_share": 0.0}, closure, "1d"), seeds)
    booked = _ferry_crossings(_behaviour_scenario({"booked_share": 1.0}, closure, "1d"), seeds)
    gain = free - booked
    half_width = 4.03 * gain.std(ddof=1) / np.sqrt(gain.size)  # t(0.995, 5 d.f.)
    assert gain.mean() - half_width > 0, (free, booked)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_longer_announced_closure_never_lowers_the_number_postponed(seed):
    postponed = []
    for hours in (4, 8, 16, 24, 36):
        closure = [{"kind": "blockade", "target": "ferry", "start": "+6h",
                    "duration": f"{hours}h", "capacity_fraction": 0.0}]
        scenario = _behaviour_scenario({"hold_back_threshold": "2h", "hold_back_scale": "12h"},
                                       closure, "3d")
        summary = simulate(scenario, seed).summary
        postponed.append(summary["directions"]["southbound"]["behaviour"]["postponed"])
    assert postponed == sorted(postponed), postponed
    assert postponed[-1] > postponed[0]


def test_turned_back_lorries_come_back_ready():
    turn_back = [{"kind": "turn_back", "target": "dover", "stage": "french_border",
                  "start": "+1h", "duration": "12h", "share": 0.3}]
    scenario = _behaviour_scenario({"rejoin_after": "2h"}, turn_back, "1d")
    summary = simulate(scenario, 4).summary["directions"]["southbound"]
    assert summary["behaviour"]["rejoined"] > 0
    never = simulate(_behaviour_scenario({}, turn_back, "1d"), 4).summary
    assert never["directions"]["southbound"]["behaviour"]["rejoined"] == 0
    assert summary["turned_back"] < never["directions"]["southbound"]["turned_back"]


def test_hold_back_share_rises_with_the_published_delay():
    delays = np.linspace(0, 3000, 61)
    share = hold_back_share(delays, 120.0, 600.0)
    assert np.all(share[delays <= 120] == 0)
    assert np.all(np.diff(share) >= 0) and share[-1] < 1


@pytest.mark.parametrize("text, field", [
    ("behaviour:\n  diversions:\n    a: {share: 0.5, extra_cost_gbp_per_lorry: 1}\n",
     "behaviour.diversions"),
    ("behaviour:\n  hold_back_scale: 3\n", "behaviour.hold_back_scale"),
    ("behaviour:\n  booked_share: 1.5\n", "behaviour.booked_share"),
    ("behaviour:\n  rejoin_after: {distribution: uniform, low: 5h, high: 1h}\n",
     "behaviour.rejoin_after"),
    ("behaviour: {enabled: true}\nfacilities:\n- {name: checks, direction: southbound, "
     "booths: 4, share: 0.5, service_time: {distribution: deterministic, value: 10min}}\n",
     "behaviour.enabled"),
])
def test_bad_behaviour_is_refused_naming_the_field(text, field):
    with pytest.raises(ScenarioError) as err:
        scenario_from_text("extends: baseline\n" + text)
    assert err.value.field.startswith(field)


def _published(ahead: int, booths_now: int, booth_changes: list[tuple[float, int]]) -> float:
    """One terminal, one stage of 2-minute checks, a departure every 30 min carrying 50,
    none before minute 600 (an announced closure), half a headway of 15 min."""
    departures = np.arange(30.0, 1800.0, 30.0)
    capacity = np.where(departures < 600, 0, 50).astype(np.int64)
    one = np.zeros(1, dtype=np.int64)
    return published_delay(
        0, 0.0, np.array([ahead, 0, 0], dtype=np.int64), one, one, departures, capacity, one,
        np.array([0, departures.size], dtype=np.int64), np.ones(1, dtype=np.int64), one,
        np.array([booths_now], dtype=np.int64), one,
        np.array([0, len(booth_changes)], dtype=np.int64),
        np.array([m for m, _ in booth_changes], dtype=float),
        np.array([b for _, b in booth_changes], dtype=np.int64), one,
        np.array([0, 1], dtype=np.int64), np.zeros(1), np.ones(1), np.zeros(1),
        np.array([2.0]), np.array([15.0]), 2000.0)


def test_an_announced_closure_is_published_in_full():
    assert _published(0, 4, []) == 600 - 15  # the first departure after the closure
    assert _published(120, 4, []) == 660 - 15  # 120 ahead: the third sailing takes it
    # booths shut until minute 900: then 121 lorries at 2 min on 4 booths
    assert _published(120, 0, [(900.0, 4)]) == pytest.approx(900 + 121 * 2 / 4 - 15)


def test_terminals_behind_a_shared_queue_publish_its_longest_delay():
    published = np.array([30.0, 600.0, 90.0])
    shared_queue_delay(published, np.array([True, True, False]))
    np.testing.assert_array_equal(published, [600.0, 600.0, 90.0])


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(release=st.sampled_from(["fifo", "lanes"]), seed=st.integers(0, 2**32 - 1))
def test_the_rule_and_holding_decisions_together_lose_no_load(release, seed):
    """Stack called, set up and stood down (a shared ``fifo`` queue or lanes) while
    hauliers hold back, divert and rejoin: records stay valid and every planned load
    is counted once."""
    behaviour = {"enabled": True, "hold_back_threshold": "2h", "hold_back_scale": "4h",
                 "divert_after": "6h", "rejoin_after": "2h",
                 "diversions": {"far": {"share": 1.0, "extra_cost_gbp_per_lorry": 300}}}
    scenario = with_decisions(DECISION, release=release, horizon="2d", behaviour=behaviour)
    records = run_replication(scenario, seed)
    check_records(records, scenario)
    off = run_replication(scenario.model_copy(update={"behaviour": None}), seed)
    kpis = summarise(scenario, records)["directions"]["southbound"]
    dr = records.directions["southbound"]
    planned = np.concatenate([dr.dispatch.planned_minutes, dr.dispatch.outside_planned_minutes])
    assert planned.size == off.directions["southbound"].arrival_minutes.size
    b = kpis["behaviour"]
    assert b["planned"] == kpis["arrived"] + b["diverted"] + b["postponed_pending"]
    held = ~np.isnan(dr.held_minutes)
    left = ~np.isnan(dr.released_minutes)
    assert np.all(left <= held) and np.all(dr.released_minutes[left] >= dr.held_minutes[left])
