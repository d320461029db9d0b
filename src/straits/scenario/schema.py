"""The scenario: everything a replication needs, validated and typed.

Durations are written with units (``90s``, ``2h``) and held in minutes;
capacities and rates carry their unit in the field name. Cross-references
(a holding area serving a terminal, a disruption hitting a stage) are checked
here so the engine can trust the scenario it is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from straits.scenario.common import (
    DayOfWeekWeights,
    Fraction,
    HourOfDayWeights,
    StrictModel,
)
from straits.scenario.security import SecurityConfig
from straits.scenario.units import Minutes, format_minutes, parse_minutes

DIRECTIONS = ("southbound", "northbound")
Direction = Literal["southbound", "northbound"]
PositiveMinutes = Annotated[Minutes, Field(gt=0)]
NonNegativeMinutes = Annotated[Minutes, Field(ge=0)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=60)]


Model = StrictModel  # the corridor schema's base: strict and immutable


# --- service-time and duration distributions ---------------------------------


class Exponential(Model):
    distribution: Literal["exponential"]
    mean: PositiveMinutes


class Deterministic(Model):
    distribution: Literal["deterministic"]
    value: NonNegativeMinutes


class Lognormal(Model):
    distribution: Literal["lognormal"]
    mean: PositiveMinutes
    cv: Annotated[float, Field(gt=0, le=10)]


class Empirical(Model):
    """Observed service times, sampled with their weights (equal if omitted)."""

    distribution: Literal["empirical"]
    values: Annotated[list[NonNegativeMinutes], Field(min_length=1)]
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


ServiceTime = Annotated[
    Exponential | Deterministic | Lognormal | Empirical, Field(discriminator="distribution")
]


class UniformDuration(Model):
    distribution: Literal["uniform"]
    low: NonNegativeMinutes
    high: NonNegativeMinutes

    @model_validator(mode="after")
    def _ordered(self) -> UniformDuration:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class TriangularDuration(Model):
    distribution: Literal["triangular"]
    low: NonNegativeMinutes
    mode: NonNegativeMinutes
    high: NonNegativeMinutes

    @model_validator(mode="after")
    def _ordered(self) -> TriangularDuration:
        if not self.low <= self.mode <= self.high:
            raise ValueError("need low <= mode <= high")
        return self


class LognormalDuration(Model):
    distribution: Literal["lognormal"]
    mean: PositiveMinutes
    cv: Annotated[float, Field(gt=0, le=10)]


class FixedDuration(Model):
    distribution: Literal["fixed"] = "fixed"
    value: NonNegativeMinutes


def _fixed_if_string(value: object) -> object:
    return {"distribution": "fixed", "value": value} if isinstance(value, str) else value


DurationModel = FixedDuration | UniformDuration | TriangularDuration | LognormalDuration
DurationSpec = Annotated[
    DurationModel, BeforeValidator(_fixed_if_string), Field(discriminator="distribution")
]


# --- the corridor ------------------------------------------------------------


class Stage(Model):
    """A bank of booths lorries pass one at a time, in FIFO order."""

    name: Name
    booths: Annotated[int, Field(ge=0, le=500)]
    service_time: ServiceTime


class Terminal(Model):
    """A port or tunnel terminal: gate, FIFO stages, then the boarding lanes.

    ``buffer_lorries`` is how many lorries fit inside (booth queues and lanes);
    when it is full the gate closes and the queue backs onto the roads.
    """

    buffer_lorries: Annotated[int, Field(ge=1, le=100_000)]
    stages: Annotated[list[Stage], Field(min_length=1, max_length=8)]

    @field_validator("stages")
    @classmethod
    def _unique_stage_names(cls, stages: list[Stage]) -> list[Stage]:
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique, got {names}")
        return stages


class RouteTerminals(Model):
    """Which terminal a route leaves from in each direction."""

    southbound: Name
    northbound: Name


class VesselClass(Model):
    vessels: Annotated[int, Field(ge=0, le=100)]
    lorries_per_sailing: Annotated[int, Field(ge=1, le=1000)]
    name: str = ""


class FerryRoute(Model):
    """Ships shuttling between two ports: each does a round trip of
    2 × (crossing + turnaround), and the fleet is spread evenly over it."""

    kind: Literal["ferry"]
    terminals: RouteTerminals
    fleet: Annotated[list[VesselClass], Field(min_length=1)]
    crossing: PositiveMinutes
    turnaround: NonNegativeMinutes

    @property
    def vessels(self) -> int:
        return sum(c.vessels for c in self.fleet)


class TunnelRoute(Model):
    """Shuttles leaving on a fixed headway in each direction."""

    kind: Literal["tunnel"]
    terminals: RouteTerminals
    departures_per_hour: Annotated[float, Field(gt=0, le=60)]
    lorries_per_shuttle: Annotated[int, Field(ge=1, le=200)]
    crossing: PositiveMinutes


Route = Annotated[FerryRoute | TunnelRoute, Field(discriminator="kind")]


class DirectionDemand(Model):
    """Lorries arriving per day, shaped by hour of day and day of week.

    The profiles are relative weights; they are normalised to average 1 so
    ``lorries_per_day`` stays the mean daily volume.
    """

    lorries_per_day: Annotated[float, Field(ge=0, le=200_000)]
    hour_of_day: HourOfDayWeights
    day_of_week: DayOfWeekWeights


class Demand(Model):
    southbound: DirectionDemand
    northbound: DirectionDemand


class RouteChoice(Model):
    """How lorries pick a route.

    ``shares``: each lorry takes a route at random with the given shares.
    ``shortest_expected_wait``: a ``captive_share`` of lorries (booked,
    contracted) follow the shares; the rest take the route whose terminal
    promises the earliest crossing given the lorries ahead of them.
    """

    rule: Literal["shares", "shortest_expected_wait"] = "shares"
    shares: dict[Name, Annotated[float, Field(ge=0)]]
    captive_share: Fraction = 1.0

    @field_validator("shares")
    @classmethod
    def _sum_to_one(cls, shares: dict[str, float]) -> dict[str, float]:
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1, they add up to {total:g}")
        return shares


class HoldingArea(Model):
    """A place lorries wait on the way to a terminal (a lane, a lorry park)."""

    name: Name
    road: str = ""
    capacity_lorries: Annotated[int, Field(ge=0, le=100_000)]
    length_km: Annotated[float, Field(ge=0, le=500)]
    lanes: Annotated[int, Field(ge=1, le=6)] = 1
    serves: Annotated[list[Name], Field(min_length=1)]
    stack_or_brock: bool = False


class HoldingPlan(Model):
    """Ordered storage areas: the queue fills them in order, then overflows.

    ``overflow`` is the unmanaged road queue beyond the last area.
    """

    lorry_spacing_m: Annotated[float, Field(gt=0, le=100)]
    areas: list[HoldingArea] = []
    overflow: Name
    overflow_lanes: Annotated[int, Field(ge=1, le=6)] = 1

    @field_validator("areas")
    @classmethod
    def _unique_area_names(cls, areas: list[HoldingArea]) -> list[HoldingArea]:
        names = [a.name for a in areas]
        if len(set(names)) != len(names):
            raise ValueError(f"holding area names must be unique, got {names}")
        return areas


class Holding(Model):
    southbound: HoldingPlan
    northbound: HoldingPlan


class Cost(Model):
    delay_gbp_per_lorry_hour: Annotated[float, Field(ge=0, le=10_000)]


class Diversion(Model):
    """Somewhere outside the Short Straits a lorry can go instead (other ports)."""

    share: Fraction  # of the diverted lorries that go here
    extra_cost_gbp_per_lorry: Annotated[float, Field(ge=0, le=100_000)]


class Behaviour(Model):
    """Hauliers who respond to what is published (docs/model.md, "Behaviour").

    At its planned departure each lorry reads the published expected delay of
    every route (refreshed every ``published_every``, so it lags the queue; an
    announced closure counts in full). An unbooked lorry takes the route with
    the earliest expected arrival, paying ``switch_penalty`` to leave its
    planned one. It then holds back with probability
    ``1 - exp(-(delay - hold_back_threshold) / hold_back_scale)`` (each lorry
    has one tolerance draw), looks again after ``recheck_after``, and leaves
    the Short Straits for one of ``diversions`` once it would have waited
    ``divert_after``. Lorries turned back at a stage come back after
    ``rejoin_after`` (ready) if it is given. Off unless ``enabled``.
    """

    enabled: bool = False
    published_every: PositiveMinutes = 60.0
    booked_share: Fraction = 1.0
    switch_penalty: NonNegativeMinutes = 60.0
    hold_back_threshold: NonNegativeMinutes = 120.0
    hold_back_scale: PositiveMinutes = 720.0
    recheck_after: PositiveMinutes = 180.0
    divert_after: PositiveMinutes = 1440.0
    diversions: dict[Name, Diversion] = {}
    rejoin_after: Annotated[DurationSpec | None, BeforeValidator(_fixed_if_string)] = None

    @field_validator("diversions")
    @classmethod
    def _shares_sum_to_one(cls, diversions: dict[str, Diversion]) -> dict[str, Diversion]:
        total = sum(d.share for d in diversions.values())
        if diversions and abs(total - 1.0) > 1e-6:
            raise ValueError(f"diversion shares must add up to 1, they add up to {total:g}")
        return diversions


# --- disruptions -------------------------------------------------------------


def _parse_start(value: object) -> object:
    """Keep ``+36h`` offsets as minutes; let pydantic read calendar datetimes."""
    if isinstance(value, str) and value.strip().startswith("+"):
        return timedelta(minutes=parse_minutes(value.strip()[1:]))
    return value


Start = Annotated[datetime | timedelta, BeforeValidator(_parse_start)]


class DisruptionBase(Model):
    name: str = ""
    start: Start
    duration: DurationSpec
    directions: list[Direction] = list(DIRECTIONS)


class CapacityCut(DisruptionBase):
    """A strike, blockade, closure or bad weather: a terminal's booths or a
    route's departures cut to ``capacity_fraction`` for the window
    ("some boats let through" is a fraction between 0 and 1)."""

    kind: Literal["strike", "blockade", "closure", "weather"]
    target: Name
    capacity_fraction: Fraction = 0.0


class TunnelSuspension(DisruptionBase):
    """No shuttle departs during the window."""

    kind: Literal["tunnel_suspension"]
    target: Name = "tunnel"


class SailingsCancelled(DisruptionBase):
    """A share of sailings cancelled (all of them by default)."""

    kind: Literal["sailings_cancelled"]
    target: Name = "ferry"
    share_cancelled: Fraction = 1.0


class VesselsWithdrawn(DisruptionBase):
    """Ships out of service; the last-listed vessels of the fleet go first."""

    kind: Literal["vessels_withdrawn"]
    target: Name = "ferry"
    vessels: Annotated[int, Field(ge=1, le=100)]


class BorderSlowdown(DisruptionBase):
    """Each lorry's service at a stage takes ``multiplier`` × as long, plus
    ``added`` (e.g. new checks). ``stage`` omitted: every stage of the terminal."""

    kind: Literal["border_slowdown"]
    target: Name
    stage: Name | None = None
    added: NonNegativeMinutes = 0.0
    multiplier: Annotated[float, Field(gt=0, le=100)] = 1.0


class Staffing(DisruptionBase):
    """Booths open at a stage set to ``booths`` for the window."""

    kind: Literal["staffing"]
    target: Name
    stage: Name
    booths: Annotated[int, Field(ge=0, le=500)]


class TurnBack(DisruptionBase):
    """Lorries not ready (papers, permits) are sent back at a stage: ``share`` of
    the lorries served there in the window leave the corridor instead of going on."""

    kind: Literal["turn_back"]
    target: Name
    stage: Name
    share: Fraction


class DemandShock(DisruptionBase):
    """Arrivals multiplied by ``multiplier`` (0.5: half the lorries set off)."""

    kind: Literal["demand_shock"]
    multiplier: Annotated[float, Field(ge=0, le=10)]


Disruption = Annotated[
    CapacityCut
    | TunnelSuspension
    | SailingsCancelled
    | VesselsWithdrawn
    | BorderSlowdown
    | Staffing
    | TurnBack
    | DemandShock,
    Field(discriminator="kind"),
]


# --- the scenario ------------------------------------------------------------


class Scenario(Model):
    """One what-if: the corridor, its demand, holding plans and disruptions."""

    name: Name
    description: str = ""
    start: datetime
    horizon: Annotated[Minutes, Field(gt=0, le=366 * 1440)]
    routes: Annotated[dict[Name, Route], Field(min_length=1)]
    terminals: Annotated[dict[Name, Terminal], Field(min_length=1)]
    demand: Demand
    route_choice: RouteChoice
    holding: Holding
    cost: Cost
    disruptions: list[Disruption] = []
    behaviour: Annotated[Behaviour | None, Field(exclude_if=lambda v: v is None)] = None
    security: Annotated[SecurityConfig | None, Field(exclude_if=lambda v: v is None)] = None

    @field_validator("start")
    @classmethod
    def _naive_start(cls, start: datetime) -> datetime:
        if start.tzinfo is not None:
            raise ValueError("give the start as local time without a time zone")
        return start

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _check_route_terminals(self)
        _check_route_choice(self)
        _check_holding(self)
        for i, disruption in enumerate(self.disruptions):
            _check_disruption(self, i, disruption)
        return self

    @property
    def behaviour_on(self) -> bool:
        """Whether hauliers respond to published delays (``behaviour.enabled``)."""
        return self.behaviour is not None and self.behaviour.enabled

    def terminals_for(self, direction: str) -> list[tuple[str, str]]:
        """(route, terminal) pairs a lorry can use in ``direction``, in route order."""
        return [(r, getattr(route.terminals, direction)) for r, route in self.routes.items()]

    def start_minutes(self, disruption: DisruptionBase) -> float:
        """Minutes from the scenario start to the disruption's start."""
        if isinstance(disruption.start, timedelta):
            return disruption.start.total_seconds() / 60.0
        return (disruption.start - self.start).total_seconds() / 60.0


class ScenarioReferenceError(ValueError):
    """A cross-reference that names nothing; ``loc`` says where."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _check_route_terminals(sc: Scenario) -> None:
    used: dict[str, str] = {}
    for route_name, route in sc.routes.items():
        for direction in DIRECTIONS:
            terminal = getattr(route.terminals, direction)
            loc = ("routes", route_name, "terminals", direction)
            if terminal not in sc.terminals:
                raise ScenarioReferenceError(
                    loc, f"unknown terminal {terminal!r}; known: {sorted(sc.terminals)}"
                )
            if terminal in used:
                raise ScenarioReferenceError(
                    loc, f"terminal {terminal!r} is already used by route {used[terminal]!r}"
                )
            used[terminal] = route_name
    if clash := sorted(set(sc.routes) & set(sc.terminals)):
        raise ScenarioReferenceError(
            ("routes",), f"routes and terminals need distinct names, both have {clash}"
        )


def _check_route_choice(sc: Scenario) -> None:
    if set(sc.route_choice.shares) != set(sc.routes):
        raise ScenarioReferenceError(
            ("route_choice", "shares"),
            f"give a share for every route {sorted(sc.routes)}, "
            f"got {sorted(sc.route_choice.shares)}",
        )


def _check_holding(sc: Scenario) -> None:
    for direction in DIRECTIONS:
        plan: HoldingPlan = getattr(sc.holding, direction)
        allowed = {t for _, t in sc.terminals_for(direction)}
        for i, area in enumerate(plan.areas):
            for terminal in area.serves:
                if terminal not in allowed:
                    raise ScenarioReferenceError(
                        ("holding", direction, "areas", i, "serves"),
                        f"{terminal!r} is not a {direction} terminal; "
                        f"choose from {sorted(allowed)}",
                    )
        if plan.overflow in {a.name for a in plan.areas}:
            raise ScenarioReferenceError(
                ("holding", direction, "overflow"), "the overflow needs a name of its own"
            )


def _check_disruption(sc: Scenario, i: int, d: DisruptionBase) -> None:
    loc: tuple[str | int, ...] = ("disruptions", i)
    start = sc.start_minutes(d)
    if start < 0 or start >= sc.horizon:
        end = sc.start + timedelta(minutes=sc.horizon)
        raise ScenarioReferenceError(
            (*loc, "start"),
            f"starts outside the horizon ({sc.start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}); "
            f"move it inside or lengthen the horizon",
        )
    target = getattr(d, "target", None)
    if target is None:
        return
    if isinstance(d, CapacityCut):
        known = set(sc.routes) | set(sc.terminals)
    elif isinstance(d, BorderSlowdown | Staffing | TurnBack):
        known = set(sc.terminals)
    elif isinstance(d, TunnelSuspension):
        known = {n for n, r in sc.routes.items() if isinstance(r, TunnelRoute)}
    else:
        known = {n for n, r in sc.routes.items() if isinstance(r, FerryRoute)}
    if target not in known:
        raise ScenarioReferenceError(
            (*loc, "target"), f"unknown target {target!r}; choose from {sorted(known)}"
        )
    stage = getattr(d, "stage", None)
    if stage is not None:
        stages = [s.name for s in sc.terminals[target].stages]
        if stage not in stages:
            raise ScenarioReferenceError(
                (*loc, "stage"), f"terminal {target!r} has no stage {stage!r}; choose from {stages}"
            )


__all__ = [
    "DIRECTIONS",
    "Behaviour",
    "BorderSlowdown",
    "CapacityCut",
    "DemandShock",
    "Deterministic",
    "Disruption",
    "Diversion",
    "Empirical",
    "Exponential",
    "FerryRoute",
    "HoldingArea",
    "HoldingPlan",
    "Lognormal",
    "SailingsCancelled",
    "Scenario",
    "ScenarioReferenceError",
    "Staffing",
    "Stage",
    "Terminal",
    "TunnelRoute",
    "TunnelSuspension",
    "TurnBack",
    "VesselsWithdrawn",
    "format_minutes",
]
