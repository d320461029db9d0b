"""The noise-aware search: optuna trials over the free parameters, kept in SQLite.

* Trials ``0 .. startup-1`` are draws from the prior (a scrambled Halton sequence
  through each prior's quantiles); later trials come from TPE (multivariate, constant
  liar for batches) or, with ``sampler: cmaes``, CMA-ES (optuna's CmaEsSampler: it
  starts at the centre of the bounds, tells a generation once its population has
  finished, and rounds whole numbers as optuna does). With ``sampler: prior`` every
  trial is a prior draw: plain ABC rejection sampling. With ``sampler: smc`` the
  prior draws are generation 0 of ABC population Monte Carlo, and each later
  generation of ``generation_trials`` proposals moves the previous generation's
  kept particles (``smc.py``); each trial stores its generation and importance
  weight.
* Each trial's sampler is seeded from the spec's seed and the trial number, and
  trials are asked in fixed batches, so the sequence of candidates depends on
  the spec alone, never on the number of workers, and a resumed study proposes
  what the uninterrupted one would have.
* Every candidate is scored with ``replications`` replications; one that passes
  every target or scores near the best so far is re-scored with
  ``refine_replications`` (the same seeds plus more), so the best and the accepted
  set rest on tighter means.
* Trials live in ``study.sqlite3``: a killed calibration resumes, finishing the
  trials it had started (their replications are in the results store) and never
  repeating a finished one.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState
from scipy.stats import qmc

from straits.calibration import smc
from straits.calibration.evaluation import Evaluation, Evaluator
from straits.calibration.objective import Fit, accepted, score
from straits.calibration.spec import Spec
from straits.scenario import ScenarioError

STUDY_FILE = "study.sqlite3"
NEAR_BEST_FACTOR = 2.0  # refine when score <= 2 x best + NEAR_BEST_SLACK
NEAR_BEST_SLACK = 0.25  # a quarter of a tolerance, squared: the noise of a few replications

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


@dataclass(frozen=True)
class TrialResult:
    """A finished trial: the candidate, its score and every target's fit."""

    number: int
    values: dict[str, Any]  # path -> scenario value
    score: float
    fits: dict[str, Fit]
    replications: int
    experiment_id: str
    phase: str  # "prior" or "search"
    generation: int | None = None  # smc only: 0 = the prior draws
    weight: float | None = None  # smc only: importance weight, normalised over its generation

    @property
    def accepted(self) -> bool:
        return accepted(list(self.fits.values()))

    @property
    def distance(self) -> float:
        """The largest target distance (<= 1 exactly when accepted): smc's tolerance."""
        fits = list(self.fits.values())
        return smc.candidate_distance([f.distance for f in fits], [f.passed for f in fits])


def spec_digest(spec: Spec) -> str:
    """What the trials' scores depend on: a study may only be resumed with the same."""
    content = {
        # a value's home only when it is not the corridor: older studies keep their digest
        "parameters": [[p.path, p.low, p.high, p.prior, p.mean, p.sd]
                       + ([p.home] if p.home != spec.corridor.name else [])
                       for p in spec.parameters],
        "targets": spec.weights, "replications": spec.replications,
        "refine": spec.refine_replications, "startup": spec.startup_trials,
        "batch": spec.batch, "sampler": spec.sampler, "seed": spec.seed,
    }
    if spec.sampler == "smc":  # other samplers' digests (and their stored studies) unchanged
        content |= {"generation_trials": spec.generation_trials, "keep": spec.keep}
        if spec.search_trials:  # studies made before the field keep their digest
            content |= {"search_trials": spec.search_trials}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def open_study(folder: Path, spec: Spec, name: str = "calibration") -> optuna.Study:
    """The study in ``folder`` (created, or resumed if it was made from the same spec)."""
    folder.mkdir(parents=True, exist_ok=True)
    storage = optuna.storages.RDBStorage(f"sqlite:///{(folder / STUDY_FILE).resolve()}")
    study = optuna.create_study(study_name=name, storage=storage, direction="minimize",
                                load_if_exists=True)
    digest = study.user_attrs.get("spec_digest")
    if digest is None:
        study.set_user_attr("spec_digest", spec_digest(spec))
        study.set_user_attr("spec", spec.text)
    elif digest != spec_digest(spec):
        raise ScenarioError("--out", f"{str(folder)!r} holds a calibration of a different spec "
                                     f"(or other parameters, targets, replications or seed); "
                                     "choose a new folder to start afresh")
    return study


def distributions(spec: Spec) -> dict[str, BaseDistribution]:
    """The search space: whole numbers as integers, durations in minutes."""
    return {p.path: IntDistribution(int(p.low), int(p.high)) if p.kind == "integer"
            else FloatDistribution(p.low, p.high, log=p.prior == "log-uniform")
            for p in spec.parameters}


def prior_draws(spec: Spec, count: int) -> list[dict[str, float]]:
    """The first ``count`` draws from the priors: a scrambled Halton sequence seeded by
    the spec (its prefix does not depend on ``count``, so raising --trials keeps them)."""
    if count == 0:
        return []
    sampler = qmc.Halton(d=len(spec.parameters), seed=np.random.default_rng(spec.seed))
    return [{p.path: p.from_unit(u) for p, u in zip(spec.parameters, row, strict=True)}
            for row in sampler.random(count)]


def run_search(spec: Spec, folder: Path, evaluator: Evaluator, trials: int,
               on_trial: Callable[[TrialResult], None] | None = None) -> list[TrialResult]:
    """Run the study in ``folder`` until ``trials`` are finished; return every finished trial."""
    study = open_study(folder, spec)
    draws = prior_draws(spec, trials if spec.sampler == "prior" else spec.startup_trials)
    generations = Generations(spec, study) if spec.sampler == "smc" else None
    space = distributions(spec)
    unfinished = sorted((t for t in study.get_trials(deepcopy=False)
                         if t.state in (TrialState.RUNNING, TrialState.WAITING)),
                        key=lambda t: t.number)
    pending = []
    for t in unfinished:  # started before a kill: keep the candidates they had
        study.sampler = _sampler(spec, t.number, len(draws), generations)
        trial = optuna.Trial(study, t._trial_id) if t.state == TrialState.RUNNING \
            else study.ask()
        pending.append(_suggest(trial, space))  # values a kill cut short are drawn again
    while True:
        started = len(study.get_trials(deepcopy=False))
        first = pending[0].number if pending else started  # the batch a kill cut short
        end = min((first // spec.batch + 1) * spec.batch, trials)  # batches never shift
        for number in range(started, end):
            if number < len(draws):
                study.enqueue_trial(_search_values(spec, draws[number]))
            study.sampler = _sampler(spec, number, len(draws), generations)
            pending.append(study.ask(space))
        if not pending:
            break
        _finish(spec, study, evaluator, pending, draws, on_trial, generations)
        pending = []
    return finished_trials(study)


def _sampler(spec: Spec, number: int, prior_draws: int,
             generations: Generations | None = None) -> optuna.samplers.BaseSampler:
    """Trial ``number``'s sampler, seeded by the spec's seed and the number alone."""
    seed = _trial_seed(spec.seed, number)
    if number < prior_draws:  # the enqueued prior draw fixes every value
        return optuna.samplers.RandomSampler(seed=seed)
    if generations is not None and generation_of(spec, number) > 0:
        return _Fixed(generations.proposal(number)[0])  # smc: computed outside optuna
    if spec.sampler == "cmaes":  # its state lives in the study's trials, so a fresh one resumes
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=0,
                                            warn_independent_sampling=False)
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=0, multivariate=True,
                                      constant_liar=True)


def _suggest(trial: optuna.Trial, space: dict[str, BaseDistribution]) -> optuna.Trial:
    """Make sure every parameter has its value (kept if it has one already)."""
    for path, d in space.items():
        if isinstance(d, IntDistribution):
            trial.suggest_int(path, d.low, d.high)
        else:
            assert isinstance(d, FloatDistribution)  # the only other kind the space holds
            trial.suggest_float(path, d.low, d.high, log=d.log)
    return trial


def _finish(spec: Spec, study: optuna.Study, evaluator: Evaluator, batch: list[optuna.Trial],
            draws: list[dict[str, float]], on_trial: Callable[[TrialResult], None] | None,
            generations: Generations | None = None) -> None:
    """Score a batch, refine the promising ones, and tell the study (in trial order)."""
    batch = sorted(batch, key=lambda t: t.number)
    candidates = [_scenario_values(spec, t.params) for t in batch]
    first = evaluator.evaluate(candidates, spec.replications)
    scores = [score(list(e.fits.values()), spec.weights) for e in first]
    done = [t.user_attrs["result"]["score"]
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    best = min(done + scores)
    final: list[Evaluation] = list(first)
    near = NEAR_BEST_FACTOR * best + NEAR_BEST_SLACK
    refine = [i for i, (e, s) in enumerate(zip(first, scores, strict=True))
              if spec.refine_replications > spec.replications
              and (accepted(list(e.fits.values())) or s <= near)]
    if refine:
        refined = evaluator.evaluate([candidates[i] for i in refine], spec.refine_replications)
        for i, e in zip(refine, refined, strict=True):
            final[i] = e
    for trial, e in zip(batch, final, strict=True):
        fits = list(e.fits.values())
        phase = "prior" if trial.number < len(draws) else "search"
        generation, weight = (generations.label(trial.number) if generations is not None
                              else (None, None))
        result = TrialResult(trial.number, e.values, score(fits, spec.weights), e.fits,
                             e.replications, e.experiment_id, phase, generation, weight)
        trial.set_user_attr("result", _to_json(result))
        # smc's TPE (generation 0) seeks acceptance, so it minimises the worst target's
        # distance; the other samplers the score
        study.tell(trial, result.distance if spec.sampler == "smc" else result.score)
        if on_trial is not None:
            on_trial(result)


def finished_trials(study: optuna.Study) -> list[TrialResult]:
    return [_from_json(t.number, t.user_attrs["result"])
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]


def _trial_seed(seed: int, number: int) -> int:
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _search_values(spec: Spec, draw: dict[str, float]) -> dict[str, float]:
    return {p.path: int(draw[p.path]) if p.kind == "integer" else draw[p.path]
            for p in spec.parameters}


def _scenario_values(spec: Spec, params: dict[str, Any]) -> dict[str, Any]:
    return {p.path: p.scenario_value(params[p.path]) for p in spec.parameters}


def _to_json(r: TrialResult) -> dict[str, Any]:
    data = {"values": r.values, "score": r.score, "replications": r.replications,
            "experiment_id": r.experiment_id, "phase": r.phase,
            "fits": {k: [f.mean, f.std, f.replications, f.band_low, f.band_high, f.distance,
                         f.passed] for k, f in r.fits.items()}}
    if r.generation is not None:  # smc only: other samplers' trials are stored as before
        data |= {"generation": r.generation, "weight": r.weight}
    return data


def _from_json(number: int, data: dict[str, Any]) -> TrialResult:
    fits = {k: Fit(k, *v) for k, v in data["fits"].items()}
    return TrialResult(number, data["values"], data["score"], fits, data["replications"],
                       data["experiment_id"], data["phase"], data.get("generation"),
                       data.get("weight"))


# --- smc: ABC population Monte Carlo ---------------------------------------------------


def generation_trials(spec: Spec, generation: int) -> range:
    """The trial numbers of a generation: 0 is the prior draws and the TPE search (if
    any), then equal generations."""
    first = spec.first_generation_trials
    if generation == 0:
        return range(first)
    start = first + (generation - 1) * spec.generation_trials
    return range(start, start + spec.generation_trials)


def generation_of(spec: Spec, number: int) -> int:
    first = spec.first_generation_trials
    if number < first:
        return 0
    return 1 + (number - first) // spec.generation_trials


def kept_particles(spec: Spec, trials: list[TrialResult]) -> tuple[list[TrialResult], float]:
    """A finished generation's kept particles (distance <= epsilon) and epsilon."""
    distances = np.array([t.distance for t in trials])
    epsilon = smc.tolerance(distances, np.array([t.number for t in trials]), spec.keep)
    return [t for t, d in zip(trials, distances, strict=True) if d <= epsilon], epsilon


class Generations:
    """smc's proposals, one generation at a time, from the finished previous one.

    A generation's proposals depend only on the spec (its seed) and the stored
    trials of the generation before, so a resumed study or another worker count
    proposes exactly the same; each is computed once per process.
    """

    def __init__(self, spec: Spec, study: optuna.Study):
        self.spec, self.study = spec, study
        self._proposed: dict[int, tuple[list[dict[str, float]], np.ndarray]] = {}

    def label(self, number: int) -> tuple[int, float]:
        """A trial's generation and weight (normalised over its generation's proposals)."""
        generation = generation_of(self.spec, number)
        if generation == 0:  # prior draws (and TPE's): equal mixing weights for generation 1
            return 0, 1.0 / len(generation_trials(self.spec, 0))
        return generation, self.proposal(number)[1]

    def proposal(self, number: int) -> tuple[dict[str, float], float]:
        """Trial ``number``'s proposed search values and importance weight."""
        generation = generation_of(self.spec, number)
        if generation not in self._proposed:
            self._proposed[generation] = self._propose(generation)
        values, weights = self._proposed[generation]
        index = number - generation_trials(self.spec, generation).start
        return values[index], float(weights[index])

    def _propose(self, generation: int) -> tuple[list[dict[str, float]], np.ndarray]:
        spec, parameters = self.spec, self.spec.parameters
        numbers = generation_trials(spec, generation - 1)
        frozen = {t.number: t for t in self.study.get_trials(
            deepcopy=False, states=(TrialState.COMPLETE,)) if t.number in numbers}
        if len(frozen) != len(numbers):  # batches align with generations: cannot happen
            raise RuntimeError(f"generation {generation - 1} is unfinished")
        previous = [_from_json(n, frozen[n].user_attrs["result"]) for n in numbers]
        kept, _ = kept_particles(spec, previous)
        x = np.array([[frozen[t.number].params[p.path] for p in parameters] for t in kept],
                     dtype=np.float64)
        z, w = smc.to_search(parameters, x), np.array([t.weight for t in kept])
        scales = smc.kernel_scales(parameters, z, w)
        proposed = smc.propose(parameters, z, w, scales, spec.generation_trials,
                               smc.generation_rng(spec.seed, generation))
        weights = smc.importance_weights(parameters, proposed, z, w, scales)
        values = [_search_values(spec, {p.path: float(v) for p, v in zip(parameters, row,
                                                                          strict=True)})
                  for row in smc.from_search(parameters, proposed)]
        return values, weights


class _Fixed(optuna.samplers.BaseSampler):
    """Suggests given values: smc's proposals are computed outside optuna."""

    def __init__(self, values: dict[str, float]):
        self.values = values

    def infer_relative_search_space(self, study: optuna.Study, trial: Any
                                    ) -> dict[str, BaseDistribution]:
        return {}

    def sample_relative(self, study: optuna.Study, trial: Any,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return {}

    def sample_independent(self, study: optuna.Study, trial: Any, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self.values[param_name]
