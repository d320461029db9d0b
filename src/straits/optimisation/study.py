"""A whole study: search, front, references, and the out-of-sample re-run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from straits.optimisation import measures
from straits.optimisation.check import Rerun, choose, rerun
from straits.optimisation.measures import Evaluation
from straits.optimisation.search import Evaluator, Plan, Search, SearchResult
from straits.optimisation.spec import LoadedStudy, Measure


@dataclass
class StudyResult:
    loaded: LoadedStudy
    search: Search
    found: SearchResult
    reruns: list[Rerun]  # the chosen plans on fresh seeds, in front order
    fresh_do_nothing: Evaluation
    references: list[tuple[Evaluation, Rerun]]  # (search seeds, fresh seeds)

    @property
    def recommended(self) -> Rerun | None:
        """The best plan on the first objective among those that hold out of sample."""
        holding = [r for r in self.reruns if r.holds]
        return holding[0] if holding else None

    def row(self, e: Evaluation, reference: Evaluation | None = None) -> dict[str, Any]:
        """A plan's objectives, constraints and shown KPIs as one flat row."""
        return plan_row(self.loaded, e, reference or self.found.do_nothing)


def plan_row(loaded: LoadedStudy, e: Evaluation, base: Evaluation) -> dict[str, Any]:
    """A plan's values, objectives, constraints and shown KPIs (``base``: do-nothing)."""
    study = loaded.study
    row: dict[str, Any] = {"plan": e.label or f"plan {e.plan}", "replications": e.replications}
    row.update({v.path: e.values.get(v.path, loaded.defaults[v.path]) for v in study.variables})
    row.update({m.label: measures.statistic(m, e, base) for m in study.measures})
    row.update({f"mean {k}": measures.statistic(_mean(k), e, base) for k in study.show})
    row["cost of measures £"] = e.costs["plan.cost_gbp"]
    return row


def _mean(kpi: str) -> Measure:
    return Measure(kpi=kpi)


def run_study(loaded: LoadedStudy, evaluator: Evaluator, out: Path, trials: int | None = None,
              replications: int | None = None, seed: int | None = None,
              on_batch: Callable[[int, int], None] | None = None,
              watch: Callable[[Search, int], None] | None = None) -> StudyResult:
    """Search, then re-run the chosen plans and the references on fresh seeds.

    ``watch(search, plans_tried)`` is called after each batch (the dashboard reads the
    front so far); an exception it raises stops the study there (resumable).
    """
    budget = loaded.study.budget
    search = Search(loaded, evaluator, out, trials, replications, seed)

    def batch_done(done: int, total: int) -> None:
        if on_batch is not None:
            on_batch(done, total)
        if watch is not None:
            watch(search, done)

    search.on_batch = batch_done
    found = search.run()
    references = [(Plan(-1 - i, {}, scenario), _reference_costs(ref.cost_gbp))
                  for i, (ref, scenario) in enumerate(loaded.references)]
    reference_runs = []
    if references:
        plans = [p for p, _ in references]
        results = evaluator.evaluate(plans, search.front_replications, search.seed_key,
                                     search.kpis)
        reference_runs = [Evaluation(p.number, {}, results[p.number], costs, label=ref.name)
                          for (p, costs), (ref, _) in zip(references, loaded.references,
                                                          strict=True)]
    chosen = choose(found.front, budget.rerun_plans)
    fresh_do_nothing, reruns, fresh_refs = rerun(search, evaluator, chosen,
                                                 budget.rerun_replications, references)
    fresh_do_nothing.label = "do-nothing"
    for fresh, ref in zip(fresh_refs, reference_runs, strict=True):
        fresh.evaluation.label = ref.label
    return StudyResult(loaded, search, found, reruns, fresh_do_nothing,
                       list(zip(reference_runs, fresh_refs, strict=True)))


def _reference_costs(cost_gbp: float) -> dict[str, float]:
    return {"plan.cost_gbp": cost_gbp, "plan.capital_gbp": float("nan"),
            "plan.running_gbp": float("nan")}
