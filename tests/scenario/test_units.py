import pytest
from hypothesis import given
from hypothesis import strategies as st

from straits.scenario.units import format_minutes, parse_minutes


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("90s", 1.5), ("45min", 45.0), ("2h", 120.0), ("3d", 4320.0), ("1.5h", 90.0), ("0s", 0.0)],
)
def test_durations_are_read_in_minutes(text, minutes):
    assert parse_minutes(text) == pytest.approx(minutes)


@pytest.mark.parametrize("bad", [90, 1.5, "90", "2 weeks", "h", "-3h", "", None, True])
def test_a_duration_without_a_known_unit_is_refused(bad):
    with pytest.raises(ValueError, match="duration"):
        parse_minutes(bad)


@given(st.integers(min_value=0, max_value=10**7))
def test_formatting_round_trips(seconds):
    minutes = seconds / 60
    assert parse_minutes(format_minutes(minutes)) == pytest.approx(minutes, rel=1e-9, abs=1e-9)
