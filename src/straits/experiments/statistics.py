"""Ensemble statistics: per-KPI mean, spread, 95% t-interval and percentiles,
and p5/p50/p95 bands of the holding series across replications.

Replications are independent and identically distributed, so the interval for
the mean is Student's t with n-1 degrees of freedom; it needs n >= 2.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import stats

from straits import __version__
from straits.experiments.store import ResultsStore

CONFIDENCE = 0.95
PERCENTILES = (5, 50, 95)
BAND_MEMORY_BYTES = 32 * 2**20  # values held at once while computing bands


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
        if self.ci95_high is None or self.ci95_low is None:
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


_POINT_RUNS = """
SELECT p.point, r.run_id
FROM experiment_points p
JOIN runs r ON r.scenario_hash = p.scenario_hash AND r.seed_key = p.seed_key
WHERE p.experiment_id = ? AND r.replication < ? AND r.straits_version = ?
"""


def experiment_statistics(store: ResultsStore, experiment_id: str, replications: int,
                          pattern: str | None = None) -> dict[int, list[KpiStatistics]]:
    """Per point, statistics of every KPI (or those whose name contains ``pattern``)."""
    rows = store.con.execute(
        f"WITH mine AS ({_POINT_RUNS}) "
        "SELECT point, kpi, count(*), avg(value), stddev_samp(value), "
        "quantile_cont(value, [0.05, 0.5, 0.95]), min(value), max(value) "
        "FROM kpis JOIN mine USING (run_id) WHERE contains(kpi, ?) "
        "GROUP BY point, kpi ORDER BY point, kpi",
        [experiment_id, replications, __version__, pattern or ""]).fetchall()
    out: dict[int, list[KpiStatistics]] = {}
    for point, kpi, n, mean, std, (p5, p50, p95), low_value, high_value in rows:
        std = None if n < 2 else float(std)
        low, high = t_interval(mean, std, n)
        out.setdefault(point, []).append(
            KpiStatistics(kpi, n, float(mean), std, low, high, p5, p50, p95, low_value,
                          high_value))
    return out


def point_means(store: ResultsStore, experiment_id: str, replications: int,
                kpi: str) -> dict[int, float]:
    """The mean of one KPI at each point of an experiment."""
    rows = store.con.execute(
        f"WITH mine AS ({_POINT_RUNS}) SELECT point, avg(value) FROM kpis "
        "JOIN mine USING (run_id) WHERE kpi = ? GROUP BY point",
        [experiment_id, replications, __version__, kpi]).fetchall()
    return {point: float(mean) for point, mean in rows}


def holding_bands(store: ResultsStore, experiment_id: str, point: int, replications: int,
                  start: datetime) -> pa.Table:
    """p5/p50/p95 (and mean) of lorries and km queued per place, every 15 minutes.

    Exact percentiles need every replication's value at a time step. To keep
    memory flat however many replications there are, values are gathered a
    few places (or, for very large ensembles, a time window) at a time, at most
    ``BAND_MEMORY_BYTES``; each series file keeps one place per row group, so a
    pass reads only the places it needs.
    """
    files = [store.files / row[0] for row in store.con.execute(
        f"WITH mine AS ({_POINT_RUNS}) SELECT r.timeseries_file FROM mine "
        "JOIN runs r USING (run_id) WHERE mine.point = ? ORDER BY r.replication",
        [experiment_id, replications, __version__, point]).fetchall()]
    if not files:
        return pa.table({})
    layout = pq.read_table(files[0], columns=["direction", "place", "kind", "step_minutes",
                                              "lorries"])
    steps = len(layout["lorries"][0])
    place_bytes = len(files) * steps * 8  # lorries and km, float32
    per_pass = max(1, BAND_MEMORY_BYTES // place_bytes)
    window = steps if place_bytes <= BAND_MEMORY_BYTES else max(
        1, BAND_MEMORY_BYTES // (len(files) * 8))
    parts = []
    for first in range(0, layout.num_rows, per_pass):
        groups = list(range(first, min(first + per_pass, layout.num_rows)))
        for low in range(0, steps, window):
            high = min(low + window, steps)
            lorries, km = _gather(files, groups, layout["place"].to_pylist(), low, high)
            for j, g in enumerate(groups):
                row = {k: layout[k][g].as_py() for k in ("direction", "place", "kind",
                                                         "step_minutes")}
                parts.append(_band(g, row, low, start, lorries[j], km[j]))
            del lorries, km  # free before the next pass allocates
    return pa.concat_tables(parts).sort_by([("order", "ascending"), ("minutes", "ascending")]
                                           ).drop_columns(["order"])


def _gather(files: list[Path], groups: list[int], places: list[str], low: int,
            high: int) -> tuple[np.ndarray, np.ndarray]:
    """Values [low, high) of the places in row ``groups`` of every file: (places, files, steps)."""
    lorries = np.empty((len(groups), len(files), high - low), dtype=np.float32)
    km = np.empty_like(lorries)

    def read(i: int) -> None:  # each file fills its own rows: threads never share one
        reader = pq.ParquetFile(files[i])
        for j, g in enumerate(groups):
            rows = reader.read_row_group(g, columns=["place", "lorries", "km"])
            if rows["place"][0].as_py() != places[g]:
                raise ValueError(f"{files[i]} does not hold the places of the other replications")
            lorries[j, i] = rows["lorries"].combine_chunks().flatten().to_numpy()[low:high]
            km[j, i] = rows["km"].combine_chunks().flatten().to_numpy()[low:high]

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(read, range(len(files))))  # Parquet decoding releases the GIL
    return lorries, km


def _band(order: int, place: dict[str, Any], low: int, start: datetime, lorries: np.ndarray,
          km: np.ndarray) -> pa.Table:
    length = lorries.shape[1]
    minutes = (low + np.arange(length)) * place["step_minutes"]
    columns: dict[str, object] = {
        "order": np.full(length, order),
        "direction": [place["direction"]] * length,
        "place": [place["place"]] * length,
        "kind": [place["kind"]] * length,
        "time": pa.array([start + timedelta(minutes=float(m)) for m in minutes],
                         pa.timestamp("s")),
        "minutes": minutes,
        "replications": np.full(length, lorries.shape[0], dtype=np.int32),
    }
    for name, values in (("lorries", lorries), ("km", km)):
        mean = values.mean(axis=0, dtype=np.float64)
        for q, row in zip(PERCENTILES, _percentiles_in_place(values, PERCENTILES), strict=True):
            columns[f"{name}_p{q}"] = np.round(row, 3)
        columns[f"{name}_mean"] = np.round(mean, 3)
    return pa.table(columns)


def _percentiles_in_place(values: np.ndarray, percentiles: tuple[int, ...]) -> list[np.ndarray]:
    """Percentiles down the columns, linear interpolation as ``np.percentile``.

    Sorting in place avoids ``np.percentile``'s float64 working copies, which
    take several times the memory of the values themselves.
    """
    values.sort(axis=0)
    last = values.shape[0] - 1
    out = []
    for q in percentiles:
        position = last * q / 100
        below = int(np.floor(position))
        above = min(below + 1, last)
        fraction = position - below
        low = values[below].astype(np.float64)
        out.append(low + fraction * (values[above] - low))
    return out
