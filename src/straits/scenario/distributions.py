"""Distributions of service times and disruption durations, in minutes.

Each one knows its mean, its variance and how to draw from a numpy generator,
so the engine, the security coupling, the web levers and the benchmarks ask
the distribution instead of switching on its type (as Ciw's distributions do).
Durations also know their range (``lower_minutes``, ``upper_minutes``; the
99.9th percentile where unbounded), so a run's work can be bounded before it starts.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from straits.scenario.common import StrictModel, Weight
from straits.scenario.limits import (
    MAX_EMPIRICAL_VALUES,
    MAX_SERVICE_MINUTES,
    MIN_MEAN_SERVICE_MINUTES,
)
from straits.scenario.units import Minutes, NonNegativeMinutes, PositiveMinutes, minutes_between

CoefficientOfVariation = Annotated[float, Field(gt=0, le=10)]
MeanServiceMinutes = Annotated[
    Minutes, minutes_between(MIN_MEAN_SERVICE_MINUTES, MAX_SERVICE_MINUTES)
]
ServiceMinutes = Annotated[Minutes, minutes_between(0.0, MAX_SERVICE_MINUTES)]
_Z_999 = 3.090232  # standard normal 99.9th percentile


def _lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Lognormal draws with the given mean and coefficient of variation."""
    sigma2 = np.log1p(cv * cv)
    return rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)


class _LognormalShape:
    """Mean, variance and draws of a lognormal given by ``mean`` and ``cv``."""

    mean: float
    cv: float

    @property
    def mean_minutes(self) -> float:
        return self.mean

    @property
    def variance_minutes2(self) -> float:
        return (self.cv * self.mean) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return _lognormal(rng, self.mean, self.cv, n)


class _PointMass:
    """Mean, variance and draws of a fixed ``value``."""

    value: float

    @property
    def mean_minutes(self) -> float:
        return self.value

    @property
    def variance_minutes2(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` copies of the value (no draw is taken, so other streams do not shift)."""
        return np.full(n, self.value)


# --- service times -------------------------------------------------------------


class Exponential(StrictModel):
    distribution: Literal["exponential"]
    mean: MeanServiceMinutes

    @property
    def mean_minutes(self) -> float:
        return self.mean

    @property
    def variance_minutes2(self) -> float:
        return self.mean**2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean, n)

    def with_mean_minutes(self, minutes: float) -> Exponential:
        return self.model_copy(update={"mean": minutes})


class Deterministic(_PointMass, StrictModel):
    distribution: Literal["deterministic"]
    value: ServiceMinutes

    def with_mean_minutes(self, minutes: float) -> Deterministic:
        return self.model_copy(update={"value": minutes})


class Lognormal(_LognormalShape, StrictModel):
    distribution: Literal["lognormal"]
    mean: MeanServiceMinutes
    cv: CoefficientOfVariation

    def with_mean_minutes(self, minutes: float) -> Lognormal:
        return self.model_copy(update={"mean": minutes})


class Empirical(StrictModel):
    """Observed service times, sampled with their weights (equal if omitted)."""

    distribution: Literal["empirical"]
    values: Annotated[list[ServiceMinutes], Field(min_length=1, max_length=MAX_EMPIRICAL_VALUES)]
    weights: list[Weight] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self

    @property
    def probabilities(self) -> np.ndarray:
        """The values' weights (equal if none given), summing to 1."""
        weights = np.asarray(self.weights if self.weights is not None
                             else [1.0] * len(self.values))
        return weights / weights.sum()

    @property
    def mean_minutes(self) -> float:
        return float(np.dot(self.values, self.probabilities))

    @property
    def variance_minutes2(self) -> float:
        deviation = np.asarray(self.values) - self.mean_minutes
        return float(np.dot(deviation**2, self.probabilities))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values), size=n, p=self.probabilities)

    def with_mean_minutes(self, minutes: float) -> Empirical | Deterministic:
        """The same shape scaled to the new mean (all zero: a fixed value)."""
        mean = self.mean_minutes
        if mean <= 0:
            return Deterministic(distribution="deterministic", value=minutes)
        return self.model_copy(update={"values": [v * minutes / mean for v in self.values]})


ServiceTimeModel = Exponential | Deterministic | Lognormal | Empirical
ServiceTime = Annotated[ServiceTimeModel, Field(discriminator="distribution")]


# --- disruption durations -------------------------------------------------------


class _Bounded:
    """The range of a duration drawn between ``low`` and ``high``."""

    low: float
    high: float

    @property
    def lower_minutes(self) -> float:
        return self.low

    @property
    def upper_minutes(self) -> float:
        return self.high


class UniformDuration(_Bounded, StrictModel):
    distribution: Literal["uniform"]
    low: NonNegativeMinutes
    high: NonNegativeMinutes

    @model_validator(mode="after")
    def _ordered(self) -> UniformDuration:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self

    @property
    def mean_minutes(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance_minutes2(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)


class TriangularDuration(_Bounded, StrictModel):
    distribution: Literal["triangular"]
    low: NonNegativeMinutes
    mode: NonNegativeMinutes
    high: NonNegativeMinutes

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDuration:
        if not self.low <= self.mode <= self.high:
            raise ValueError("need low <= mode <= high")
        return self

    @property
    def mean_minutes(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance_minutes2(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Triangular draws (a point mass at ``low == high`` takes no draw)."""
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, n)


class LognormalDuration(_LognormalShape, StrictModel):
    distribution: Literal["lognormal"]
    mean: PositiveMinutes
    cv: CoefficientOfVariation

    @property
    def lower_minutes(self) -> float:
        return 0.0

    @property
    def upper_minutes(self) -> float:
        """The 99.9th percentile: unbounded above, so the costliest duration worth planning for."""
        sigma = math.sqrt(math.log1p(self.cv**2))
        return self.mean * math.exp(_Z_999 * sigma - sigma**2 / 2)


class FixedDuration(_PointMass, StrictModel):
    distribution: Literal["fixed"] = "fixed"
    value: NonNegativeMinutes

    @property
    def lower_minutes(self) -> float:
        return self.value

    @property
    def upper_minutes(self) -> float:
        return self.value


def _fixed_if_string(value: object) -> object:
    return {"distribution": "fixed", "value": value} if isinstance(value, str) else value


DurationModel = FixedDuration | UniformDuration | TriangularDuration | LognormalDuration
DurationSpec = Annotated[
    DurationModel, BeforeValidator(_fixed_if_string), Field(discriminator="distribution")
]
"""A duration: a unit string such as ``12h`` (fixed) or a distribution."""
