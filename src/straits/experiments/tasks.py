"""One replication as a unit of work: what a worker receives and sends back.

A worker returns only the flat KPI rows and the small 15-minute holding series,
never the per-lorry records, so results are cheap to ship between processes or
cluster nodes and the coordinator's memory does not grow with their size.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from straits.engine.records import Records
from straits.metrics.occupancy import occupancy
from straits.metrics.timeseries import STEP_MINUTES
from straits.pipeline import RunResult, simulate
from straits.scenario import Scenario

_NOT_KPIS = frozenset({"seed"})


@dataclass(frozen=True)
class Task:
    """Replication ``replication`` of ``scenario``, run with ``seed``.

    ``measure`` (a picklable function of the run, e.g. a module-level function
    or a ``functools.partial`` of one) adds what a study needs beyond the KPIs;
    it runs in the worker, where the records are.
    """

    scenario: Scenario
    scenario_hash: str
    seed_key: str
    replication: int
    seed: int
    point: int = 0
    measure: Callable[[RunResult], dict[str, Any]] | None = None


@dataclass(frozen=True)
class HoldingSeries:
    """Lorries and km queued per place every ``step_minutes`` (one row per place).

    Places are each holding area and overflow road of a direction, then the
    direction's ``total``.
    """

    step_minutes: float
    directions: list[str]
    places: list[str]
    kinds: list[str]
    lorries: np.ndarray  # (places, steps) float32
    km: np.ndarray  # (places, steps) float32


@dataclass(frozen=True)
class TaskResult:
    """What a worker sends back for one task (KPI rows and series, never records)."""

    scenario_hash: str
    seed_key: str
    replication: int
    seed: int
    point: int
    kpi_names: list[str]
    kpi_values: np.ndarray  # float64, aligned with kpi_names
    series: HoldingSeries
    simulate_seconds: float
    series_seconds: float
    worker: str
    measured: dict[str, Any] = field(default_factory=dict)  # what ``Task.measure`` returned


def flatten_kpis(summary: dict[str, Any]) -> dict[str, float]:
    """Numeric leaves of a summary under dotted keys (``directions.southbound.crossed``).

    Strings, booleans and nulls are labels, not measurements, and are left out;
    list items are keyed by their index (``disruptions.0.hours``).
    """
    flat: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, bool) or value is None or isinstance(value, str):
            return
        if isinstance(value, int | float):
            flat[prefix] = float(value)
        elif isinstance(value, dict):
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(f"{prefix}.{index}", child)

    for key, value in summary.items():
        if key not in _NOT_KPIS:
            walk(key, value)
    return flat


def holding_series(scenario: Scenario, records: Records,
                   step_minutes: float = STEP_MINUTES) -> HoldingSeries:
    """The queue in every holding area and in total, per direction, every 15 minutes.

    The holding areas come from :func:`straits.metrics.occupancy.occupancy`;
    the lorries inside terminals are left out, as bands do not need them.
    """
    minutes = np.arange(0.0, records.horizon_minutes + step_minutes / 2, step_minutes)
    directions, places, kinds, lorries, km = [], [], [], [], []
    for name, dr in records.directions.items():
        plan = getattr(scenario.holding, name)
        _, by_area, km_by_area = occupancy(dr, plan, minutes)
        area_kinds = ["holding_area"] * len(plan.areas) + ["overflow_road"]
        for a, area in enumerate(dr.area_names):
            directions.append(name)
            places.append(area)
            kinds.append(area_kinds[a])
        directions.append(name)
        places.append("total")
        kinds.append("total")
        lorries.extend([by_area, by_area.sum(axis=0, keepdims=True)])
        km.extend([km_by_area, km_by_area.sum(axis=0, keepdims=True)])
    return HoldingSeries(step_minutes, directions, places, kinds,
                         np.concatenate(lorries).astype(np.float32),
                         np.concatenate(km).astype(np.float32))


def run_task(task: Task) -> TaskResult:
    """Simulate one replication and reduce it to KPI rows and holding series."""
    began = time.perf_counter()
    result = simulate(task.scenario, task.seed)
    simulated = time.perf_counter()
    series = holding_series(task.scenario, result.records)
    kpis = flatten_kpis(result.summary)
    return TaskResult(
        scenario_hash=task.scenario_hash,
        seed_key=task.seed_key,
        replication=task.replication,
        seed=task.seed,
        point=task.point,
        kpi_names=list(kpis),
        kpi_values=np.fromiter(kpis.values(), dtype=np.float64, count=len(kpis)),
        series=series,
        simulate_seconds=simulated - began,
        series_seconds=time.perf_counter() - simulated,
        worker=f"{socket.gethostname()}:{os.getpid()}",
        measured=task.measure(result) if task.measure is not None else {},
    )
