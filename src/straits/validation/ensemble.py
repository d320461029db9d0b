"""Running each validation scenario as a small ensemble of replications.

Replication ``i`` of every scenario uses the same seed (common random
numbers), derived from a fixed base with numpy's SeedSequence, so a
validation run is reproducible and adding replications keeps earlier ones.
Only the measured quantities and 15-minute queue series are kept, never the
records, so memory stays flat however long the ensemble.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from straits.pipeline import simulate
from straits.scenario import Scenario, load_scenario
from straits.validation import measures
from straits.validation.targets import TARGETS, Target

BASE_SEED = 20150623  # the first blockade of Calais (F3.1)
SERIES_STEP_MINUTES = 15.0


def replication_seed(index: int) -> int:
    """The seed of replication ``index``: reproducible, independent streams."""
    return int(np.random.SeedSequence([BASE_SEED, index]).generate_state(1)[0])


@dataclass(frozen=True)
class ScenarioEnsemble:
    """Measured quantities (per target key) and queue series of N replications."""

    scenario: Scenario
    seeds: list[int]
    values: dict[str, np.ndarray]  # target key -> (N,)
    minutes: np.ndarray  # (m,) series grid
    kent_queue_lorries: np.ndarray  # (N, m)
    stack_lorries: np.ndarray  # (N, m)
    dover_queue_miles: np.ndarray  # (N, m)


def run_scenario(name: str, replications: int, targets: tuple[Target, ...] = TARGETS,
                 progress: Callable[[str, int], None] | None = None) -> ScenarioEnsemble:
    """Run ``replications`` of the built-in ``name`` and measure its targets."""
    scenario = load_scenario(name)
    mine = [t for t in targets if t.scenario == name]
    minutes = np.arange(0.0, scenario.horizon + SERIES_STEP_MINUTES / 2, SERIES_STEP_MINUTES)
    seeds = [replication_seed(i) for i in range(replications)]
    values: dict[str, list[float]] = {t.key: [] for t in mine}
    kent, stack, dover = [], [], []
    for i, seed in enumerate(seeds):
        result = simulate(scenario, seed)
        for t in mine:
            values[t.key].append(t.measure(result))
        kent.append(measures.kent_queue_lorries_over_time(result, minutes))
        stack.append(measures.stack_lorries_over_time(result, minutes))
        dover.append(measures.kent_queue_km_over_time(result, minutes, "dover")
                     / measures.KM_PER_MILE)
        if progress is not None:
            progress(name, i + 1)
    return ScenarioEnsemble(
        scenario=scenario, seeds=seeds,
        values={k: np.asarray(v) for k, v in values.items()},
        minutes=minutes, kent_queue_lorries=np.asarray(kent), stack_lorries=np.asarray(stack),
        dover_queue_miles=np.asarray(dover),
    )


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and its t-based confidence interval (the mean twice when N = 1)."""
    mean = float(np.mean(values))
    n = values.shape[0]
    if n < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * np.std(values, ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half
