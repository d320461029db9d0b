"""The dashboard's levers: small edits to a scenario mapping, validated again by
the scenario schema so the web can never run something the CLI would refuse.

Each lever names the form field it came from, so an error lands next to it.
"""

from __future__ import annotations

import copy
import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from straits.scenario import (
    Scenario,
    ScenarioError,
    builtin_names,
    load_scenario,
    scenario_from_mapping,
    with_horizon,
)
from straits.scenario.distributions import ServiceTime
from straits.scenario.units import format_minutes

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StageLever(Strict):
    """Booths open at one stage of a terminal, and its mean check time."""

    terminal: Name
    stage: Name
    booths: Annotated[int, Field(ge=0, le=500)] | None = None
    check_minutes: Annotated[float, Field(gt=0, le=600)] | None = None


class StrikeLever(Strict):
    """A strike cutting a terminal's booths or a route's departures to a fraction."""

    target: Name
    start: datetime
    duration_hours: Annotated[float, Field(gt=0, le=24 * 366)]
    capacity_fraction: Annotated[float, Field(ge=0, le=1)] = 0.0


SecurityTarget = Literal["lorries", "port", "tunnel"]


class SecurityLevers(Strict):
    """Security levers, held for the whole run (only for scenarios with a security model)."""

    police: dict[SecurityTarget, Annotated[float, Field(ge=0, le=100_000)]] = {}
    fence_km: dict[Literal["port", "tunnel"], Annotated[float, Field(ge=0, le=1_000)]] = {}
    search_share: Annotated[float, Field(ge=0, le=1)] | None = None


class Levers(Strict):
    horizon_days: Annotated[float, Field(gt=0, le=366)] | None = None
    stages: Annotated[list[StageLever], Field(max_length=40)] = []
    strikes: Annotated[list[StrikeLever], Field(max_length=10)] = []
    holding_plan: Name = Field("as-scenario", description="'as-scenario' or a built-in "
                               "scenario whose Kent holding plan to use (see /api/scenarios/…).")
    security: SecurityLevers | None = None
    hauliers_respond: bool | None = Field(None, description="Switch the behaviour rule on or "
                                          "off (None: as the scenario has it).")


def apply_levers(scenario: Scenario, levers: Levers) -> Scenario:
    """The scenario with the levers applied, validated by the same schema."""
    if levers.horizon_days is not None:
        try:  # a shorter run keeps only the disruptions and security dates inside it
            scenario = with_horizon(scenario, round(levers.horizon_days * 1440.0, 6),
                                    source="levers")
        except ScenarioError as exc:
            raise ScenarioError(_lever_field(exc.field, len(scenario.disruptions)),
                                exc.message) from None
    data = copy.deepcopy(scenario.model_dump(mode="json"))
    strikes_from = len(data["disruptions"])
    for i, lever in enumerate(levers.stages):
        _apply_stage(data, lever, f"levers.stages[{i}]")
    for i, strike in enumerate(levers.strikes):
        data["disruptions"].append(_strike(data, strike, f"levers.strikes[{i}]"))
    if levers.holding_plan != "as-scenario":
        plans = holding_plans()
        if levers.holding_plan not in plans:
            raise ScenarioError("levers.holding_plan", f"unknown plan {levers.holding_plan!r}; "
                                f"choose from {['as-scenario', *plans]}")
        data["holding"]["southbound"] = copy.deepcopy(plans[levers.holding_plan][1])
    if levers.security is not None:
        _apply_security(data, levers.security)
    if levers.hauliers_respond is not None:  # the rule's parameters stay the scenario's
        data.setdefault("behaviour", {})["enabled"] = levers.hauliers_respond
    try:
        return scenario_from_mapping(data, source="levers")
    except ScenarioError as exc:
        field = _lever_field(exc.field, strikes_from)
        if field.startswith("holding.southbound") and levers.holding_plan != "as-scenario":
            field = "levers.holding_plan"
        raise ScenarioError(field, exc.message) from None


def _apply_stage(data: dict[str, Any], lever: StageLever, field: str) -> None:
    terminal = data["terminals"].get(lever.terminal)
    if terminal is None:
        raise ScenarioError(f"{field}.terminal", f"unknown terminal {lever.terminal!r}; "
                            f"choose from {sorted(data['terminals'])}")
    stages = {s["name"]: s for s in terminal["stages"]}
    stage = stages.get(lever.stage)
    if stage is None:
        raise ScenarioError(f"{field}.stage", f"terminal {lever.terminal!r} has no stage "
                            f"{lever.stage!r}; choose from {sorted(stages)}")
    if lever.booths is not None:
        stage["booths"] = lever.booths
    if lever.check_minutes is not None:
        stage["service_time"] = _with_mean(stage["service_time"], lever.check_minutes)


def _with_mean(service: dict[str, Any], minutes: float) -> dict[str, Any]:
    """The same distribution shape with a new mean check time."""
    model = TypeAdapter(ServiceTime).validate_python(service)
    return model.with_mean_minutes(round(minutes, 4)).model_dump(mode="json")


def _strike(data: dict[str, Any], strike: StrikeLever, field: str) -> dict[str, Any]:
    known = set(data["terminals"]) | set(data["routes"])
    if strike.target not in known:
        raise ScenarioError(f"{field}.target", f"unknown target {strike.target!r}; "
                            f"choose from {sorted(known)}")
    return {
        "name": f"strike at {strike.target} (dashboard)",
        "kind": "strike",
        "target": strike.target,
        "start": strike.start.replace(tzinfo=None).isoformat(timespec="minutes"),
        "duration": format_minutes(round(strike.duration_hours * 60.0, 4)),
        "capacity_fraction": strike.capacity_fraction,
    }


def _apply_security(data: dict[str, Any], levers: SecurityLevers) -> None:
    """Set the levers from the start and drop dated changes to the same settings,
    so the value chosen holds for the whole run."""
    security = data.get("security")
    if not isinstance(security, dict):
        raise ScenarioError("levers.security", "this scenario has no security model; "
                            "leave the security levers empty")
    paths: list[tuple[tuple[str, ...], float]] = [
        (("sites", t, "police"), v) for t, v in levers.police.items()]
    paths += [(("sites", t, "fence_km"), v) for t, v in levers.fence_km.items()]
    if levers.search_share is not None:
        paths.append((("controls", "search_share"), levers.search_share))
    for path, value in paths:
        node = security
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        for change in security.get("changes", []):
            _drop(change["set"], path)


def _drop(mapping: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = mapping
    for part in path[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    node.pop(path[-1], None)


def security_lever_values(scenario: Scenario) -> dict[str, Any] | None:
    """The security levers' values at the start of a scenario (None: no security model)."""
    security = scenario.security
    if security is None:
        return None
    return {"police": {t: s.police for t, s in security.sites.items()},
            "fence_km": {t: security.sites[t].fence_km for t in ("port", "tunnel")},
            "search_share": security.controls.search_share}


def _lever_field(field: str, strikes_from: int) -> str:
    """Point a schema error at the form field that caused it, where we can tell."""
    if field == "horizon":
        return "levers.horizon_days"
    match = re.match(r"^disruptions\[(\d+)\](.*)$", field)
    if match and int(match.group(1)) >= strikes_from:
        return f"levers.strikes[{int(match.group(1)) - strikes_from}]{match.group(2)}"
    return field


# --- holding plans for Kent ----------------------------------------------------------------

@cache
def holding_plans() -> dict[str, tuple[str, dict[str, Any]]]:
    """The distinct southbound (Kent) plans of the built-in scenarios, by the first
    scenario that uses each: (description, plan mapping)."""
    plans: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in ["corridor-2015", *builtin_names()]:
        plan = load_scenario(name).holding.southbound
        mapping = plan.model_dump(mode="json")
        if any(mapping == known for _, known in plans.values()):
            continue
        areas = " → ".join([a.name for a in plan.areas] + [f"{plan.overflow} (road)"])
        plans[name] = (f"as in {name}: {areas}", mapping)
    return plans


def holding_plan_descriptions() -> dict[str, str]:
    return {"as-scenario": "as written in the scenario",
            **{name: text for name, (text, _) in holding_plans().items()}}
