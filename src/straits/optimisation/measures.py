"""KPI statistics of a plan, objectives, constraint violations and the Pareto front.

A plan's statistic is computed from its replications (the same seeds for every
plan: common random numbers) or, for ``plan.*`` KPIs, from its cost model.
Relative statistics subtract the do-nothing plan's, on the same seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from straits.optimisation.spec import DO_NOTHING, Constraint, Measure, Objective


@dataclass
class Evaluation:
    """One plan evaluated on ``replications`` replications of one seed key."""

    plan: int  # 0 = do-nothing, trial number + 1 otherwise; references are negative
    values: dict[str, Any]
    kpis: dict[str, np.ndarray]  # per replication, in replication order
    costs: dict[str, float]
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def replications(self) -> int:
        return min((len(v) for v in self.kpis.values()), default=0)

    def sample(self, kpi: str) -> np.ndarray:
        if kpi in self.costs:
            return np.array([self.costs[kpi]])
        return self.kpis[kpi]


def statistic(measure: Measure, plan: Evaluation, do_nothing: Evaluation | None) -> float:
    """The measure's statistic for ``plan`` (minus do-nothing's when relative)."""
    values = plan.sample(measure.kpi)
    value = _raw(measure, values)
    if measure.relative_to_do_nothing:
        if do_nothing is None:
            raise ValueError("a relative measure needs the do-nothing plan")
        value -= _raw(measure, _same_seeds(do_nothing.sample(measure.kpi), values))
    return value


def _same_seeds(reference: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The reference's replications that share the plan's seeds (the first ``len(values)``)."""
    return reference[:len(values)] if len(values) > 1 else reference


def _raw(measure: Measure, values: np.ndarray) -> float:
    s = measure.statistic
    if s == "mean":
        return float(np.mean(values))
    if s == "share_at_most":
        return float(np.mean(values <= measure.threshold))
    if s == "share_at_least":
        return float(np.mean(values >= measure.threshold))
    return float(np.percentile(values, float(s[1:])))


def objective_values(objectives: list[Objective], plan: Evaluation,
                     do_nothing: Evaluation | None) -> list[float]:
    return [statistic(o, plan, do_nothing) for o in objectives]


def bounds(constraint: Constraint, do_nothing: Evaluation | None,
           plan: Evaluation | None = None) -> tuple[float | None, float | None]:
    """(min, max) as numbers: ``do_nothing`` is the do-nothing plan's own statistic, on the
    plan's seeds when ``plan`` is given (common random numbers)."""
    def resolve(bound: float | str | None) -> float | None:
        if bound != DO_NOTHING:
            return bound  # type: ignore[return-value]
        if do_nothing is None:
            raise ValueError("a do_nothing bound needs the do-nothing plan")
        reference = do_nothing
        if plan is not None and constraint.kpi in plan.kpis:
            kpis = {constraint.kpi: _same_seeds(do_nothing.sample(constraint.kpi),
                                                plan.sample(constraint.kpi))}
            reference = Evaluation(do_nothing.plan, {}, kpis, do_nothing.costs)
        return statistic(constraint, reference, reference)
    return resolve(constraint.min), resolve(constraint.max)


def violations(constraints: list[Constraint], plan: Evaluation,
               do_nothing: Evaluation | None) -> list[float]:
    """Per constraint, how far outside its bounds (<= 0 is met), scaled by the bound."""
    out = []
    for c in constraints:
        value = statistic(c, plan, do_nothing)
        low, high = bounds(c, do_nothing, plan)
        worst = -np.inf
        for bound, excess in ((high, value - (high or 0.0)), (low, (low or 0.0) - value)):
            if bound is not None:
                worst = max(worst, excess / max(abs(bound), 1.0))
        out.append(float(worst))
    return out


def oriented(objectives: list[Objective], values: list[float]) -> np.ndarray:
    """Objective values turned so that smaller is better."""
    signs = np.array([1.0 if o.direction == "minimise" else -1.0 for o in objectives])
    return np.asarray(values, dtype=float) * signs


def front_ranks(points: np.ndarray, violation: np.ndarray) -> np.ndarray:
    """Non-domination rank of every point (0 = the front), feasible before infeasible.

    Constrained domination (Deb): a feasible point beats an infeasible one, two
    infeasible points compare by total violation, two feasible ones by Pareto
    dominance of their (minimised) objectives.
    """
    n = len(points)
    excess = np.maximum(violation, 0.0).sum(axis=1) if violation.size else np.zeros(n)
    feasible = excess <= 0

    def dominates(a: int, b: int) -> bool:
        if feasible[a] != feasible[b]:
            return bool(feasible[a])
        if not feasible[a]:
            return bool(excess[a] < excess[b])
        return bool(np.all(points[a] <= points[b]) and np.any(points[a] < points[b]))

    ranks = np.full(n, -1)
    left = set(range(n))
    rank = 0
    while left:
        layer = {a for a in left if not any(dominates(b, a) for b in left if b != a)}
        for a in layer:
            ranks[a] = rank
        left -= layer
        rank += 1
    return ranks
