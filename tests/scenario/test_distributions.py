"""Each distribution's mean and variance agree with its own draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import TypeAdapter

from straits.scenario.distributions import DurationSpec, ServiceTime

DRAWS = 200_000
Z = 4.0

SERVICE_TIMES = [
    {"distribution": "exponential", "mean": "90s"},
    {"distribution": "deterministic", "value": "45s"},
    {"distribution": "lognormal", "mean": "2min", "cv": 0.7},
    {"distribution": "empirical", "values": ["30s", "1min", "4min"], "weights": [3, 1, 1]},
    {"distribution": "empirical", "values": ["1min", "2min"]},
]
DURATIONS = [
    {"distribution": "fixed", "value": "6h"},
    {"distribution": "uniform", "low": "6h", "high": "12h"},
    {"distribution": "triangular", "low": "12h", "mode": "24h", "high": "36h"},
    {"distribution": "triangular", "low": "5h", "mode": "5h", "high": "5h"},
    {"distribution": "lognormal", "mean": "8h", "cv": 0.5},
]
MODELS = ([TypeAdapter(ServiceTime).validate_python(s) for s in SERVICE_TIMES]
          + [TypeAdapter(DurationSpec).validate_python(d) for d in DURATIONS])


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.distribution)
def test_draws_have_the_stated_mean_and_variance(model) -> None:
    draws = model.sample(np.random.default_rng(5), DRAWS)
    assert draws.shape == (DRAWS,)
    standard_error = math.sqrt(model.variance_minutes2 / DRAWS)
    assert abs(draws.mean() - model.mean_minutes) <= Z * standard_error + 1e-12
    # the sample variance's standard error, from the fourth moment of the draws
    fourth = float(((draws - draws.mean()) ** 4).mean())
    variance_error = math.sqrt(max(fourth - draws.var() ** 2, 0.0) / DRAWS)
    assert abs(draws.var() - model.variance_minutes2) <= Z * variance_error + 1e-9


@pytest.mark.parametrize("model", [MODELS[1], MODELS[len(SERVICE_TIMES)],
                                   MODELS[len(SERVICE_TIMES) + 3]], ids=str)
def test_a_point_mass_takes_no_draw(model) -> None:
    """Fixed values leave the stream as it was, so other draws do not shift."""
    rng = np.random.default_rng(1)
    model.sample(rng, 10)
    assert rng.random() == np.random.default_rng(1).random()


@pytest.mark.parametrize("model", MODELS[:len(SERVICE_TIMES)], ids=lambda m: m.distribution)
def test_a_new_mean_keeps_the_shape(model) -> None:
    changed = model.with_mean_minutes(3.0)
    assert changed.mean_minutes == pytest.approx(3.0)
    if model.mean_minutes > 0:
        cv = math.sqrt(model.variance_minutes2) / model.mean_minutes
        assert math.sqrt(changed.variance_minutes2) / 3.0 == pytest.approx(cv)


@pytest.mark.parametrize("model", MODELS[len(SERVICE_TIMES):], ids=lambda m: m.distribution)
def test_a_duration_knows_its_range(model) -> None:
    """Draws fall in [lower, upper] (upper the 99.9th percentile where unbounded), so a
    run's work can be bounded from the scenario alone."""
    draws = model.sample(np.random.default_rng(3), DRAWS)
    assert model.lower_minutes <= draws.min()
    above = float((draws > model.upper_minutes).mean())
    unbounded = model.distribution == "lognormal"
    assert above == 0.0 if not unbounded else abs(above - 0.001) <= Z * math.sqrt(0.001 / DRAWS)
    assert model.lower_minutes <= model.mean_minutes <= model.upper_minutes
