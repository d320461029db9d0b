"""The study file: decision variables with cost models, objectives, constraints, budget.

Validated before any work starts, like a scenario: an unknown field, a path
that is not a numeric field of the scenario, a cost without its unit or a KPI
the scenario does not produce is a :class:`StudyError` naming the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator

from straits.experiments.sweep import apply_overrides, read_path, scenario_mapping
from straits.scenario import Scenario, ScenarioError, load_scenario, scenario_from_mapping
from straits.scenario.common import StrictModel

PLAN_KPIS = ("plan.cost_gbp", "plan.capital_gbp", "plan.running_gbp")
STATISTICS = "mean, pNN (e.g. p90), share_at_most or share_at_least (with threshold)"
DO_NOTHING = "do_nothing"
_PERCENTILE = re.compile(r"p(\d{1,2}(\.\d+)?)$")
_HOURS_PER = {"hour": 1.0, "day": 24.0}


class StudyError(ScenarioError):
    """Bad study input: ``field`` names where in the study file, ``message`` the fix."""


class Cost(StrictModel):
    """What one unit of a decision variable costs, above the do-nothing value.

    ``capital_gbp`` is paid once per unit added; ``running_gbp`` per unit per
    ``running_per`` (hour or day) while the plan is in force. Both need the
    ``unit`` they are counted in; each default cites F4.5 or says assumption.
    """

    unit: str | None = None
    capital_gbp: Annotated[float, Field(ge=0)] = 0.0
    running_gbp: Annotated[float, Field(ge=0)] = 0.0
    running_per: Literal["hour", "day"] | None = None
    source: str = ""

    @model_validator(mode="after")
    def _units(self) -> Cost:
        if (self.capital_gbp or self.running_gbp) and not (self.unit or "").strip():
            raise ValueError("unit: a cost needs the unit it is counted in, e.g. unit: officer")
        if self.running_gbp and self.running_per is None:
            raise ValueError("running_per: a running cost needs its period: hour or day")
        return self


class Variable(StrictModel):
    """One decision: a numeric scenario field by dotted path, its bounds and cost."""

    path: str
    type: Literal["int", "float"]
    low: float
    high: float
    cost: Cost = Cost()

    @model_validator(mode="after")
    def _bounds(self) -> Variable:
        if not self.low < self.high:
            raise ValueError("high: must be above low")
        if self.type == "int" and not (float(self.low).is_integer()
                                       and float(self.high).is_integer()):
            raise ValueError("low: an int variable needs whole-number bounds")
        return self


class Measure(StrictModel):
    """A KPI statistic over a plan's replications (the shared part of goals and limits).

    ``kpi`` is a dotted KPI of ``straits run --json`` or ``plan.cost_gbp``
    (``plan.capital_gbp``, ``plan.running_gbp``) from the cost model.
    ``statistic``: ``mean``, ``pNN``, ``share_at_most`` / ``share_at_least``
    (the share of replications with the KPI at most / at least ``threshold``).
    ``relative_to_do_nothing``: the statistic minus the do-nothing plan's.
    """

    kpi: str
    statistic: str = "mean"
    threshold: float | None = None
    relative_to_do_nothing: bool = False

    @model_validator(mode="after")
    def _statistic(self) -> Measure:
        s = self.statistic
        if s.startswith("share_"):
            if s not in ("share_at_most", "share_at_least"):
                raise ValueError(f"statistic: unknown {s!r}; choose {STATISTICS}")
            if self.threshold is None:
                raise ValueError(f"threshold: {s} needs the threshold it counts against")
        elif s != "mean" and not _PERCENTILE.match(s):
            raise ValueError(f"statistic: unknown {s!r}; choose {STATISTICS}")
        return self

    @property
    def label(self) -> str:
        stat = self.statistic + (f"({self.threshold:g})" if self.threshold is not None else "")
        return f"{stat} {self.kpi}" + (" vs do-nothing" if self.relative_to_do_nothing else "")


class Objective(Measure):
    direction: Literal["minimise", "maximise"] = "minimise"


class Constraint(Measure):
    """The statistic must stay within ``min``/``max``; a bound may be ``do_nothing``."""

    min: float | Literal["do_nothing"] | None = None
    max: float | Literal["do_nothing"] | None = None

    @model_validator(mode="after")
    def _a_bound(self) -> Constraint:
        if self.min is None and self.max is None:
            raise ValueError("max: give max, min or both (a number or do_nothing)")
        return self


class Budget(StrictModel):
    """How much work the study does (each can be changed on the command line)."""

    trials: Annotated[int, Field(ge=1, le=100_000)] = 24
    batch: Annotated[int, Field(ge=2, le=1000)] = 8
    replications: Annotated[int, Field(ge=1, le=10_000)] = 2
    front_replications: Annotated[int, Field(ge=1, le=10_000)] = 4
    rerun_replications: Annotated[int, Field(ge=2, le=10_000)] = 4
    rerun_plans: Annotated[int, Field(ge=1, le=100)] = 5
    seed: Annotated[int, Field(ge=0)] = 0

    def largest_run(self, replications: int | None = None) -> int:
        """Replications of one plan's largest run (the search's, with ``replications``
        overriding the study's, the front's or the fresh-seed re-run's): what a work
        budget must allow."""
        search = replications or self.replications
        return max(search, self.front_replications, self.rerun_replications)


class Reference(StrictModel):
    """A plan to show next to the optimised ones (e.g. what was actually done).

    ``scenario`` is a built-in or a path relative to the study file;
    ``cost_gbp`` its cost of measures, with ``cost_source`` saying where it comes from.
    """

    name: str
    scenario: str
    cost_gbp: Annotated[float, Field(ge=0)]
    cost_source: str = ""


class Study(StrictModel):
    name: str
    description: str = ""
    scenario: str
    fixed: dict[str, Any] = Field(default_factory=dict)
    running_days: Annotated[float, Field(gt=0)] | None = None  # default: the horizon
    variables: Annotated[list[Variable], Field(min_length=1)]
    objectives: Annotated[list[Objective], Field(min_length=1)]
    constraints: list[Constraint] = Field(default_factory=list)
    show: list[str] = Field(default_factory=list)  # always shown (harm)
    notes: list[str] = Field(default_factory=list)  # shown with the result
    references: list[Reference] = Field(default_factory=list)
    budget: Budget = Budget()

    @property
    def measures(self) -> list[Measure]:
        return [*self.objectives, *self.constraints]

    def digest(self) -> str:
        """What fixes the results (not the budget): resuming needs the same digest."""
        defining = self.model_dump(mode="json", exclude={"budget", "description", "notes"})
        defining["seed"] = self.budget.seed
        return hashlib.sha256(json.dumps(defining, sort_keys=True).encode()).hexdigest()[:16]


class LoadedStudy:
    """A validated study with its base scenario (the do-nothing plan) resolved."""

    def __init__(self, study: Study, base: Scenario, base_dir: Path | None,
                 references: list[tuple[Reference, Scenario]]):
        self.study = study
        self.base = base
        self.base_dir = base_dir
        self.references = references
        self.mapping = scenario_mapping(base)

    @cached_property
    def defaults(self) -> dict[str, Any]:
        """The do-nothing value at every variable's path."""
        return {v.path: read_path(self.mapping, v.path) for v in self.study.variables}

    @property
    def scenarios(self) -> list[Scenario]:
        """Every scenario the study runs: its base (each plan edits it) and its references."""
        return [self.base, *(scenario for _, scenario in self.references)]

    @property
    def running_hours(self) -> float:
        days = self.study.running_days
        return days * 24.0 if days is not None else self.base.horizon / 60.0

    def plan_scenario(self, values: dict[str, Any]) -> Scenario:
        """The base scenario with a plan's values set (validated like a scenario file)."""
        return apply_overrides(self.mapping, values) if values else self.base

    def costs(self, values: dict[str, Any]) -> dict[str, float]:
        """Capital and running £ of the units a plan adds (or removes) over do-nothing."""
        capital = running = 0.0
        for v in self.study.variables:
            added = float(values.get(v.path, self.defaults[v.path])) - float(self.defaults[v.path])
            capital += v.cost.capital_gbp * max(added, 0.0)
            if v.cost.running_gbp:
                running += (v.cost.running_gbp * added * self.running_hours
                            / _HOURS_PER[v.cost.running_per or "day"])
        return {"plan.capital_gbp": capital, "plan.running_gbp": running,
                "plan.cost_gbp": capital + running}


def builtin_studies() -> list[str]:
    folder = resources.files("straits.optimisation") / "builtin"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_study(name_or_path: str | Path) -> LoadedStudy:
    """Read, validate and resolve a study (built-in name or YAML path)."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise StudyError("", f"no study file {str(path)!r}; built-ins: "
                                 f"{', '.join(builtin_studies())}")
        text, source, base_dir = path.read_text(), str(path), path.parent
    elif str(name_or_path) in builtin_studies():
        folder = resources.files("straits.optimisation") / "builtin"
        text = (folder / f"{name_or_path}.yaml").read_text()
        source, base_dir = f"builtin:{name_or_path}", Path(str(folder))
    else:
        raise StudyError("", f"no built-in study {str(name_or_path)!r}; choose one of "
                             f"{', '.join(builtin_studies())} or give a YAML path")
    return study_from_text(text, source, base_dir)


def study_from_text(text: str, source: str = "<study>", base_dir: Path | None = None
                    ) -> LoadedStudy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StudyError("", f"not valid YAML: {exc}", source) from None
    if not isinstance(data, dict):
        raise StudyError("", "a study is a mapping of fields (name, scenario, variables, ...)",
                         source)
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        raise _study_error(exc, source) from None
    base = _scenario(study.scenario, base_dir, "scenario", source)
    if study.fixed:
        base = _with(base, study.fixed, "fixed", source)
    loaded = LoadedStudy(study, base, base_dir, [])
    _check_variables(loaded, source)
    loaded.references = [(r, _scenario(r.scenario, base_dir, f"references[{i}].scenario",
                                       source)) for i, r in enumerate(study.references)]
    return loaded


def check_kpis(loaded: LoadedStudy, known: set[str], source: str = "") -> None:
    """Every objective, constraint and shown KPI must be one the scenario produces."""
    named = [(f"objectives[{i}].kpi", m.kpi) for i, m in enumerate(loaded.study.objectives)]
    named += [(f"constraints[{i}].kpi", m.kpi) for i, m in enumerate(loaded.study.constraints)]
    named += [(f"show[{i}]", k) for i, k in enumerate(loaded.study.show)]
    for field, kpi in named:
        if kpi in known or kpi in PLAN_KPIS or kpi.startswith("disruptions."):
            continue
        close = sorted(k for k in known if kpi.split(".")[-1] in k)[:6] or list(PLAN_KPIS)
        raise StudyError(field, f"unknown KPI {kpi!r}; e.g. {', '.join(close)} "
                                "(all: `straits run SCENARIO --json`, or plan.cost_gbp)", source)


def _check_variables(loaded: LoadedStudy, source: str) -> None:
    for i, v in enumerate(loaded.study.variables):
        field = f"variables[{i}].path"
        try:
            current = read_path(loaded.mapping, v.path)
        except ScenarioError as exc:
            raise StudyError(field, f"{v.path}: {exc.message}", source) from None
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise StudyError(field, f"{v.path} is {current!r}, not a number; "
                                    "choose a numeric field", source)
        if v.type == "int" and not float(current).is_integer():
            raise StudyError(f"variables[{i}].type", f"{v.path} holds {current}; use float",
                             source)
        for bound in (v.low, v.high):
            value = int(bound) if v.type == "int" else float(bound)
            _with(loaded.base, {v.path: value}, f"variables[{i}].low", source)


def _scenario(name: str, base_dir: Path | None, field: str, source: str) -> Scenario:
    candidate = (base_dir / name) if base_dir is not None else Path(name)
    target = candidate if name.endswith((".yaml", ".yml")) and candidate.exists() else name
    try:
        return load_scenario(target)
    except ScenarioError as exc:
        raise StudyError(field, str(exc), source) from None


def _with(base: Scenario, values: dict[str, Any], field: str, source: str) -> Scenario:
    try:
        return apply_overrides(scenario_mapping(base), values)
    except ScenarioError as exc:
        raise StudyError(field, str(exc), source) from None


def _study_error(exc: ValidationError, source: str) -> StudyError:
    error = exc.errors()[0]
    loc = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in error["loc"])
    loc = loc.replace(".[", "[")
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field; check the spelling (docs/optimisation.md lists the fields)"
    elif error["type"] == "missing":
        message = "required field is missing"
    field, _, rest = message.partition(": ")
    if rest and re.fullmatch(r"[a-z_]+", field):
        loc, message = f"{loc}.{field}" if loc else field, rest
    return StudyError(loc, message, source)




def probe_scenario(base: Scenario) -> Scenario:
    """A one-hour copy of the base scenario that names the same KPIs at almost no cost.

    Security ``changes`` and disruptions may fall outside one hour, so they are left out;
    changes add no KPI and disruption KPIs (``disruptions.N.*``) are accepted by prefix.
    """
    data = scenario_mapping(base)
    data["horizon"] = f"{min(base.horizon, 60.0)}min"
    if data.get("security"):
        data["security"]["changes"] = []
        end = (base.start + timedelta(minutes=min(base.horizon, 60.0))).isoformat()
        for period in data["security"].get("report_periods", []):
            period.update(start=base.start.isoformat(), end=end)  # same names, inside
    data["disruptions"] = []  # their KPIs are disruptions.N.*, checked by prefix
    return scenario_from_mapping(data, source="probe")
