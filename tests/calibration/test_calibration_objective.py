"""The objective: a prediction's distance is within one exactly when its target passes."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from straits.calibration.objective import accepted, fit, score
from straits.validation.targets import TARGETS

WIDE = [t for t in TARGETS if t.band[1] > t.band[0]]


@given(st.sampled_from(WIDE), st.floats(-0.5, 2.5))
def test_distance_within_one_exactly_when_the_target_passes(target, where):
    low, high = target.band
    mean = low + where * (high - low)
    f = fit(target, mean, None, 3)
    assert f.passed == target.passes(mean)
    assert (abs(f.distance) <= 1 + 1e-9) == f.passed or abs(abs(f.distance) - 1) < 1e-9


def test_a_zero_width_band_counts_one_unit_as_one_tolerance():
    stack = next(t for t in TARGETS if t.key == "baseline-stack-days")
    assert fit(stack, 0.0, 0.0, 5).passed and fit(stack, 0.0, 0.0, 5).distance == 0
    off = fit(stack, 0.5, 0.5, 5)
    assert not off.passed and off.distance == 0.5


@given(st.lists(st.floats(-3, 3), min_size=2, max_size=2), st.floats(0.1, 10))
def test_score_is_the_weighted_mean_squared_distance(distances, weight):
    a, b = (replace(fit(WIDE[0], 0.0, None, 1), key=k, distance=d, passed=abs(d) <= 1)
            for k, d in zip("ab", distances, strict=True))
    expected = (distances[0] ** 2 * weight + distances[1] ** 2) / (weight + 1)
    assert abs(score([a, b], {"a": weight, "b": 1.0}) - expected) < 1e-9
    assert accepted([a, b]) == all(abs(d) <= 1 for d in distances)
