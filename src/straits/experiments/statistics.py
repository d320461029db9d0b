"""Ensemble statistics: per-KPI mean, spread, 95% t-interval and percentiles.

Replications are independent and identically distributed, so the interval for
the mean is Student's t with n-1 degrees of freedom; it needs n >= 2. The store
aggregates (in replication order); this module adds the intervals. Holding
bands come straight from :meth:`ResultsStore.bands`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from straits.experiments.store import PERCENTILES, ResultsStore

CONFIDENCE = 0.95
STATISTICS = ("mean", "p50", "p95")  # what a sweep table shows and a target tests


@dataclass(frozen=True)
class KpiStatistics:
    kpi: str
    n: int
    mean: float
    std: float | None
    ci95_low: float | None
    ci95_high: float | None
    p5: float
    p50: float
    p95: float
    min: float
    max: float

    @property
    def half_width(self) -> float | None:
        if self.ci95_low is None or self.ci95_high is None:
            return None
        return (self.ci95_high - self.ci95_low) / 2

    def as_dict(self) -> dict[str, float | int | None]:
        fields = asdict(self)
        fields.pop("kpi")
        return fields


def t_interval(mean: float, std: float | None, n: int,
               confidence: float = CONFIDENCE) -> tuple[float | None, float | None]:
    """Two-sided Student-t interval for the mean (None when n < 2)."""
    if n < 2 or std is None or math.isnan(std):
        return None, None
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * std / math.sqrt(n)
    return mean - half, mean + half


def describe(kpi: str, values: np.ndarray) -> KpiStatistics:
    """Statistics of one KPI from its values across replications."""
    values = np.asarray(values, dtype=np.float64)
    n = int(values.size)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if n >= 2 else None
    low, high = t_interval(mean, std, n)
    p5, p50, p95 = (float(v) for v in np.percentile(values, PERCENTILES))
    return KpiStatistics(kpi, n, mean, std, low, high, p5, p50, p95,
                         float(values.min()), float(values.max()))


def experiment_statistics(store: ResultsStore, experiment_id: str,
                          pattern: str | None = None) -> dict[int, list[KpiStatistics]]:
    """Per point, statistics of every KPI (or those whose name contains ``pattern``)."""
    out: dict[int, list[KpiStatistics]] = {}
    for row in store.kpi_statistics(experiment_id, pattern or "").to_pylist():
        n, mean = row["n"], float(row["mean"])
        std = None if n < 2 else float(row["std"])
        low, high = t_interval(mean, std, n)
        p5, p50, p95 = row["q"]
        out.setdefault(row["point"], []).append(
            KpiStatistics(row["kpi"], n, mean, std, low, high, p5, p50, p95, row["min"],
                          row["max"]))
    return out
