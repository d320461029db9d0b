"""Leave one event out: refit without a scenario's targets, then predict them.

Each fold is a full calibration (its own study, ``leave-out-<scenario>/``) on
the other scenarios' targets; its best candidate is then run on the left-out
scenario with the refined replications. A fold passes when every left-out
target's prediction is in its band. Folds share the results store and the
seeds, so a candidate already run for one fold costs nothing in another.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from straits.calibration.acceptance import best_trial
from straits.calibration.evaluation import Evaluator
from straits.calibration.objective import Fit
from straits.calibration.search import TrialResult, run_search
from straits.calibration.spec import Spec


@dataclass(frozen=True)
class Fold:
    """One left-out scenario: what the others fitted, and how it predicts the left-out."""

    scenario: str
    fitted_on: list[str]
    best: TrialResult
    predicted: dict[str, Fit]

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.predicted.values())


def _for_fold(on_trial: Callable[[str, TrialResult], None] | None, name: str
              ) -> Callable[[TrialResult], None] | None:
    """The progress callback of one fold, naming the scenario it leaves out."""
    if on_trial is None:
        return None
    return lambda result: on_trial(name, result)


def cross_validate(spec: Spec, folder: Path, full: Evaluator,
                   make_evaluator: Callable[[Spec], Evaluator], trials: int,
                   on_trial: Callable[[str, TrialResult], None] | None = None) -> list[Fold]:
    """One fold per scenario of the spec's targets (scenarios whose removal leaves none skipped)."""
    folds = []
    for name in full.mappings:
        fold_spec = spec.without_scenario(name)
        if not fold_spec.targets:
            continue
        results = run_search(fold_spec, folder / f"leave-out-{name}", make_evaluator(fold_spec),
                             trials, _for_fold(on_trial, name))
        best = best_trial(results)
        predicted = full.evaluate([best.values], spec.refine_replications, [name])[0]
        folds.append(Fold(name, list(dict.fromkeys(t.scenario for t in fold_spec.targets)),
                          best, predicted.fits))
    return folds


def pass_rates(folds: list[Fold]) -> tuple[float, float]:
    """Out-of-sample pass rate over events (all targets pass) and over targets."""
    fits = [f for fold in folds for f in fold.predicted.values()]
    return (sum(f.passed for f in folds) / len(folds) if folds else 0.0,
            sum(f.passed for f in fits) / len(fits) if fits else 0.0)


def folds_markdown(folds: list[Fold], spec: Spec) -> str:
    """The cross-validation table (docs/validation.md)."""
    lines = ["| left out | fitted values (best of the other events) | target | predicted "
             "| pass band | result |", "|---|---|---|---|---|---|"]
    for fold in folds:
        values = ", ".join(f"{p.path.rsplit('.', 2)[-2]}.{p.path.rsplit('.', 1)[-1]}="
                           f"{p.text(fold.best.values[p.path])}" for p in spec.parameters)
        for i, (key, f) in enumerate(fold.predicted.items()):
            lines.append(f"| {f'`{fold.scenario}`' if i == 0 else ''} | {values if i == 0 else ''} "
                         f"| {key} | {_n(f.mean)} | {_n(f.band_low)}–{_n(f.band_high)} "
                         f"| {'pass' if f.passed else '**FAIL**'} |")
    events, targets = pass_rates(folds)
    passed = sum(f.passed for f in folds)
    lines += ["", f"Out of sample: {passed} of {len(folds)} events pass every target "
                  f"({events:.0%}); {targets:.0%} of left-out targets pass."]
    return "\n".join(lines) + "\n"


def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
