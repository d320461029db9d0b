"""How far a candidate's predictions are from the published figures.

Each target's pass band (published range widened by its tolerance, exactly as
``straits validate`` uses it) is read as "one tolerance either side of its
centre": a prediction's distance is ``(mean - centre) / half-width``, so
``|distance| <= 1`` is a pass. The score of a candidate is the weighted mean of
squared distances; zero is every target at the centre of its band. A band of
zero width (an ordinary week opens no Stack) uses one unit of its quantity as
its half-width, so the score still says how far off a candidate is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from straits.validation.targets import Target


@dataclass(frozen=True)
class Fit:
    """One target's prediction by one candidate (mean over replications)."""

    key: str
    mean: float
    std: float | None
    replications: int
    band_low: float
    band_high: float
    distance: float
    passed: bool

    @property
    def standard_error(self) -> float | None:
        return None if self.std is None else self.std / math.sqrt(self.replications)


def fit(target: Target, mean: float, std: float | None, replications: int) -> Fit:
    low, high = target.band
    centre, half = (low + high) / 2, (high - low) / 2 or 1.0
    return Fit(target.key, mean, std, replications, low, high, (mean - centre) / half,
               target.passes(mean))


def score(fits: list[Fit], weights: dict[str, float]) -> float:
    """Weighted mean squared distance over the fitted targets."""
    total = sum(weights[f.key] for f in fits)
    return sum(weights[f.key] * f.distance ** 2 for f in fits) / total


def accepted(fits: list[Fit]) -> bool:
    """ABC acceptance: every prediction inside its target's pass band."""
    return all(f.passed for f in fits)
