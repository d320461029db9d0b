"""Sampling the scenario's distributions with a numpy generator."""

from __future__ import annotations

import numpy as np

from straits.scenario.schema import (
    Deterministic,
    DurationModel,
    Empirical,
    Exponential,
    FixedDuration,
    Lognormal,
    TriangularDuration,
    UniformDuration,
)

ServiceTimeModel = Exponential | Deterministic | Lognormal | Empirical


def _lognormal(rng: np.random.Generator, mean: float, cv: float, size: int) -> np.ndarray:
    """Lognormal draws with the given mean and coefficient of variation."""
    sigma2 = np.log1p(cv * cv)
    return rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), size)


def _probabilities(spec: Empirical) -> np.ndarray:
    """The empirical values' weights (equal if none given), summing to 1."""
    weights = np.asarray(spec.weights if spec.weights is not None else [1.0] * len(spec.values))
    return weights / weights.sum()


def sample_service_minutes(
    spec: ServiceTimeModel, rng: np.random.Generator, size: int
) -> np.ndarray:
    """``size`` service times in minutes."""
    if isinstance(spec, Exponential):
        return rng.exponential(spec.mean, size)
    if isinstance(spec, Deterministic):
        return np.full(size, spec.value)
    if isinstance(spec, Lognormal):
        return _lognormal(rng, spec.mean, spec.cv, size)
    return rng.choice(np.asarray(spec.values), size=size, p=_probabilities(spec))


def mean_service_minutes(spec: ServiceTimeModel) -> float:
    """The distribution's mean, used for free-flow times."""
    if isinstance(spec, Exponential | Lognormal):
        return spec.mean
    if isinstance(spec, Deterministic):
        return spec.value
    return float(np.dot(spec.values, _probabilities(spec)))


def sample_duration_minutes(spec: DurationModel, rng: np.random.Generator) -> float:
    """One duration in minutes (a fixed duration still consumes no draw)."""
    if isinstance(spec, FixedDuration):
        return spec.value
    if isinstance(spec, UniformDuration):
        return float(rng.uniform(spec.low, spec.high))
    if isinstance(spec, TriangularDuration):
        if spec.low == spec.high:
            return spec.low
        return float(rng.triangular(spec.low, spec.mode, spec.high))
    return float(_lognormal(rng, spec.mean, spec.cv, 1)[0])


def sample_durations_minutes(spec: DurationModel, rng: np.random.Generator,
                             size: int) -> np.ndarray:
    """``size`` independent durations in minutes (e.g. one per lorry)."""
    if isinstance(spec, FixedDuration):
        return np.full(size, spec.value)
    if isinstance(spec, UniformDuration):
        return rng.uniform(spec.low, spec.high, size)
    if isinstance(spec, TriangularDuration):
        if spec.low == spec.high:
            return np.full(size, spec.low)
        return rng.triangular(spec.low, spec.mode, spec.high, size)
    return _lognormal(rng, spec.mean, spec.cv, size)
