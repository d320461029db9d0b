"""Parameter uncertainty in ensembles: corridor (and era scenario) values drawn from a
calibration's accepted set, as well as random seeds.

The ensemble gets one point per drawn vector (the scenario with that vector's
values), every point with the same seeds, and its statistics pool every run of
every point: the spread then holds what we do not know about the corridor as
well as the randomness of one day.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from straits.calibration import smc
from straits.calibration.spec import inherited_paths
from straits.experiments.ensemble import Experiment, make_point
from straits.experiments.statistics import KpiStatistics, describe
from straits.experiments.store import ResultsStore
from straits.experiments.sweep import apply_overrides, scenario_mapping
from straits.scenario import Scenario, ScenarioError, scenario_hash

RESULT_FILE = "calibration.json"  # written by straits.calibration.acceptance
SHIPPED = Path(__file__).parent / "builtin"  # <spec name>.accepted.json: shipped accepted sets


@dataclass(frozen=True)
class Accepted:
    """A calibration's accepted vectors and the values they replace (path -> the value
    its home, the corridor or an era scenario, sets)."""

    vectors: list[dict[str, Any]]
    home_values: dict[str, Any]
    weights: list[float] | None = None  # smc: importance weights (else all alike)


def load_accepted(path: Path) -> Accepted:
    """The accepted set of a calibration: its ``--out`` folder, its JSON file, or the
    name of a shipped calibration (so users get parameter bands without the fit's run)."""
    file = _result_file(path)
    flag = "--parameter-uncertainty"
    if not file.is_file():
        shipped = ", ".join(sorted(p.name.removesuffix(".accepted.json")
                                   for p in SHIPPED.glob("*.accepted.json")))
        raise ScenarioError(flag, f"no {RESULT_FILE} at {str(file)!r}; give a `straits "
                                  f"calibrate --out` folder or a shipped calibration ({shipped})")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        weights = [float(t["weight"]) for t in data["accepted"] if "weight" in t]
        accepted = Accepted([t["values"] for t in data["accepted"]],
                            {p["path"]: _home_value(p) for p in data["parameters"]},
                            weights if len(weights) == len(data["accepted"]) else None)
    except (ValueError, KeyError, TypeError):
        raise ScenarioError(flag, f"{str(file)!r} is not a calibration result") from None
    if not accepted.vectors:
        raise ScenarioError(flag, f"{str(file)!r} accepted no parameter vector; calibrate "
                                  "with more trials or wider bounds")
    return accepted


def _home_value(parameter: dict[str, Any]) -> Any:
    # `corridor_value` in calibrations written before a value could live in a scenario
    return parameter["home_value"] if "home_value" in parameter else parameter["corridor_value"]


def _result_file(path: Path) -> Path:
    if path.is_dir():
        return path / RESULT_FILE
    shipped = SHIPPED / f"{path}.accepted.json"
    return shipped if not path.exists() and shipped.is_file() else path


def draw_vectors(vectors: list[dict[str, Any]], count: int, key: str,
                 weights: list[float] | None = None) -> list[dict[str, Any]]:
    """``count`` vectors seeded by ``key``: without replacement (all of them if fewer)
    when they are alike; with weights (an smc posterior), ``count`` draws in proportion
    to them (systematic resampling), so a vector may recur: the pooled statistics then
    count it as often as the posterior does."""
    rng = np.random.default_rng(int(key, 16))
    if weights is not None:
        return [vectors[i] for i in smc.systematic_resample(np.array(weights), count, rng)]
    chosen = rng.permutation(len(vectors))[:count]
    return [vectors[i] for i in sorted(chosen)]


def uncertain_ensemble(scenario: Scenario, accepted: Accepted, vectors: int,
                       replications: int) -> Experiment:
    """An ensemble over ``vectors`` accepted vectors: one point each, common seeds.

    A value the scenario sets itself (an event's own, not its home's) or lacks (a
    passenger value in a lorry-only scenario) is kept.
    """
    key = scenario_hash(scenario)
    mapping = scenario_mapping(scenario)
    inherited = inherited_paths(mapping, accepted.home_values)
    points = []
    for i, v in enumerate(draw_vectors(accepted.vectors, vectors, key, accepted.weights)):
        own = {path: v[path] for path in inherited}
        points.append(make_point(i, apply_overrides(mapping, own), own))
    return Experiment("ensemble", scenario, points, replications, key,
                      {"parameter_uncertainty": len(points)})


def pooled_statistics(store: ResultsStore, experiment: Experiment) -> list[KpiStatistics]:
    """Statistics of every KPI over all runs of all points (the mixture)."""
    pooled: dict[str, list[float]] = {}
    for row in store.kpi_values(experiment.experiment_id).to_pylist():  # by point, then KPI
        pooled.setdefault(row["kpi"], []).extend(row["values"])
    return [describe(kpi, np.asarray(values)) for kpi, values in sorted(pooled.items())]
