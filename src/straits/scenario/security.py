"""The ``security:`` section of a scenario: people, barriers, detection, harm.

An aggregate model of movements near Calais for planning and humanitarian
analysis: counts per hour, no persons. Every lever is a scenario value;
``changes`` re-set any of them from a date on (a fence finished, more
police, a surge of attempts), so one scenario can follow a season.

Rates that are not measured anywhere are marked as assumptions in the
built-in scenarios and calibrated against facts F4 (docs/security.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator

from straits.scenario.common import (
    DayOfWeekWeights,
    Fraction,
    HourOfDayWeights,
    Name,
    ScenarioReferenceError,
    Start,
    StrictModel,
    Text,
    deep_merge,
    error_location,
)
from straits.scenario.limits import (
    MAX_COST_GBP,
    MAX_REPORT_PERIODS,
    MAX_SECURITY_CHANGES,
    MAX_SECURITY_RATE,
    MAX_SERVICE_MINUTES,
    MAX_TERMINALS,
)
from straits.scenario.units import Minutes, minutes_between

TARGETS = ("lorries", "port", "tunnel")
TECHNOLOGIES = ("visual_search", "dogs", "co2_probe", "heartbeat_monitor", "scanner")

Probability = Fraction
Rate = Annotated[float, Field(ge=0, le=MAX_SECURITY_RATE)]
Pounds = Annotated[float, Field(ge=0, le=MAX_COST_GBP)]
SearchMinutes = Annotated[Minutes, minutes_between(0.0, MAX_SERVICE_MINUTES)]
NIGHT = [1.0] * 4 + [0.6, 0.3] + [0.1] * 14 + [0.3, 0.6, 1.0, 1.0]  # assumption: dusk to dawn




class Population(StrictModel):
    """The camp near Calais: who is there and who comes and goes (F4.1)."""

    initial_people: Annotated[int, Field(ge=0, le=1_000_000)]
    arrivals_per_day: Annotated[float, Field(ge=0, le=100_000)]
    departure_share_per_day: Probability = 0.0  # moving on, claiming asylum in France


class Attempts(StrictModel):
    """How often a person tries, per target, before any deterrence.

    ``per_person_per_day`` is the rate at full opportunity; for lorries the
    opportunity is exposure / (exposure + ``lorry_half_saturation``), where
    exposure is stationary UK-bound lorries on French roads plus
    ``moving_lorry_weight`` × lorries passing in the hour.
    """

    per_person_per_day: dict[str, Rate]
    hour_of_day: HourOfDayWeights = NIGHT
    day_of_week: DayOfWeekWeights = [1.0] * 7
    lorry_half_saturation: Annotated[float, Field(gt=0, le=MAX_SECURITY_RATE)] = 500.0
    moving_lorry_weight: Rate = 0.3
    deterrence_elasticity: Rate = 1.0  # attempts scale with (chance past site security)^e

    @field_validator("per_person_per_day")
    @classmethod
    def _targets(cls, rates: dict[str, float]) -> dict[str, float]:
        return _known_keys(rates, TARGETS, "target")

    @model_validator(mode="after")
    def _at_most_once_an_hour(self) -> Attempts:
        """The hourly balance lets a person try at most once an hour; check the
        busiest hour at full opportunity and no deterrence (an upper bound)."""
        busiest = (max(self.hour_of_day) / sum(self.hour_of_day)
                   * max(self.day_of_week) / (sum(self.day_of_week) / 7))
        per_hour = sum(self.per_person_per_day.values()) * busiest
        if per_hour > 1.0:
            raise ScenarioReferenceError(
                ("per_person_per_day",),
                f"a person would try {per_hour:.2f} times in the busiest hour; at most once "
                "an hour: lower the rates or flatten hour_of_day",
                relative=True,
            )
        return self


class Site(StrictModel):
    """A perimeter with a fence and people guarding it (port, tunnel) or a road
    patrol (lorries: fence fields unused). Police find intruders with
    diminishing returns: p = police_max_probability × (1 − exp(−police / police_scale))."""

    perimeter_km: Annotated[float, Field(gt=0, le=1000)] = 1.0
    fence_km: Annotated[float, Field(ge=0, le=1000)] = 0.0
    fence_quality: Probability = 0.0  # share stopped where fenced
    police: Annotated[float, Field(ge=0, le=100_000)] = 0.0
    police_scale: Annotated[float, Field(gt=0, le=MAX_SECURITY_RATE)] = 200.0
    police_max_probability: Probability = 0.5
    abandon_probability: Probability = 0.0
    bypasses_controls_share: Probability = 0.0  # boards after the controls (tunnel platforms)


class Technology(StrictModel):
    """A search method used on ``use_share`` of the searched lorries."""

    detection_probability: Probability
    time_cost: SearchMinutes
    use_share: Probability = 1.0


class Controls(StrictModel):
    """Searches at the juxtaposed UK controls (F1.15: ~35% of lorries checked).

    The corridor's ``uk_border`` service already holds
    ``search_minutes_in_corridor_service`` of search per lorry; only the
    difference lengthens (or shortens) the border stage.
    """

    search_share: Probability
    technologies: dict[str, Technology] = {}
    search_minutes_in_corridor_service: SearchMinutes = 0.0
    terminals: Annotated[list[Name], Field(max_length=MAX_TERMINALS)] = ["calais", "coquelles"]
    stage: Name = "uk_border"
    uk_arrival_detection_probability: Probability = 0.0

    @field_validator("technologies")
    @classmethod
    def _known(cls, techs: dict[str, Technology]) -> dict[str, Technology]:
        return _known_keys(techs, TECHNOLOGIES, "technology")


class Returns(StrictModel):
    """Returns of detected people, and the deterrence the governments hoped for.

    ``deterrence``: arrivals × (1 − ``arrivals_reduction_at_full_returns`` ×
    share_of_detected) — an assumption; switch it off to see returns alone.
    """

    share_of_detected: Probability = 0.0
    deterrence: bool = True
    arrivals_reduction_at_full_returns: Probability = 0.5


class Harm(StrictModel):
    """Deaths and injuries (assumptions calibrated to F4.4).

    ``death_probability``: per attempt that gets past the perimeter (on the
    tracks, among moving lorries); for lorries it is the rate at stationary
    lorries, × ``moving_lorry_death_multiplier`` for the moving share of the
    exposure. ``injury_probability``: per attempt, whatever its outcome.
    """

    death_probability: dict[str, Probability]
    injury_probability: dict[str, Probability]
    moving_lorry_death_multiplier: Annotated[float, Field(ge=0, le=1000)] = 10.0

    @field_validator("death_probability", "injury_probability")
    @classmethod
    def _targets(cls, rates: dict[str, float]) -> dict[str, float]:
        return _known_keys(rates, TARGETS, "target")


class Coupling(StrictModel):
    """Intrusions onto the tunnel site suspend shuttles (F4.6).

    Each hour, P(suspension) = 1 − (1 − ``suspension_probability_per_intrusion``)^intrusions;
    a suspension lasts ``suspension_duration``. Solved by fixed-point iteration.
    """

    tunnel_route: Name = "tunnel"
    suspension_probability_per_intrusion: Probability = 0.0
    suspension_duration: Annotated[Minutes, minutes_between(0.0, 1440.0, above_low=True)] = 60.0
    max_iterations: Annotated[int, Field(ge=1, le=50)] = 8


class Costs(StrictModel):
    """Cost of the measures where known (F4.5); omitted items are not costed."""

    fence_gbp_per_km: Pounds | None = None
    police_gbp_per_officer_day: Pounds | None = None
    search_gbp_per_lorry: Pounds | None = None
    secure_parking_gbp_per_space_day: Pounds | None = None


class Policy(StrictModel):
    """Every lever in force at one time."""

    population: Population
    attempts: Attempts
    sites: dict[str, Site]
    controls: Controls
    secure_parking_lorries: Annotated[int, Field(ge=0, le=100_000)] = 0
    returns: Returns = Returns()
    harm: Harm
    coupling: Coupling = Coupling()
    costs: Costs = Costs()

    @field_validator("sites")
    @classmethod
    def _sites(cls, sites: dict[str, Site]) -> dict[str, Site]:
        sites = _known_keys(sites, TARGETS, "site")
        missing = [t for t in TARGETS if t not in sites]
        if missing:
            raise ValueError(f"give a site for every target {list(TARGETS)}; missing {missing}")
        return sites


class Change(StrictModel):
    """From ``start`` on, ``set`` is merged into the levers (mappings key by key)."""

    name: Text = ""
    start: Start
    set: dict[str, Any]


class ReportPeriod(StrictModel):
    """A named calendar window the KPIs are also given for (e.g. a calibration target)."""

    name: Name
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> ReportPeriod:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class SecurityConfig(Policy):
    """The ``security:`` section: levers at the start, their changes, report periods."""

    changes: Annotated[list[Change], Field(max_length=MAX_SECURITY_CHANGES)] = []
    report_periods: Annotated[list[ReportPeriod], Field(max_length=MAX_REPORT_PERIODS)] = []

    @model_validator(mode="after")
    def _changes_valid(self) -> SecurityConfig:
        self.policies()
        return self

    def policies(self) -> list[tuple[datetime | timedelta | None, Policy]]:
        """The levers in force from the start and after each change, in listed order."""
        current = self.model_dump(exclude={"changes", "report_periods"})
        out: list[tuple[datetime | timedelta | None, Policy]] = [(None, Policy(**current))]
        for i, change in enumerate(self.changes):
            current = deep_merge(current, change.set)
            try:
                out.append((change.start, Policy.model_validate(current)))
            except ValidationError as exc:
                loc, message = error_location(exc.errors(include_url=False)[0])
                raise ScenarioReferenceError(
                    ("security", "changes", i, "set", *loc), message) from None
        return out


def _known_keys(mapping: dict[str, Any], known: tuple[str, ...], what: str) -> dict[str, Any]:
    for key in mapping:
        if key not in known:
            raise ValueError(f"unknown {what} {key!r}; choose from {list(known)}")
    return mapping


__all__ = ["TARGETS", "TECHNOLOGIES", "Controls", "Policy", "SecurityConfig"]
