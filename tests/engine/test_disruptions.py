"""Disruptions become the capacity changes they promise."""

import numpy as np
import pytest

from straits.engine import run_replication
from straits.engine.disruptions import (
    apply_to_departures,
    booth_schedule,
    sample_windows,
    speed_schedule,
)
from straits.engine.timetable import ferry_sailings
from tests.conftest import scenario_with, stage_index
from tests.engine.invariants import check_records


def _windows(disruptions, horizon="2d", seed=0):
    scenario = scenario_with(horizon=horizon, disruptions=disruptions)
    return scenario, sample_windows(scenario, np.random.default_rng(seed))


def test_a_blockade_lets_the_stated_fraction_of_sailings_run():
    scenario, windows = _windows([{"kind": "blockade", "target": "ferry", "start": "+0h",
                                   "duration": "2d", "capacity_fraction": 0.25}])
    ferry = scenario.routes["ferry"]
    sailings = ferry_sailings(ferry, "southbound", scenario.horizon)
    capacity = apply_to_departures(windows, "ferry", "southbound", sailings, ferry.vessels)
    running = (capacity > 0).mean()
    assert running == pytest.approx(0.25, abs=1 / sailings.minutes.shape[0] + 1e-9)
    # evenly spread: never two running sailings in a row at a quarter
    assert not np.any((capacity[1:] > 0) & (capacity[:-1] > 0))


def test_withdrawn_vessels_lose_exactly_their_own_sailings():
    scenario, windows = _windows([{"kind": "vessels_withdrawn", "start": "+0h",
                                   "duration": "2d", "vessels": 3}])
    ferry = scenario.routes["ferry"]
    sailings = ferry_sailings(ferry, "northbound", scenario.horizon)
    capacity = apply_to_departures(windows, "ferry", "northbound", sailings, ferry.vessels)
    withdrawn = set(range(ferry.vessels - 3, ferry.vessels))  # the last three of the fleet
    assert set(sailings.vessel[capacity == 0]) == withdrawn
    assert np.all(capacity[np.isin(sailings.vessel, list(withdrawn))] == 0)


def test_staffing_sets_booths_and_a_strike_scales_them():
    _, windows = _windows([
        {"kind": "staffing", "target": "dover", "stage": "check_in", "start": "+2h",
         "duration": "4h", "booths": 3},
        {"kind": "strike", "target": "dover", "start": "+4h", "duration": "4h",
         "capacity_fraction": 0.5},
    ])
    initial, changes = booth_schedule(windows, "dover", "check_in", 8)
    assert initial == 8
    assert changes == [(120.0, 3), (240.0, 2), (360.0, 4), (480.0, 8)]


def test_turn_backs_combine_and_slowdowns_multiply():
    _, windows = _windows([
        {"kind": "turn_back", "target": "dover", "stage": "french_border", "start": "+0h",
         "duration": "1d", "share": 0.5},
        {"kind": "turn_back", "target": "dover", "stage": "french_border", "start": "+0h",
         "duration": "1d", "share": 0.5},
        {"kind": "border_slowdown", "target": "dover", "start": "+0h", "duration": "1d",
         "multiplier": 2, "added": "30s"},
    ])
    times, multiplier, added, turned = speed_schedule(windows, "dover", "french_border")
    assert times.tolist() == [0.0, 1440.0]
    assert multiplier.tolist() == [2.0, 1.0]
    assert added.tolist() == [0.5, 0.0]
    assert turned.tolist() == [0.75, 0.0]


def test_turned_back_lorries_leave_in_the_stated_share_and_free_their_room():
    scenario = scenario_with(horizon="2d", disruptions=[
        {"kind": "turn_back", "target": "dover", "stage": "french_border", "start": "+0h",
         "duration": "1d", "share": 0.4}])
    records = run_replication(scenario, 11)
    check_records(records, scenario)
    dr = records.directions["southbound"]
    dover = dr.terminal == dr.layout.terminals.index("dover")
    border = stage_index(scenario, "dover", "french_border")
    started = ~np.isnan(dr.stage_start_minutes[:, border]) & dover
    first_day = started & (dr.stage_start_minutes[:, border] < 1440)
    share = dr.turned_back[first_day].mean()
    n = first_day.sum()
    assert abs(share - 0.4) < 3 * np.sqrt(0.4 * 0.6 / n)
    assert not dr.turned_back[started & ~first_day].any()
    # sent back after the border stage: no later stage, no sailing
    assert np.isnan(dr.stage_start_minutes[dr.turned_back, border + 1:]).all()
    assert np.isnan(dr.departure_minutes[dr.turned_back]).all()


def test_a_demand_shock_scales_arrivals():
    base = scenario_with(horizon="2d")
    halved = scenario_with(horizon="2d", disruptions=[
        {"kind": "demand_shock", "start": "+0h", "duration": "2d", "multiplier": 0.5,
         "directions": ["southbound"]}])
    a = run_replication(base, 1).directions
    b = run_replication(halved, 1).directions
    ratio = b["southbound"].lorries / a["southbound"].lorries
    assert ratio == pytest.approx(0.5, abs=0.03)
    assert b["northbound"].lorries == a["northbound"].lorries


def test_a_closed_terminal_admits_nobody_while_shut():
    scenario = scenario_with(horizon="1d", disruptions=[
        {"kind": "closure", "target": "folkestone", "start": "+6h", "duration": "6h"}])
    dr = run_replication(scenario, 2).directions["southbound"]
    folkestone = dr.terminal == dr.layout.terminals.index("folkestone")
    starts = dr.stage_start_minutes[folkestone, 0]
    assert not np.any((starts >= 360) & (starts < 720))
