"""Numbers read the same in the terminal and in reports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from straits.report.kpi_table import format_value, unit_label
from straits.report.text import KM_PER_MILE, distance_text, duration_text


@given(st.floats(min_value=120, max_value=1e6))
def test_long_durations_read_back_to_the_minute(minutes):
    hours, rest = duration_text(minutes).removesuffix(" h").replace(",", "").split(":")
    assert int(hours) * 60 + int(rest) == round(minutes)
    assert 0 <= int(rest) < 60


@given(st.floats(min_value=0, max_value=5000))
def test_distances_carry_miles(km):
    text = distance_text(km)
    miles = float(text.split("(")[1].removesuffix(" mi)").replace(",", ""))
    assert miles == pytest.approx(km / KM_PER_MILE, abs=0.051)


def test_report_delays_and_lengths_format_like_the_terminal():
    assert format_value(1725.7, "min") == duration_text(1725.7) == "28:46 h"
    assert format_value(54.0, "km") == "54.0 km (33.6 mi)"
    assert unit_label("min") == unit_label("km") == "" and unit_label("lorries") == "lorries"
