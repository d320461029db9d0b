"""Parameter uncertainty in ensembles: corridor values drawn from a calibration's
accepted set, as well as random seeds.

The ensemble gets one point per drawn vector (the scenario with that vector's
values), every point with the same seeds, and its statistics pool every run of
every point: the spread then holds what we do not know about the corridor as
well as the randomness of one day.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from straits import __version__
from straits.calibration.acceptance import RESULT_FILE
from straits.experiments.ensemble import Experiment, make_point
from straits.experiments.statistics import KpiStatistics, describe
from straits.experiments.store import ResultsStore
from straits.experiments.sweep import apply_overrides, scenario_mapping
from straits.scenario import Scenario, ScenarioError, scenario_hash

DEFAULT_VECTORS = 10


def load_accepted(path: Path) -> list[dict[str, Any]]:
    """The accepted parameter vectors of a calibration (its folder or its JSON file)."""
    file = path / RESULT_FILE if path.is_dir() else path
    flag = "--parameter-uncertainty"
    if not file.is_file():
        raise ScenarioError(flag, f"no {RESULT_FILE} at {str(file)!r}; give a `straits "
                                  "calibrate --out` folder")
    try:
        vectors = [t["values"] for t in json.loads(file.read_text(encoding="utf-8"))["accepted"]]
    except (ValueError, KeyError, TypeError):
        raise ScenarioError(flag, f"{str(file)!r} is not a calibration result") from None
    if not vectors:
        raise ScenarioError(flag, f"{str(file)!r} accepted no parameter vector; calibrate "
                                  "with more trials or wider bounds")
    return vectors


def draw_vectors(vectors: list[dict[str, Any]], count: int, key: str) -> list[dict[str, Any]]:
    """``count`` vectors drawn without replacement (all of them if fewer), seeded by ``key``."""
    rng = np.random.default_rng(int(key, 16))
    chosen = rng.permutation(len(vectors))[:count]
    return [vectors[i] for i in sorted(chosen)]


def uncertain_ensemble(scenario: Scenario, vectors: list[dict[str, Any]],
                       replications: int) -> Experiment:
    """An ensemble over parameter vectors: one point each, common seeds."""
    mapping = scenario_mapping(scenario)
    points = [make_point(i, apply_overrides(mapping, v), v) for i, v in enumerate(vectors)]
    key = scenario_hash(scenario)
    return Experiment("ensemble", scenario, points, replications, key,
                      {"parameter_uncertainty": len(vectors)})


def pooled_statistics(store: ResultsStore, experiment: Experiment) -> list[KpiStatistics]:
    """Statistics of every KPI over all runs of all points (the mixture)."""
    table = store.query(
        "SELECT k.kpi, list(k.value ORDER BY p.point, r.replication) AS v "
        "FROM experiment_points p JOIN runs r ON r.scenario_hash = p.scenario_hash "
        "AND r.seed_key = p.seed_key JOIN kpis k USING (run_id) "
        "WHERE p.experiment_id = ? AND r.replication < ? AND r.straits_version = ? "
        "GROUP BY k.kpi ORDER BY k.kpi",
        [experiment.experiment_id, experiment.replications, __version__])
    return [describe(kpi, np.asarray(values))
            for kpi, values in zip(table["kpi"].to_pylist(), table["v"].to_pylist(),
                                   strict=True)]
