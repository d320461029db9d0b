"""The calibration spec: which corridor values are free, within what bounds and
priors, which targets they are fitted to, and how much simulation to spend.

A spec is YAML, validated like a scenario: every mistake (a path the corridor
does not have, bounds the wrong way round, a target id ``straits validate``
does not know) is a :class:`ScenarioError` naming the field and the fix,
before any simulation starts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from straits.calibration import DEFAULT_SPEC
from straits.experiments.sweep import apply_overrides, read_path, scenario_mapping
from straits.scenario import Scenario, ScenarioError, load_scenario, scenario_to_yaml
from straits.scenario.loading import builtin_text
from straits.scenario.units import format_minutes, parse_minutes
from straits.validation.targets import TARGETS, Target

_BUILTIN_PACKAGE = "straits.calibration"
# the search after the prior draws (docs/calibration.md); prior: every trial a prior draw;
# smc: ABC population Monte Carlo (generations of weighted particles)
Sampler = Literal["tpe", "cmaes", "prior", "smc"]
SAMPLERS: tuple[str, ...] = get_args(Sampler)


class ParameterSpec(BaseModel):
    """One free value: a dotted path (as ``--vary``), its bounds and its prior."""

    model_config = ConfigDict(extra="forbid")
    path: str
    scenario: str | None = None  # the scenario the value lives in (default: the corridor)
    low: float | str
    high: float | str
    prior: Literal["uniform", "log-uniform", "normal"] = "uniform"
    mean: float | str | None = None  # normal prior only
    sd: float | str | None = None  # normal prior only
    note: str = ""  # why it is free (shown in the fitted corridor's comments)


class SpecModel(BaseModel):
    """The YAML document, before it is checked against the corridor and the targets."""

    model_config = ConfigDict(extra="forbid")
    name: str
    corridor: str = "corridor-2015"
    description: str = ""
    parameters: list[ParameterSpec] = Field(min_length=1)
    targets: list[str] | None = None  # None: every validation target
    weights: dict[str, float] = Field(default_factory=dict)
    replications: int = Field(5, ge=1, le=1000)
    refine_replications: int = Field(15, ge=1, le=5000)
    trials: int = Field(200, ge=1, le=100_000)
    startup_trials: int = Field(20, ge=0, le=100_000)
    batch: int = Field(4, ge=1, le=1000)
    sampler: Sampler = "tpe"
    generation_trials: int | None = Field(None, ge=1, le=100_000)  # smc; default startup_trials
    keep: int | None = Field(None, ge=2, le=100_000)  # smc; default half a generation
    search_trials: int = Field(0, ge=0, le=100_000)  # smc: TPE trials in generation 0
    seed: int = Field(2015, ge=0)

    @model_validator(mode="after")
    def _refine_is_more(self) -> SpecModel:
        if self.refine_replications < self.replications:
            raise ValueError("refine_replications must be at least replications")
        return self


@dataclass(frozen=True)
class Parameter:
    """A checked free parameter, in the units the search works in.

    Durations are searched in minutes and written back as seconds; integers
    (booths, lorries) are searched as integers. ``home`` is the scenario whose file
    sets the value (the corridor, or an era scenario such as ``dover-summer-2023``),
    ``home_value`` the value it sets there.
    """

    path: str
    low: float
    high: float
    kind: Literal["integer", "number", "duration"]
    prior: str
    mean: float | None
    sd: float | None
    home_value: Any
    note: str
    home: str

    def scenario_value(self, x: float) -> Any:
        """The value written into a scenario for search value ``x``."""
        if self.kind == "integer":
            return round(x)
        if self.kind == "duration":  # whole tenths of a second
            return format_minutes(round(x * 60, 1) / 60)
        return float(f"{x:.4g}")  # four significant digits: finer than any target can tell

    def text(self, value: Any) -> str:
        """A scenario value as tables show it: durations of an hour or more in hours
        (the corridor file keeps the exact value)."""
        if self.kind == "duration" and parse_minutes(value) >= 60:
            return f"{parse_minutes(value) / 60:.1f}h"
        return str(value)

    def search_value(self, value: Any) -> float:
        """The search value of a scenario value (the inverse of :meth:`scenario_value`)."""
        return parse_minutes(value) if self.kind == "duration" else float(value)

    def from_unit(self, u: float) -> float:
        """The prior's quantile ``u`` in [0, 1): how prior draws are made."""
        if self.prior == "normal":
            assert self.mean is not None and self.sd is not None  # checked when read
            a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
            x = float(stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd))
        elif self.prior == "log-uniform":
            x = math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        if self.kind == "integer":  # equal cells per whole number, as in `sweep --design lhs`
            if self.prior == "uniform":
                return float(min(math.floor(self.low + u * (self.high - self.low + 1)),
                                 self.high))
            return float(min(max(round(x), self.low), self.high))
        return x


@dataclass(frozen=True)
class Spec:
    """A validated calibration problem."""

    name: str
    source: str
    corridor: Scenario
    home_texts: dict[str, str]  # each home's file as written (corridor first): fitted, edited
    parameters: tuple[Parameter, ...]
    targets: tuple[Target, ...]
    catalogue: tuple[Target, ...]  # every target the scenarios are measured for
    weights: dict[str, float]
    replications: int
    refine_replications: int
    trials: int
    startup_trials: int
    batch: int
    sampler: str
    seed: int
    text: str  # the spec as written, kept with the results
    generation_trials: int = 0  # smc: proposals per generation after the prior draws
    keep: int = 0  # smc: particles carried to the next generation (about)
    search_trials: int = 0  # smc: TPE trials after the prior draws, in generation 0

    @property
    def first_generation_trials(self) -> int:
        """smc's generation 0: the prior draws, then TPE's search."""
        return self.startup_trials + self.search_trials

    def without_scenario(self, scenario: str) -> Spec:
        """The same problem without one scenario's targets (a cross-validation fold)."""
        kept = tuple(t for t in self.targets if t.scenario != scenario)
        return replace(self, targets=kept, weights={t.key: self.weights[t.key] for t in kept})


def builtin_specs() -> list[str]:
    folder = resources.files(_BUILTIN_PACKAGE) / "builtin"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def load_spec(name_or_path: str | Path | None = None,
              catalogue: tuple[Target, ...] = TARGETS,
              scenarios: dict[str, Scenario] | None = None) -> Spec:
    """A checked spec from a built-in name (default: the shared corridor's) or a file.

    ``catalogue`` is the targets the spec may name (the validation targets);
    ``scenarios`` supplies scenarios by name instead of loading built-ins (tests).
    """
    text, source = _read(name_or_path or DEFAULT_SPEC)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError("", f"not valid YAML: {exc}", source) from None
    if not isinstance(data, dict):
        raise ScenarioError("", "a calibration spec is a mapping (name, parameters, ...)", source)
    try:
        model = SpecModel.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(p) for p in error["loc"])
        raise ScenarioError(field, error["msg"].removeprefix("Value error, "), source) from None
    return _check(model, text, source, catalogue, scenarios or {})


def _read(name_or_path: str | Path) -> tuple[str, str]:
    path = Path(name_or_path)
    if path.suffix in {".yaml", ".yml"} or len(path.parts) > 1:
        if not path.is_file():
            raise ScenarioError("", f"no calibration spec at {str(path)!r}")
        return path.read_text(encoding="utf-8"), str(path)
    if str(name_or_path) not in builtin_specs():
        raise ScenarioError("", f"unknown calibration spec {str(name_or_path)!r}; built-ins are "
                                f"{builtin_specs()}, or give a .yaml path")
    folder = resources.files(_BUILTIN_PACKAGE) / "builtin"
    return (folder / f"{name_or_path}.yaml").read_text(encoding="utf-8"), f"{name_or_path}"


def _check(model: SpecModel, text: str, source: str, catalogue: tuple[Target, ...],
           scenarios: dict[str, Scenario]) -> Spec:
    homes = {model.corridor: _home(model.corridor, "corridor", scenarios, source)}
    written = {model.corridor: yaml.compose(homes[model.corridor][1])}
    parameters = []
    for i, p in enumerate(model.parameters):
        reference = p.scenario or model.corridor
        if reference not in homes:
            homes[reference] = _home(reference, f"parameters[{i}].scenario", scenarios, source)
            written[reference] = yaml.compose(homes[reference][1])
        parameters.append(_parameter(i, p, homes[reference][0], source))
        if value_node(written[reference], p.path) is None:
            inherited = "" if reference == model.corridor else ", or inherited"
            raise ScenarioError(f"parameters[{i}].path", f"{p.path} is not written in "
                                f"{reference}'s file (a default{inherited}); calibrate values "
                                "the file sets", source)
    corridor = homes[model.corridor][0]
    paths = [p.path for p in parameters]
    if len(set(paths)) != len(paths):
        raise ScenarioError("parameters", "each path may appear once", source)
    known = {t.key: t for t in catalogue}
    chosen = model.targets if model.targets is not None else list(known)
    for i, key in enumerate(chosen):
        if key not in known:
            raise ScenarioError(f"targets[{i}]", f"unknown target {key!r}; `straits validate` "
                                                 f"targets are {', '.join(known)}", source)
    if not chosen:
        raise ScenarioError("targets", "name at least one target (or leave it out for all)",
                            source)
    for key, weight in model.weights.items():
        if key not in chosen:
            raise ScenarioError(f"weights.{key}", f"not one of the spec's targets: "
                                                  f"{', '.join(chosen)}", source)
        if not weight > 0:
            raise ScenarioError(f"weights.{key}", "a weight must be above 0", source)
    generation_trials = model.generation_trials or model.startup_trials
    keep = model.keep or max(2, generation_trials // 2)
    spec = Spec(
        name=model.name, source=source, corridor=corridor,
        home_texts={s.name: file_text for s, file_text in homes.values()},
        parameters=tuple(parameters),
        targets=tuple(known[k] for k in chosen), catalogue=catalogue,
        weights={k: model.weights.get(k, 1.0) for k in chosen},
        replications=model.replications, refine_replications=model.refine_replications,
        trials=model.trials, startup_trials=model.startup_trials, batch=model.batch,
        sampler=model.sampler, seed=model.seed, text=text,
        generation_trials=generation_trials, keep=keep, search_trials=model.search_trials,
    )
    check_sampler(spec)
    return spec


def check_sampler(spec: Spec) -> None:
    """What ``sampler: smc`` needs (also after ``--sampler smc`` overrides a spec).

    Generations must start on batch boundaries, so a resumed study proposes what the
    uninterrupted one would; a kernel needs at least two particles to measure a spread.
    """
    if spec.sampler != "smc":
        return
    fix = "(sampler: smc runs whole batches per generation)"
    if spec.startup_trials < 2 or spec.startup_trials % spec.batch:
        raise ScenarioError("startup_trials", f"must be a multiple of batch ({spec.batch}) and "
                                              f"at least 2, got {spec.startup_trials} {fix}",
                            spec.source)
    for field in ("generation_trials", "search_trials"):
        if getattr(spec, field) % spec.batch:
            raise ScenarioError(field, f"must be a multiple of batch ({spec.batch}), "
                                       f"got {getattr(spec, field)} {fix}", spec.source)
    most = min(spec.first_generation_trials, spec.generation_trials)
    if not 2 <= spec.keep <= most:
        raise ScenarioError("keep", f"must be 2 to {most} (at most a generation), "
                                    f"got {spec.keep}", spec.source)


def _home(reference: str, field: str, scenarios: dict[str, Scenario], source: str
          ) -> tuple[Scenario, str]:
    """A free value's home scenario (built-in, file, or supplied) and its file as written."""
    try:
        if reference in scenarios:
            return scenarios[reference], scenario_to_yaml(scenarios[reference])
        path = Path(reference)
        if path.suffix in {".yaml", ".yml"} or len(path.parts) > 1:
            return load_scenario(reference), path.read_text(encoding="utf-8")
        return load_scenario(reference), builtin_text(reference)
    except ScenarioError as exc:
        raise ScenarioError(field, exc.message, source) from None


def inherited_paths(mapping: dict[str, Any], home_values: dict[str, Any]) -> list[str]:
    """The free paths a scenario takes from their homes (the corridor, or the scenario a
    parameter names): those where its value equals the home's.

    A path the scenario sets itself, or lacks (a holding plan of its own; no cars), keeps
    the scenario's value. The behaviour rule's values are left out where the rule is off:
    they change nothing there, and leaving them out keeps the scenario (and its stored
    runs) the same whatever they are.
    """
    rule_off = not (mapping.get("behaviour") or {}).get("enabled", False)
    paths = []
    for path, value in home_values.items():
        if rule_off and path.startswith("behaviour."):
            continue
        try:
            if read_path(mapping, path) == value:
                paths.append(path)
        except ScenarioError:
            continue
    return paths


def value_node(root: yaml.Node | None, path: str) -> yaml.ScalarNode | None:
    """The scalar at a dotted path in composed YAML (list items by ``name`` or index)."""
    node = root
    for part in path.split("."):
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode):
            if part.isdigit() and int(part) < len(node.value):
                node = node.value[int(part)]
            else:
                node = next((item for item in node.value if isinstance(item, yaml.MappingNode)
                             and any(k.value == "name" and v.value == part
                                     for k, v in item.value)), None)
        else:
            return None
    return node if isinstance(node, yaml.ScalarNode) else None


def _parameter(index: int, p: ParameterSpec, home: Scenario, source: str) -> Parameter:
    where = f"parameters[{index}]"
    mapping = scenario_mapping(home)
    try:
        current = read_path(mapping, p.path)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}.path", f"{p.path}: {exc.message}", source) from None
    if isinstance(current, bool) or not isinstance(current, int | float | str):
        raise ScenarioError(f"{where}.path", f"{p.path} is {current!r}, not a number or "
                                             "duration", source)
    kind: Literal["integer", "number", "duration"] = (
        "duration" if isinstance(current, str) else
        "integer" if isinstance(current, int) else "number")

    def number(field: str, value: Any) -> float:
        try:
            return parse_minutes(value) if kind == "duration" else float(_plain(value))
        except (TypeError, ValueError):
            example = "'90s' or '3min'" if kind == "duration" else "a number"
            raise ScenarioError(f"{where}.{field}", f"{p.path} is a {kind}; give {example}, "
                                                    f"got {value!r}", source) from None

    low, high = number("low", p.low), number("high", p.high)
    if not low < high:
        raise ScenarioError(f"{where}.low", f"the low bound ({p.low}) must be below the high "
                                            f"bound ({p.high})", source)
    if kind == "integer" and not (low.is_integer() and high.is_integer()):
        raise ScenarioError(f"{where}.low", f"{p.path} is a whole number; give whole bounds",
                            source)
    if p.prior == "log-uniform" and low <= 0:
        raise ScenarioError(f"{where}.prior", "log-uniform needs a low bound above 0", source)
    mean = sd = None
    if p.prior == "normal":
        if p.mean is None or p.sd is None:
            raise ScenarioError(f"{where}.prior", "a normal prior needs mean and sd", source)
        mean, sd = number("mean", p.mean), number("sd", p.sd)
        if not sd > 0:
            raise ScenarioError(f"{where}.sd", "sd must be above 0", source)
    elif p.mean is not None or p.sd is not None:
        raise ScenarioError(f"{where}.mean", "mean and sd belong to a normal prior", source)
    parameter = Parameter(p.path, low, high, kind, p.prior, mean, sd, current, p.note,
                          home.name)
    for bound, field in ((low, "low"), (high, "high")):
        try:
            apply_overrides(mapping, {p.path: parameter.scenario_value(bound)})
        except ScenarioError as exc:
            raise ScenarioError(f"{where}.{field}", exc.message, source) from None
    return parameter


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError
    return value
