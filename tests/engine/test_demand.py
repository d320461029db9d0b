"""Demand weights apply to clock hours and weekdays, whatever minute the run starts."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from tests.conftest import scenario_with

NIGHT_ONLY = [1.0] * 6 + [0.0] * 18  # clock hours 00-05
TUESDAY_ONLY = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def _arrival_times(scenario, seed: int) -> list[datetime]:
    records = run_replication(scenario, seed)
    return [scenario.start + timedelta(minutes=float(m))
            for d in records.directions.values() for m in d.arrival_minutes]


@settings(max_examples=10, deadline=None)
@example(start_minute=30, start_second=0, seed=1)
@given(start_minute=st.integers(1, 59), start_second=st.integers(0, 59),
       seed=st.integers(0, 2**16))
def test_zero_weight_clock_hours_get_no_arrivals(start_minute: int, start_second: int,
                                                 seed: int) -> None:
    weights = {"hour_of_day": NIGHT_ONLY, "day_of_week": [1.0] * 7, "lorries_per_day": 5000}
    scenario = scenario_with(
        {"demand.southbound": weights, "demand.northbound": weights},
        start=f"2015-06-08T00:{start_minute:02d}:{start_second:02d}", horizon="2d",
    )
    hours = {t.hour for t in _arrival_times(scenario, seed)}
    assert hours, "the night hours did get lorries"
    assert hours <= set(range(6))


@settings(max_examples=5, deadline=None)
@example(start_minute=30, seed=1)
@given(start_minute=st.integers(1, 59), seed=st.integers(0, 2**16))
def test_zero_weight_weekdays_get_no_arrivals(start_minute: int, seed: int) -> None:
    weights = {"hour_of_day": [1.0] * 24, "day_of_week": TUESDAY_ONLY, "lorries_per_day": 2000}
    scenario = scenario_with(
        {"demand.southbound": weights, "demand.northbound": weights},
        start=f"2015-06-08T23:{start_minute:02d}", horizon="3d",  # Monday night to Thursday
    )
    days = {t.weekday() for t in _arrival_times(scenario, seed)}
    assert days == {1}


def test_an_on_the_hour_start_keeps_the_hourly_volumes() -> None:
    """The mean hourly count matches the weighted rate (Poisson error, 4 standard errors)."""
    weights = {"hour_of_day": NIGHT_ONLY, "day_of_week": [1.0] * 7, "lorries_per_day": 4800}
    scenario = scenario_with({"demand.southbound": weights}, start="2015-06-08T00:00",
                             horizon="7d")
    arrivals = run_replication(scenario, 3).directions["southbound"].arrival_minutes
    per_hour = np.bincount((arrivals // 60).astype(int) % 24, minlength=24) / 7
    expected = 4800 / 24 * np.array(NIGHT_ONLY) / np.mean(NIGHT_ONLY)
    error = np.sqrt(expected / 7)
    assert np.all(np.abs(per_hour - expected) <= 4 * error + 1e-12)
