"""Running each validation scenario as a small ensemble of replications.

Replications go through the experiments' runner (:func:`run_replications`, any
executor); each worker measures its replication's targets and queue series and
returns only those, never the records, so memory stays flat however long the
ensemble. Replication ``i`` of every scenario uses the same seed (common random
numbers) from :func:`straits.experiments.seeds.fixed_base_seed` with a fixed
base, so the published validation table is reproducible and adding
replications keeps earlier ones. Results are put in replication order, so the
table does not depend on the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from straits.experiments.ensemble import run_replications
from straits.experiments.executors import Executor, InlineExecutor
from straits.experiments.seeds import fixed_base_seed
from straits.experiments.tasks import Task
from straits.pipeline import RunResult
from straits.scenario import Scenario, load_scenario, scenario_hash
from straits.validation import measures
from straits.validation.targets import TARGETS, Target

BASE_SEED = 20150623  # the first blockade of Calais (F3.1)
SERIES_STEP_MINUTES = 15.0


def replication_seed(index: int) -> int:
    """The seed of validation replication ``index``."""
    return fixed_base_seed(BASE_SEED, index)


@dataclass(frozen=True)
class ScenarioRuns:
    """Measured quantities (per target key) and queue series of N replications."""

    scenario: Scenario
    seeds: list[int]
    values: dict[str, np.ndarray]  # target key -> (N,)
    minutes: np.ndarray  # (m,) series grid
    kent_queue_lorries: np.ndarray  # (N, m)
    stack_lorries: np.ndarray  # (N, m)
    dover_queue_miles: np.ndarray  # (N, m)


def measure_replication(targets: tuple[Target, ...], minutes: np.ndarray,
                        result: RunResult) -> dict[str, Any]:
    """What validation keeps of one replication (runs in the worker)."""
    return {
        "values": {t.key: t.measure(result) for t in targets},
        "kent": measures.kent_queue_lorries_over_time(result, minutes),
        "stack": measures.stack_lorries_over_time(result, minutes),
        "dover": measures.kent_queue_km_over_time(result, minutes, "dover")
        / measures.KM_PER_MILE,
    }


def run_scenario(name: str, replications: int, targets: tuple[Target, ...] = TARGETS,
                 progress: Callable[[str, int], None] | None = None,
                 executor: Executor | None = None) -> ScenarioRuns:
    """Run ``replications`` of the built-in ``name`` and measure its targets."""
    scenario = load_scenario(name)
    mine = tuple(t for t in targets if t.scenario == name)
    minutes = np.arange(0.0, scenario.horizon + SERIES_STEP_MINUTES / 2, SERIES_STEP_MINUTES)
    seeds = [replication_seed(i) for i in range(replications)]
    key = scenario_hash(scenario)
    measure = partial(measure_replication, mine, minutes)
    tasks = (Task(scenario, key, f"{BASE_SEED:x}", i, seed, measure=measure)
             for i, seed in enumerate(seeds))
    measured: list[dict[str, Any]] = [{}] * replications
    for done, result in enumerate(run_replications(tasks, executor or InlineExecutor()), 1):
        measured[result.replication] = result.measured
        if progress is not None:
            progress(name, done)
    return ScenarioRuns(
        scenario=scenario, seeds=seeds,
        values={t.key: np.asarray([m["values"][t.key] for m in measured]) for t in mine},
        minutes=minutes,
        kent_queue_lorries=np.asarray([m["kent"] for m in measured]),
        stack_lorries=np.asarray([m["stack"] for m in measured]),
        dover_queue_miles=np.asarray([m["dover"] for m in measured]),
    )
