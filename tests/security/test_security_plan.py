"""The attempt weights of each simulated hour follow the clock, whatever the start minute."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from straits.security.plan import clock_weights

NIGHT = np.array([1.0] * 6 + [0.0] * 18) / 6  # clock hours 00-05, adding to 1
WEEK = np.array([1.0, 1.0, 2.0, 1.0, 1.0, 0.5, 0.5])


@given(minute=st.integers(0, 59), days=st.integers(1, 3))
def test_each_clock_hour_weighs_the_same_whatever_the_start_minute(minute: int,
                                                                   days: int) -> None:
    start = datetime(2015, 6, 8, 0, minute)  # a Monday
    hours = 24 * days
    rows = np.ones((hours, 1))
    timing = clock_weights(start, hours, rows * NIGHT, rows * WEEK)
    # run hour h covers (1 - f) of clock hour h and f of clock hour h + 1 (from midnight)
    share = minute / 60
    clock = np.array([NIGHT[h % 24] * WEEK[(h // 24) % 7] for h in range(hours + 1)])
    np.testing.assert_allclose(timing, (1 - share) * clock[:-1] + share * clock[1:])
    covered_by_day = [h for h in range(hours) if 6 <= h % 24 <= 22]  # wholly 06:xx-23:xx
    assert not timing[covered_by_day].any()
