"""The built-in scenarios are plausible against the sourced figures (facts.md)."""

from datetime import datetime

import pytest

from straits.engine.timetable import ferry_sailings, shuttle_departures
from straits.pipeline import simulate
from straits.scenario import load_scenario


def _stack_areas(scenario) -> list[str]:
    """The Kent areas used only under Operation Stack or Brock, then the open road."""
    plan = scenario.holding.southbound
    return [a.name for a in plan.areas if a.stack_or_brock] + [plan.overflow]


@pytest.fixture(scope="module")
def baseline_runs():
    scenario = load_scenario("baseline")
    return [simulate(scenario, seed).summary for seed in range(4)]


def test_baseline_never_opens_stack(baseline_runs):
    areas = _stack_areas(load_scenario("baseline"))
    assert len(areas) > 1
    for summary in baseline_runs:
        assert summary["stack_or_brock"]["hours_active"] == 0
        for area in areas:
            assert summary["holding"][area]["peak_lorries"] == 0


def test_baseline_daily_throughput_is_in_the_published_ranges(baseline_runs):
    for summary in baseline_runs:
        both_ways = 0.0
        for direction in ("southbound", "northbound"):
            d = summary["directions"][direction]
            both_ways += d["crossed_per_day"]["mean"]
            ferry, tunnel = d["routes"]["ferry"], d["routes"]["tunnel"]
            # F1.1: ~2/3 by ferry, ~1/3 by tunnel
            assert 0.6 < ferry["crossed"] / d["crossed"] < 0.73
            # F1.3: Dover's busiest days ~10,000 lorries both ways
            assert ferry["crossed_per_day_max"] <= 5_000
            # F1.9: record Le Shuttle day 7,023 both ways
            assert tunnel["crossed_per_day_max"] <= 3_512
            # F1.7: ~1.5m trucks a year in 2015 => ~2,050 a day each way
            assert 1_500 < tunnel["crossed"] / 7 < 2_300
        # F1.1: ~10,800 lorries a day across the Strait
        assert 9_700 < both_ways < 11_900


def test_sailings_and_shuttles_match_the_timetables():
    scenario = load_scenario("baseline")
    day = 1440.0 * 7
    sailings = ferry_sailings(scenario.routes["ferry"], "southbound", day)
    assert 55 <= sailings.minutes.shape[0] / 7 <= 60  # F1.4, F1.5: ~58 a day each way
    shuttles = shuttle_departures(scenario.routes["tunnel"], day)
    assert shuttles.minutes.shape[0] / 7 == pytest.approx(144, abs=1)  # F1.8: 6 an hour


def test_calais_strike_opens_stack_within_hours_and_holds_thousands():
    scenario = load_scenario("calais-strike-2015")
    first_blockade = datetime(2015, 6, 23, 6, 0)
    for seed in (1, 2):
        summary = simulate(scenario, seed).summary
        opened = datetime.fromisoformat(summary["stack_or_brock"]["first_opened"])
        assert 0 < (opened - first_blockade).total_seconds() / 3600 < 12
        assert summary["directions"]["southbound"]["queue_peak_lorries"] >= 3_000
        assert summary["holding"][_stack_areas(scenario)[0]]["peak_lorries"] >= 2_000
        # F3.2: Stack on roughly 28-32 days in 2015; the uncalibrated build is within 2x
        assert 7 <= summary["stack_or_brock"]["days_active"] <= 40
