"""What a calibration concludes: the best candidate, the accepted set and its spread,
and the fitted corridor (and any era scenario with free values) written back as YAML
with its provenance.

The accepted set is ABC-style: every evaluated candidate whose predictions all
fall in their targets' pass bands. Its prior-phase members are a rejection
sample of the approximate posterior; search-phase members crowd near the best,
so the set is read for its *range* (which values the targets allow, and the
spread of predictions that range implies), not as a density.

With ``sampler: smc`` the accepted set is the last completed generation's
accepted particles with their normalised importance weights: an ABC posterior
sample, read as a density (weighted quantiles, effective sample size).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from straits import __version__
from straits.calibration import smc
from straits.calibration.evaluation import SPREAD_KPIS, Evaluator
from straits.calibration.search import TrialResult, generation_trials, kept_particles
from straits.calibration.spec import Parameter, Spec, value_node
from straits.calibration.uncertainty import RESULT_FILE


@dataclass(frozen=True)
class Summary:
    """The outcome of a calibration, as written to ``calibration.json``."""

    spec: Spec
    trials: list[TrialResult]
    best: TrialResult
    accepted: list[TrialResult]
    ranges: dict[str, tuple[Any, Any]]  # path -> accepted min, max (scenario values)
    spread: dict[str, dict[str, dict[str, float | None]]]  # scenario -> kpi -> min/median/max/best
    weights: tuple[float, ...] | None = None  # smc: each accepted trial's weight (sum 1)
    generation: int | None = None  # smc: the generation the accepted set is from
    tolerances: tuple[float, ...] = ()  # smc: epsilon of each completed generation

    @property
    def effective_sample_size(self) -> float | None:
        """smc: how many equally weighted draws the accepted set is worth."""
        if not self.weights:
            return None
        return smc.effective_sample_size(np.array(self.weights))

    def quantiles(self, parameter: Parameter) -> list[Any] | None:
        """smc: the weighted 5%, 50% and 95% posterior quantiles (scenario values)."""
        if not self.weights:
            return None
        values = np.array([parameter.search_value(t.values[parameter.path])
                           for t in self.accepted])
        return [parameter.scenario_value(q) for q in
                smc.weighted_quantiles(values, np.array(self.weights), QUANTILES)]


QUANTILES = (0.05, 0.5, 0.95)


def best_trial(trials: list[TrialResult]) -> TrialResult:
    """The lowest score among the most-replicated trials (ties: the earliest).

    A score from the refined replications is the more trustworthy; a lucky
    candidate scored on few replications does not beat it.
    """
    most = max(t.replications for t in trials)
    return min((t for t in trials if t.replications == most), key=lambda t: (t.score, t.number))


def summarise(spec: Spec, trials: list[TrialResult], evaluator: Evaluator | None) -> Summary:
    """Best, accepted set, accepted ranges and (with an evaluator) the KPI spread."""
    best = best_trial(trials)
    if spec.sampler == "smc":
        return _smc_summary(spec, trials, best, evaluator)
    accepted = [t for t in trials if t.accepted and t.replications == best.replications]
    ranges = {p.path: (min(t.values[p.path] for t in accepted), max(t.values[p.path]
                                                                     for t in accepted))
              for p in spec.parameters} if accepted else {}
    spread = _spread(evaluator, best, accepted) if evaluator is not None and accepted else {}
    return Summary(spec, trials, best, accepted, _ordered(spec, ranges), spread)


def _smc_summary(spec: Spec, trials: list[TrialResult], best: TrialResult,
                 evaluator: Evaluator | None) -> Summary:
    """The last completed generation's accepted particles, weights renormalised over them.

    Every one is kept whatever its replication count: an accepted candidate has always
    been refined (a pass on the first replications triggers it), so they share one.
    """
    generations = completed_generations(spec, trials)
    tolerances = tuple(kept_particles(spec, g)[1] for g in generations)
    accepted = [t for t in generations[-1] if t.accepted] if generations else []
    weights = (tuple(float(w) for w in smc.normalised(np.array([t.weight for t in accepted])))
               if accepted else ())
    ranges = {p.path: (min(t.values[p.path] for t in accepted), max(t.values[p.path]
                                                                     for t in accepted))
              for p in spec.parameters} if accepted else {}
    spread = (_spread(evaluator, best, accepted, list(weights))
              if evaluator is not None and accepted else {})
    return Summary(spec, trials, best, accepted, _ordered(spec, ranges), spread, weights,
                   len(generations) - 1 if generations else None, tolerances)


def completed_generations(spec: Spec, trials: list[TrialResult]) -> list[list[TrialResult]]:
    """smc: the generations whose every trial has finished, in order."""
    by_number = {t.number: t for t in trials}
    generations: list[list[TrialResult]] = []
    while True:
        numbers = generation_trials(spec, len(generations))
        if not all(n in by_number for n in numbers):
            return generations
        generations.append([by_number[n] for n in numbers])


def _ordered(spec: Spec, ranges: dict[str, tuple[Any, Any]]) -> dict[str, tuple[Any, Any]]:
    # durations compare as text ('100s' < '95s'): order them by their minutes
    out = {}
    for p in spec.parameters:
        if p.path in ranges:
            low, high = sorted(ranges[p.path], key=p.search_value)
            out[p.path] = (low, high)
    return out


def _spread(evaluator: Evaluator, best: TrialResult, accepted: list[TrialResult],
            weights: list[float] | None = None
            ) -> dict[str, dict[str, dict[str, float | None]]]:
    """Min, median and max over the accepted candidates of each scenario's KPIs (the
    median weighted when the accepted set has weights)."""
    values: dict[str, dict[str, list[float]]] = {}
    best_values: dict[str, dict[str, float]] = {}
    for trial in [best, *accepted]:
        experiment = evaluator.experiment(trial.values, trial.replications)
        for scenario, kpis in evaluator.statistics(experiment).items():
            chosen = {k: s.mean for k, s in kpis.items()
                      if k in SPREAD_KPIS or k.startswith("target.")}
            if trial is best:
                best_values[scenario] = chosen
            else:
                for k, mean in chosen.items():
                    values.setdefault(scenario, {}).setdefault(k, []).append(mean)
    def median(v: list[float]) -> float:
        if weights is None:
            return float(np.median(v))
        return smc.weighted_quantiles(np.array(v), np.array(weights), (0.5,))[0]

    return {scenario: {k: {"min": float(np.min(v)), "median": median(v),
                           "max": float(np.max(v)), "best": best_values[scenario].get(k)}
                       for k, v in kpis.items()}
            for scenario, kpis in values.items()}


def summary_json(summary: Summary, command: str) -> dict[str, Any]:
    spec, best = summary.spec, summary.best
    data: dict[str, Any] = {
        "spec": spec.name, "source": spec.source, "seed": spec.seed, "command": command,
        "straits_version": __version__, "created": _today(),
        "trials": len(summary.trials),
        "parameters": [{"path": p.path, "scenario": p.home, "low": p.low, "high": p.high,
                        "kind": p.kind, "prior": p.prior, "home_value": p.home_value}
                       for p in spec.parameters],
        "best": _trial_json(best),
        "accepted_ranges": {k: list(v) for k, v in summary.ranges.items()},
        "accepted": [_trial_json(t) for t in summary.accepted],
        "spread": summary.spread,
    }
    if summary.weights is not None:  # smc only: other samplers' files are as before
        for entry, weight in zip(data["accepted"], summary.weights, strict=True):
            entry["weight"] = weight
        data["smc"] = {
            "generation": summary.generation, "tolerances": list(summary.tolerances),
            "effective_sample_size": summary.effective_sample_size,
            "weighted_quantiles": {p.path: summary.quantiles(p) for p in spec.parameters
                                   if summary.accepted}}
    return data


def _trial_json(t: TrialResult) -> dict[str, Any]:
    generation = {} if t.generation is None else {"generation": t.generation}
    return {"trial": t.number, "phase": t.phase, **generation, "score": t.score,
            "replications": t.replications, "experiment_id": t.experiment_id,
            "values": t.values,
            "fits": {k: {"mean": f.mean, "std": f.std, "band": [f.band_low, f.band_high],
                         "distance": f.distance, "passed": f.passed}
                     for k, f in t.fits.items()}}


def write_results(folder: Path, summary: Summary, command: str) -> list[Path]:
    """``calibration.json``, the fitted file of each home with free values (the corridor,
    an era scenario: ``<name>.calibrated.yaml``) and ``fit.md`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    result = folder / RESULT_FILE
    result.write_text(json.dumps(summary_json(summary, command), indent=2) + "\n",
                      encoding="utf-8")
    fitted = []
    for home in _homes(summary.spec):
        fitted.append(folder / f"{home}.calibrated.yaml")
        fitted[-1].write_text(fitted_file(summary, command, home), encoding="utf-8")
    table = folder / "fit.md"
    table.write_text(fit_markdown(summary), encoding="utf-8")
    return [result, *fitted, table]


def _homes(spec: Spec) -> list[str]:
    """The files holding free values, the corridor first."""
    return [home for home in spec.home_texts if any(p.home == home for p in spec.parameters)]


def fitted_file(summary: Summary, command: str, home: str) -> str:
    """``home``'s file (the corridor or an era scenario) with the best values of the
    parameters it holds in place, each line saying where it came from."""
    spec, best = summary.spec, summary.best
    text = spec.home_texts[home]
    root = yaml.compose(text)
    edits = []
    for p in (p for p in spec.parameters if p.home == home):
        node = value_node(root, p.path)
        assert node is not None  # every free path was found in its home's file when read
        low, high = summary.ranges.get(p.path, ("-", "-"))
        note = (f"# calibrated: {p.path} = {best.values[p.path]} (was {p.home_value}; "
                f"accepted {low} to {high}; prior {p.prior} on {_bound(p, p.low)} to "
                f"{_bound(p, p.high)})")
        edits.append((node.start_mark.index, node.end_mark.index, node.start_mark.line,
                      _scalar(best.values[p.path]), note))
    parent = value_node(root, "extends")
    corridor = spec.corridor.name
    if parent is not None and parent.value == corridor and corridor in _homes(spec):
        # an era scenario on the calibrated corridor: the two files run as fitted together
        edits.append((parent.start_mark.index, parent.end_mark.index, parent.start_mark.line,
                      f"{corridor}.calibrated.yaml", f"# calibrated: extends the calibrated "
                                                     f"corridor beside it (was {corridor})"))
    for start, end, _, value, _ in sorted(edits, reverse=True):
        text = text[:start] + value + text[end:]
    lines = text.split("\n")
    for _, _, line, _, note in sorted(edits, key=lambda e: e[2], reverse=True):
        indent = len(lines[line]) - len(lines[line].lstrip(" "))
        lines.insert(line, " " * indent + note)
    return _header(summary, command, home) + "\n".join(lines)


def _header(summary: Summary, command: str, home: str) -> str:
    spec, best = summary.spec, summary.best
    rows = [f"#   {k}: mean {f.mean:.4g} in band {f.band_low:.4g}-{f.band_high:.4g}, "
            f"distance {f.distance:+.2f} ({'pass' if f.passed else 'FAIL'})"
            for k, f in best.fits.items()]
    others = [f"{h}.calibrated.yaml" for h in _homes(spec) if h != home]
    where = ([f"# The best's other free values are in {', '.join(others)}."] if others else [])
    if home != spec.corridor.name:  # lists are replaced whole: a scenario restating the stage
        where.append("# A scenario extending this one that restates a calibrated value (a "
                     "stage list) inherits it only if it carries the same value: edit it too.")
    return "\n".join([
        f"# Calibrated by `{command}` (straits {__version__}, {_today()}).",
        f"# Spec {spec.name!r} ({spec.source}), seed {spec.seed}: {len(summary.trials)} trials, "
        f"{len(summary.accepted)} accepted (every target in its band).",
        *([f"# {_smc_text(summary)}."] if summary.weights is not None else []),
        f"# Best: trial {best.number}, score {best.score:.3f} (weighted mean squared distance; "
        f"1 = band edge), {best.replications} replications per scenario. Per target:",
        *rows, *where, "", ""])


def fit_markdown(summary: Summary) -> str:
    """The per-target fit table and the accepted ranges, as Markdown."""
    best = summary.best
    lines = ["| target | model mean | pass band | distance | result | accepted range of the "
             "mean |", "|---|---|---|---|---|---|"]
    for key, f in best.fits.items():
        accepted = [t.fits[key].mean for t in summary.accepted]
        spread = f"{_n(min(accepted))}–{_n(max(accepted))}" if accepted else "—"
        lines.append(f"| {key} | {_n(f.mean)} | {_n(f.band_low)}–{_n(f.band_high)} "
                     f"| {f.distance:+.2f} | {'pass' if f.passed else '**FAIL**'} | {spread} |")
    weighted = summary.weights is not None
    lines += ["", "| parameter | in | shipped | best | accepted range |"
              + (" weighted 5% / 50% / 95% |" if weighted else ""),
              "|---|---|---|---|---|" + ("---|" if weighted else "")]
    for p in summary.spec.parameters:
        lines.append(f"| `{p.path}` | {p.home} | {p.text(p.home_value)} "
                     f"| {p.text(best.values[p.path])} | {accepted_range_text(summary, p)} |"
                     + (f" {quantiles_text(summary, p)} |" if weighted else ""))
    if weighted:
        lines += ["", f"{_smc_text(summary)}."]
    return "\n".join(lines) + "\n"


def quantiles_text(summary: Summary, parameter: Parameter) -> str:
    """smc: a parameter's weighted 5% / 50% / 95% quantiles; "—" when nothing was accepted."""
    quantiles = summary.quantiles(parameter) if summary.accepted else None
    return " / ".join(parameter.text(q) for q in quantiles) if quantiles else "—"


def _smc_text(summary: Summary) -> str:
    """smc: where the accepted set comes from and what it is worth."""
    tolerances = ", ".join(f"{e:.3g}" for e in summary.tolerances)
    ess = summary.effective_sample_size
    worth = f"; effective sample size {ess:.1f}" if ess is not None else "; nothing accepted"
    if summary.generation is None:
        return "ABC population Monte Carlo: no generation completed yet"
    if summary.generation == 0 and summary.spec.search_trials:
        worth += " (generation 0 holds TPE's search: not a posterior sample until generation 1)"
    return (f"ABC population Monte Carlo: accepted set of generation {summary.generation} "
            f"(tolerance of each generation: {tolerances}){worth}")


def accepted_range_text(summary: Summary, parameter: Parameter) -> str:
    """A parameter's accepted range as tables show it; "—" when nothing was accepted."""
    if parameter.path not in summary.ranges:
        return "—"
    low, high = (parameter.text(v) for v in summary.ranges[parameter.path])
    return f"{low} to {high}"


def _scalar(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _bound(p: Any, x: float) -> Any:
    return p.scenario_value(x)


def _n(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()
