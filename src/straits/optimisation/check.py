"""The out-of-sample check: chosen plans re-run with seeds the search never saw.

A plan "holds" only if every constraint is met on the fresh replications
(relative bounds against the do-nothing plan re-run on the same fresh seeds).
The search's own estimate is never what is reported as met.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from straits.optimisation import measures
from straits.optimisation.measures import Evaluation
from straits.optimisation.search import Evaluator, Plan, Search


@dataclass
class ConstraintCheck:
    label: str
    value: float
    low: float | None
    high: float | None
    met: bool

    def as_dict(self) -> dict[str, Any]:
        return {"constraint": self.label, "value": self.value, "min": self.low,
                "max": self.high, "met": self.met}


@dataclass
class Rerun:
    """A chosen plan on fresh seeds."""

    evaluation: Evaluation
    checks: list[ConstraintCheck]

    @property
    def holds(self) -> bool:
        return all(c.met for c in self.checks)


def fresh_seed_key(seed_key: str) -> str:
    return hashlib.sha256(f"{seed_key}:out-of-sample".encode()).hexdigest()[:16]


def choose(front: list[Evaluation], count: int) -> list[Evaluation]:
    """Up to ``count`` plans spread along the front (its two ends always among them)."""
    if len(front) <= count:
        return list(front)
    if count == 1:
        return [front[0]]
    picks = sorted({round(i * (len(front) - 1) / (count - 1)) for i in range(count)})
    return [front[i] for i in picks]


def rerun(search: Search, evaluator: Evaluator, chosen: list[Evaluation], replications: int,
          extra: Sequence[tuple[Plan, dict[str, float]]] = ()
          ) -> tuple[Evaluation, list[Rerun], list[Rerun]]:
    """Re-run do-nothing, the chosen plans and ``extra`` plans (references) on fresh seeds,
    each checked against the constraints there."""
    study = search.study
    key = fresh_seed_key(search.seed_key)
    plans = [search.plan(0, {})] + [search.plan(e.plan, e.values) for e in chosen]
    results = evaluator.evaluate(plans + [p for p, _ in extra], replications, key, search.kpis)
    loaded = search.loaded

    def evaluation(plan: Plan, costs: dict[str, float] | None = None) -> Evaluation:
        return Evaluation(plan.number, plan.values, results[plan.number],
                          costs if costs is not None else loaded.costs(plan.values))

    do_nothing = evaluation(plans[0])

    def checked(fresh: Evaluation) -> Rerun:
        checks = []
        for c, v in zip(study.constraints, measures.violations(study.constraints, fresh,
                                                               do_nothing), strict=True):
            low, high = measures.bounds(c, do_nothing, fresh)
            checks.append(ConstraintCheck(c.label, measures.statistic(c, fresh, do_nothing),
                                          low, high, bool(v <= 0)))
        return Rerun(fresh, checks)

    reruns = [checked(evaluation(plan)) for plan in plans[1:]]
    others = [checked(evaluation(p, costs)) for p, costs in extra]
    return do_nothing, reruns, others
