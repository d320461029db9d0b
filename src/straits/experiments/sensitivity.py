"""Global sensitivity with SALib: which parameter moves a KPI most.

Morris elementary effects (cheap screening: ``samples`` trajectories of
``parameters + 1`` points) or Sobol indices (variance shares: ``samples`` ×
``(parameters + 2)`` points, ``samples`` a power of two). Every point runs
through the same experiment machinery and store, with common random numbers
(the base scenario's seeds), so differences come from the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from straits.experiments.ensemble import Experiment, make_point
from straits.experiments.sweep import Range, apply_overrides, scenario_mapping
from straits.scenario import Scenario, scenario_hash

METHODS = ("morris", "sobol")
MORRIS_LEVELS = 4


@dataclass(frozen=True)
class Ranking:
    """One parameter's effect on one KPI; ``score`` orders the table (mu* or ST)."""

    kpi: str
    parameter: str
    score: float
    indices: dict[str, float]


def _problem(ranges: list[Range]) -> dict[str, Any]:
    return {"num_vars": len(ranges), "names": [r.path for r in ranges],
            "bounds": [[0.0, 1.0]] * len(ranges)}


def design_units(method: str, ranges: list[Range], samples: int, seed: int) -> np.ndarray:
    """Sample points in the unit cube (one column per range)."""
    problem = _problem(ranges)
    if method == "morris":
        return morris_sample.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed)
    return sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)


def sensitivity_experiment(base: Scenario, ranges: list[Range], method: str, samples: int,
                           replications: int, fixed: dict[str, Any] | None = None
                           ) -> tuple[Experiment, np.ndarray]:
    """The experiment to run, and its unit-cube design for the analysis."""
    key = scenario_hash(base)
    units = design_units(method, ranges, samples, seed=int(key[:8], 16))
    mapping = scenario_mapping(base)
    points = []
    for i, row in enumerate(units):
        parameters = {r.path: r.value(u) for r, u in zip(ranges, row, strict=True)}
        points.append(make_point(i, apply_overrides(mapping, {**(fixed or {}), **parameters}),
                                 parameters))
    design = {"design": method, "samples": samples,
              "ranges": {r.path: [r.low, r.high] for r in ranges}, "fixed": fixed or {}}
    return Experiment("sensitivity", base, points, replications, key, design), units


def analyse(method: str, ranges: list[Range], units: np.ndarray, kpi: str,
            outputs: np.ndarray, seed: int) -> list[Ranking]:
    """Rank the parameters by their effect on ``kpi`` (largest first)."""
    problem = _problem(ranges)
    if method == "morris":
        result = morris_analyze.analyze(problem, units, outputs, num_levels=MORRIS_LEVELS,
                                        seed=seed)
        keys, score_key = ("mu", "mu_star", "sigma", "mu_star_conf"), "mu_star"
    else:
        result = sobol_analyze.analyze(problem, outputs, calc_second_order=False, seed=seed)
        keys, score_key = ("S1", "S1_conf", "ST", "ST_conf"), "ST"
    rows = [
        Ranking(kpi, r.path, float(result[score_key][i]),
                {k: float(result[k][i]) for k in keys})
        for i, r in enumerate(ranges)
    ]
    return sorted(rows, key=lambda row: -abs(row.score) if np.isfinite(row.score) else 0.0)
