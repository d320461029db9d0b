"""Direction-of-effect checks over a few seeds, with a tolerance from the runs' own error.

Both arms run on the same seeds (common random numbers), so the per-seed
differences carry the noise; an effect counts when their mean clears a one-sided
t bound on its standard error (99%, n - 1 degrees of freedom), as the theory
tests do for their tolerances.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats

CONFIDENCE = 0.99


def _gap(before: Sequence[float], after: Sequence[float]) -> tuple[float, float, np.ndarray]:
    d = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    assert d.size >= 2, "an effect needs at least two paired seeds"
    se = d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(stats.t.ppf(CONFIDENCE, d.size - 1) * se), d


def assert_increases(before: Sequence[float], after: Sequence[float]) -> None:
    """``after`` exceeds ``before``, seed by seed, by more than the seeds' own noise."""
    mean, tolerance, d = _gap(before, after)
    assert mean > tolerance, f"mean gap {mean:.4g} within noise {tolerance:.4g}: {d}"


def assert_no_increase(before: Sequence[float], after: Sequence[float]) -> None:
    """``after`` does not exceed ``before`` beyond the seeds' own noise."""
    mean, tolerance, d = _gap(before, after)
    assert mean <= tolerance, f"mean rise {mean:.4g} beyond noise {tolerance:.4g}: {d}"
