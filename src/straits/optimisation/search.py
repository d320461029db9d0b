"""The search: optuna proposes plans in fixed batches, the evaluator runs them.

Why batches of a fixed size, each with its own sampler seed: the plans asked
then depend only on the study, its seed and the results so far, never on the
number of workers or on an interruption, so 1 worker, 2 workers and a resumed
run give the same front. The optuna study lives in ``optuna.db`` in the output
folder; replications live in the results store, so a rerun after a kill
re-asks nothing and re-runs nothing that finished.

Each batch runs ``replications`` per plan; plans then ranked near the front
(constrained non-domination rank 0 or 1 over everything so far) get
``front_replications`` before their values are told to optuna. At the end the
front's plans are topped up to ``front_replications`` and the chosen ones are
re-run with fresh seeds (:mod:`straits.optimisation.check`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import optuna

from straits.optimisation import measures
from straits.optimisation.measures import Evaluation
from straits.optimisation.spec import LoadedStudy, StudyError
from straits.scenario import Scenario, scenario_hash

NEAR_FRONT_RANK = 1


@dataclass(frozen=True)
class Plan:
    """A plan to evaluate: its number, values at the study's paths, and its scenario."""

    number: int
    values: dict[str, Any]
    scenario: Scenario


class Evaluator(Protocol):
    """Runs plans for ``replications`` replications of ``seed_key``; KPI values per plan."""

    def evaluate(self, plans: list[Plan], replications: int, seed_key: str,
                 kpis: list[str]) -> dict[int, dict[str, np.ndarray]]:
        ...


@dataclass
class SearchResult:
    do_nothing: Evaluation
    evaluations: list[Evaluation]  # every trial, in trial order
    front: list[Evaluation]  # feasible, non-dominated, sorted by the first objective
    seed_key: str


def study_seed_key(loaded: LoadedStudy, seed: int) -> str:
    """Common random numbers: every plan uses the seeds of this key (base scenario + seed)."""
    text = f"{scenario_hash(loaded.base)}:{seed}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def kpis_needed(loaded: LoadedStudy) -> list[str]:
    names = [m.kpi for m in loaded.study.measures] + list(loaded.study.show)
    return sorted({k for k in names if not k.startswith("plan.")})


class Search:
    """One study's search in ``out`` (optuna storage) with ``evaluator``."""

    def __init__(self, loaded: LoadedStudy, evaluator: Evaluator, out: Path,
                 trials: int | None = None, replications: int | None = None,
                 seed: int | None = None,
                 on_batch: Callable[[int, int], None] | None = None):
        budget = loaded.study.budget
        self.loaded = loaded
        self.study = loaded.study
        self.evaluator = evaluator
        self.trials = trials or budget.trials
        self.replications = replications or budget.replications
        self.front_replications = max(budget.front_replications, self.replications)
        self.seed = budget.seed if seed is None else seed
        self.seed_key = study_seed_key(loaded, self.seed)
        self.kpis = kpis_needed(loaded)
        self.on_batch = on_batch
        out.mkdir(parents=True, exist_ok=True)
        self.storage = optuna.storages.RDBStorage(f"sqlite:///{(out / 'optuna.db').resolve()}")
        self.by_plan: dict[int, Evaluation] = {}

    # --- evaluation ------------------------------------------------------------------
    def evaluate(self, plans: list[Plan], replications: int) -> list[Evaluation]:
        results = self.evaluator.evaluate(plans, replications, self.seed_key, self.kpis)
        out = []
        for plan in plans:
            evaluation = Evaluation(plan.number, plan.values, results[plan.number],
                                    self.loaded.costs(plan.values))
            self.by_plan[plan.number] = evaluation
            out.append(evaluation)
        return out

    def plan(self, number: int, values: dict[str, Any]) -> Plan:
        try:
            return Plan(number, values, self.loaded.plan_scenario(values))
        except StudyError:
            raise
        except ValueError as exc:  # ScenarioError: a combination the scenario refuses
            raise StudyError("variables", f"plan {values} is not a valid scenario: {exc}"
                             ) from None

    # --- the loop --------------------------------------------------------------------
    def run(self) -> SearchResult:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        do_nothing = self.evaluate([self.plan(0, {})], self.front_replications)[0]
        do_nothing.label = "do-nothing"
        self.do_nothing = do_nothing
        study = self._optuna_study(0)
        self._check_same_study(study)
        while True:
            batch = self._next_batch()
            if not batch:
                break
            self._run_batch(batch)
            if self.on_batch is not None:
                self.on_batch(len(self._trials()), self.trials)
        self._top_up_front()
        return SearchResult(do_nothing, [self.by_plan[n + 1] for n in sorted(
            t.number for t in self._trials())], self.front(), self.seed_key)

    def _optuna_study(self, batch_index: int) -> optuna.Study:
        directions: list[Literal["minimize", "maximize"]] = [
            "minimize" if o.direction == "minimise" else "maximize"
            for o in self.study.objectives]
        seed = self.seed * 100_003 + batch_index
        if len(directions) > 1:
            sampler: optuna.samplers.BaseSampler = optuna.samplers.NSGAIISampler(
                population_size=self.study.budget.batch, seed=seed)
        else:
            sampler = optuna.samplers.TPESampler(seed=seed,
                                                 n_startup_trials=self.study.budget.batch)
        return optuna.create_study(storage=self.storage, study_name=self.study.name,
                                   directions=directions, sampler=sampler, load_if_exists=True)

    def _check_same_study(self, study: optuna.Study) -> None:
        digest = f"{self.loaded.study.digest()}:{self.seed}:{self.replications}"
        stored = study.user_attrs.get("digest")
        if stored is None:
            study.set_user_attr("digest", digest)
        elif stored != digest:
            raise StudyError("--out", "this folder holds a different study (or seed or "
                                      "replications); give another --out or remove optuna.db")

    def _trials(self) -> list[optuna.trial.FrozenTrial]:
        return optuna.load_study(study_name=self.study.name, storage=self.storage
                                 ).get_trials(deepcopy=False)

    def _next_batch(self) -> list[tuple[optuna.Study, optuna.trial.Trial]]:
        """Trials left running by an interrupted run, else a fresh batch from the sampler."""
        trials = self._trials()
        for t in trials:  # finished trials are re-read from the store (nothing re-runs)
            if t.state == optuna.trial.TrialState.COMPLETE and t.number + 1 not in self.by_plan:
                self.evaluate([self.plan(t.number + 1, t.params)], t.user_attrs["replications"])
        running = [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
        size = self.study.budget.batch
        if running:
            study = self._optuna_study(running[0].number // size)
            return [(study, optuna.trial.Trial(study, t._trial_id)) for t in running]
        if len(trials) >= self.trials:
            return []
        study = self._optuna_study(len(trials) // size)
        return [(study, study.ask(self._distributions()))
                for _ in range(min(size, self.trials - len(trials)))]

    def _distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        out: dict[str, optuna.distributions.BaseDistribution] = {}
        for v in self.study.variables:
            out[v.path] = (optuna.distributions.IntDistribution(int(v.low), int(v.high))
                           if v.type == "int" else
                           optuna.distributions.FloatDistribution(v.low, v.high))
        return out

    def _run_batch(self, batch: list[tuple[optuna.Study, optuna.trial.Trial]]) -> None:
        plans = [self.plan(trial.number + 1, trial.params) for _, trial in batch]
        self.evaluate(plans, self.replications)
        near = self._near_front({p.number for p in plans})
        if near and self.front_replications > self.replications:
            self.evaluate([p for p in plans if p.number in near], self.front_replications)
        for study, trial in batch:
            evaluation = self.by_plan[trial.number + 1]
            for i, excess in enumerate(measures.violations(self.study.constraints, evaluation,
                                                           self.do_nothing)):
                trial.set_constraint(f"constraints[{i}]", excess)
            trial.set_user_attr("replications", evaluation.replications)
            study.tell(trial, measures.objective_values(self.study.objectives, evaluation,
                                                        self.do_nothing))

    # --- the front -------------------------------------------------------------------
    def ranks(self, evaluations: list[Evaluation]) -> np.ndarray:
        if not evaluations:
            return np.zeros(0, dtype=int)
        points = np.array([measures.oriented(self.study.objectives, measures.objective_values(
            self.study.objectives, e, self.do_nothing)) for e in evaluations])
        violation = np.array([measures.violations(self.study.constraints, e, self.do_nothing)
                              for e in evaluations]).reshape(len(evaluations), -1)
        return measures.front_ranks(points, violation)

    def feasible(self, evaluation: Evaluation) -> bool:
        return all(v <= 0 for v in measures.violations(self.study.constraints, evaluation,
                                                        self.do_nothing))

    def _near_front(self, numbers: set[int]) -> set[int]:
        evaluations = [self.by_plan[n] for n in sorted(self.by_plan) if n > 0]
        ranks = self.ranks(evaluations)
        return {e.plan for e, r in zip(evaluations, ranks, strict=True)
                if e.plan in numbers and r <= NEAR_FRONT_RANK}

    def front(self) -> list[Evaluation]:
        evaluations = [self.by_plan[n] for n in sorted(self.by_plan) if n > 0]
        ranks = self.ranks(evaluations)
        front = [e for e, r in zip(evaluations, ranks, strict=True)
                 if r == 0 and self.feasible(e)]
        unique: dict[tuple, Evaluation] = {}
        for e in front:  # the same plan asked twice is one plan
            unique.setdefault(tuple(sorted(e.values.items())), e)
        return sorted(unique.values(), key=lambda e: (measures.objective_values(
            self.study.objectives, e, self.do_nothing), e.plan))

    def _top_up_front(self) -> None:
        """Front plans get ``front_replications`` each, until the front stops changing."""
        for _ in range(3):
            short = [e for e in self.front() if e.replications < self.front_replications]
            if not short:
                return
            self.evaluate([self.plan(e.plan, e.values) for e in short], self.front_replications)
