"""The scenario: everything a replication needs, validated and typed.

Durations are written with units (``90s``, ``2h``) and held in minutes;
capacities and rates carry their unit in the field name. Cross-references
(a holding area serving a terminal, a disruption hitting a stage) are checked
here so the engine can trust the scenario it is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import (
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from straits.scenario.clock import at
from straits.scenario.common import (
    DayOfWeekWeights,
    Fraction,
    HourOfDayWeights,
    Name,
    ScenarioReferenceError,
    Start,
    StrictModel,
    Text,
)
from straits.scenario.distributions import (
    DurationModel,
    DurationSpec,
    FixedDuration,
    ServiceTime,
    TriangularDuration,
    UniformDuration,
    _fixed_if_string,
)
from straits.scenario.limits import (
    FIRST_START_YEAR,
    LAST_START_YEAR,
    MAX_CROSSING_MINUTES,
    MAX_DEMAND_FACTOR,
    MAX_DISRUPTIONS,
    MAX_DURATION_MINUTES,
    MAX_HOLDING_AREAS,
    MAX_HORIZON_MINUTES,
    MAX_ROUTES,
    MAX_SERVICE_MINUTES,
    MAX_TERMINALS,
    MAX_TURNAROUND_MINUTES,
    MAX_VESSEL_CLASSES,
    MIN_CROSSING_MINUTES,
    MIN_DEPARTURES_PER_HOUR,
    MIN_LORRY_SPACING_M,
    MIN_TURNAROUND_MINUTES,
)
from straits.scenario.passenger_checks import check_calendar, check_passengers
from straits.scenario.passengers import Calendar, Passengers
from straits.scenario.security import Controls, SecurityConfig
from straits.scenario.units import (
    Minutes,
    NonNegativeMinutes,
    PositiveMinutes,
    format_minutes,
    minutes_between,
)

CrossingMinutes = Annotated[Minutes, minutes_between(MIN_CROSSING_MINUTES, MAX_CROSSING_MINUTES)]
TurnaroundMinutes = Annotated[
    Minutes, minutes_between(MIN_TURNAROUND_MINUTES, MAX_TURNAROUND_MINUTES)
]
AddedMinutes = Annotated[Minutes, minutes_between(0.0, MAX_SERVICE_MINUTES)]
HorizonMinutes = Annotated[Minutes, minutes_between(0.0, MAX_HORIZON_MINUTES, above_low=True)]

Direction = Literal["southbound", "northbound"]
DIRECTIONS: tuple[Direction, ...] = ("southbound", "northbound")


Model = StrictModel  # the corridor schema's base: strict and immutable


# --- the corridor ------------------------------------------------------------


class _Named(Protocol):
    name: str


_N = TypeVar("_N", bound=_Named)


def _unique_names(items: list[_N], what: str) -> list[_N]:
    """``items`` unchanged if no two share a name (a name is how every reference finds one)."""
    names = [item.name for item in items]
    if len(set(names)) != len(names):
        raise ValueError(f"{what} names must be unique, got {names}")
    return items


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
    # room inside for cars and coaches beyond the lorries' (tourist lanes), lane-metres
    passenger_lane_metres: Annotated[float, Field(ge=0, le=1_000_000,
                                                  exclude_if=lambda v: v == 0)] = 0.0

    @field_validator("stages")
    @classmethod
    def _unique_stage_names(cls, stages: list[Stage]) -> list[Stage]:
        return _unique_names(stages, "stage")


class RouteTerminals(Model):
    """Which terminal a route leaves from in each direction."""

    southbound: Name
    northbound: Name


class VesselClass(Model):
    vessels: Annotated[int, Field(ge=0, le=100)]
    lorries_per_sailing: Annotated[int, Field(ge=1, le=1000)]
    name: Text = ""
    # the whole vehicle deck, for mixed loads with passenger classes; default: the
    # lorries' own lane-metres only
    lane_metres: Annotated[float | None, Field(gt=0, le=20_000,
                                               exclude_if=lambda v: v is None)] = None


class FerryRoute(Model):
    """Ships shuttling between two ports: each does a round trip of
    2 × (crossing + turnaround), and the fleet is spread evenly over it."""

    kind: Literal["ferry"]
    terminals: RouteTerminals
    fleet: Annotated[list[VesselClass], Field(min_length=1, max_length=MAX_VESSEL_CLASSES)]
    crossing: CrossingMinutes
    turnaround: TurnaroundMinutes

    @property
    def vessels(self) -> int:
        return sum(c.vessels for c in self.fleet)


class TunnelRoute(Model):
    """Shuttles leaving on a fixed headway in each direction."""

    kind: Literal["tunnel"]
    terminals: RouteTerminals
    departures_per_hour: Annotated[float, Field(ge=MIN_DEPARTURES_PER_HOUR, le=60)]
    lorries_per_shuttle: Annotated[int, Field(ge=1, le=200)]
    crossing: CrossingMinutes
    # passenger shuttles (cars, coaches), separate from the freight ones
    passenger_departures_per_hour: Annotated[float, Field(
        ge=0, le=60, exclude_if=lambda v: v == 0)] = 0.0
    passenger_shuttle_lane_metres: Annotated[float, Field(
        ge=0, le=20_000, exclude_if=lambda v: v == 0)] = 0.0


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
    shares: dict[Name, Fraction]
    captive_share: Fraction = 1.0

    @field_validator("shares")
    @classmethod
    def _sum_to_one(cls, shares: dict[str, float]) -> dict[str, float]:
        total = sum(shares.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must add up to 1, they add up to {total:g}")
        return shares


class AreaDecision(Model):
    """When an area is called, set up, held and stood down (a police decision).

    Read at every ``decision_interval`` of the plan: the area is called when the
    lorries outside the gates of the terminals it serves reach
    ``call_at_queue_lorries``, when the plan's forecast of that queue reaches
    ``call_at_forecast_lorries``, or at a scheduled time (``call_at``); it is usable
    once ``set_up`` has passed (meanwhile its lorries stand on the open road);
    it stays in force at least ``minimum_in_force`` and is stood down once the
    queue has stayed below ``stand_down_below_lorries`` for ``stand_down_after``.
    """

    call_at_queue_lorries: Annotated[int | None, Field(ge=1, le=1_000_000,
                                                       exclude_if=lambda v: v is None)] = None
    call_at_forecast_lorries: Annotated[int | None, Field(ge=1, le=1_000_000,
                                                          exclude_if=lambda v: v is None)] = None
    call_at: list[Start] = []
    set_up: NonNegativeMinutes = 0.0
    minimum_in_force: NonNegativeMinutes = 0.0
    stand_down_below_lorries: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    stand_down_after: NonNegativeMinutes = 0.0

    @model_validator(mode="after")
    def _some_call(self) -> AreaDecision:
        if (self.call_at_queue_lorries is None and self.call_at_forecast_lorries is None
                and not self.call_at):
            raise ValueError("give call_at_queue_lorries, call_at_forecast_lorries or call_at "
                             "(or drop the decision)")
        return self


class HoldingArea(Model):
    """A place lorries wait on the way to a terminal (a lane, a lorry park).

    ``release: lanes`` keeps one queue per terminal (Brock: tunnel traffic
    leaves at J11A); ``release: fifo`` is one queue for every terminal it serves,
    released in arrival order (2015 Stack); ``release: alternate`` keeps a queue
    per terminal inside the area and releases each, in turn, no faster than its
    ``release_lorries_per_hour`` (police releasing port and tunnel lanes of
    Stack in turn). ``metering_lorries_per_hour`` lets
    lorries into the terminals it serves no faster than that while the area is
    in force (Dover TAP). Without a ``decision`` the area is always in force.
    """

    name: Name
    road: Text = ""
    capacity_lorries: Annotated[int, Field(ge=0, le=100_000)]
    length_km: Annotated[float, Field(ge=0, le=500)]
    lanes: Annotated[int, Field(ge=1, le=6)] = 1
    serves: Annotated[list[Name], Field(min_length=1, max_length=MAX_TERMINALS)]
    stack_or_brock: bool = False
    release: Literal["lanes", "fifo", "alternate"] = "lanes"
    release_lorries_per_hour: Annotated[dict[Name, Annotated[float, Field(gt=0, le=10_000)]]
                                        | None, Field(exclude_if=lambda v: v is None)] = None
    metering_lorries_per_hour: Annotated[float | None, Field(
        gt=0, le=10_000, exclude_if=lambda v: v is None)] = None
    decision: Annotated[AreaDecision | None, Field(exclude_if=lambda v: v is None)] = None

    @property
    def shared(self) -> bool:
        """Part of the direction's one shared holding queue (``fifo`` or ``alternate``)."""
        return self.release != "lanes"

    @model_validator(mode="after")
    def _rates_with_alternate(self) -> HoldingArea:
        if self.release == "alternate":
            rates = self.release_lorries_per_hour or {}
            missing = sorted(set(self.serves) - set(rates))
            if missing:
                raise ScenarioReferenceError(
                    ("release_lorries_per_hour",), f"give a rate for {missing} (release: "
                    "alternate releases each terminal it serves at its rate)", relative=True)
            extra = sorted(set(rates) - set(self.serves))
            if extra:
                raise ScenarioReferenceError(
                    ("release_lorries_per_hour",), f"{extra} not served by this area; "
                    f"choose from {sorted(self.serves)}", relative=True)
        elif self.release_lorries_per_hour is not None:
            raise ScenarioReferenceError(
                ("release_lorries_per_hour",), "applies to release: alternate only; drop it "
                "or set release: alternate", relative=True)
        return self


class HoldingPlan(Model):
    """Ordered storage areas: the queue fills them in order, then overflows.

    ``overflow`` is the unmanaged road queue beyond the last area.
    """

    lorry_spacing_m: Annotated[float, Field(ge=MIN_LORRY_SPACING_M, le=100)]
    areas: Annotated[list[HoldingArea], Field(max_length=MAX_HOLDING_AREAS)] = []
    overflow: Name
    overflow_lanes: Annotated[int, Field(ge=1, le=6)] = 1
    # assumption: how often the state is read; at least a minute bounds the work per day
    decision_interval: Annotated[Minutes, minutes_between(1.0, 24 * 60.0)] = 15.0
    forecast_horizon: PositiveMinutes = 360.0  # assumption: how far ahead forecasts look

    @property
    def has_decisions(self) -> bool:
        return any(a.decision is not None for a in self.areas)

    @field_validator("areas")
    @classmethod
    def _unique_area_names(cls, areas: list[HoldingArea]) -> list[HoldingArea]:
        return _unique_names(areas, "holding area")


class Holding(Model):
    southbound: HoldingPlan
    northbound: HoldingPlan


class Facility(Model):
    """A site outside the terminals (a test site, a paperwork check, an inland
    border facility) that ``share`` of a direction's lorries pass before the
    holding plan: FIFO booths open ``opening_hours`` each day, and a lorry park
    of ``capacity_lorries`` where they wait (beyond it, on its approach road).
    With ``serves``, only lorries bound for those terminals pass it (``share`` of
    them), and they keep that terminal."""

    name: Name
    direction: Direction
    road: Text = ""
    share: Fraction
    serves: Annotated[list[Name] | None, Field(min_length=1, max_length=MAX_TERMINALS,
                                               exclude_if=lambda v: v is None)] = None
    booths: Annotated[int, Field(ge=1, le=500)]
    service_time: ServiceTime
    opening_hours: Annotated[list[Annotated[int, Field(ge=0, le=24)]],
                             Field(min_length=2, max_length=2)] = [0, 24]
    capacity_lorries: Annotated[int, Field(ge=0, le=100_000)] = 0

    @field_validator("opening_hours")
    @classmethod
    def _open_before_close(cls, hours: list[int]) -> list[int]:
        if hours[0] >= hours[1]:
            raise ValueError("give [opening hour, closing hour] with opening < closing, "
                             "e.g. [6, 22]")
        return hours


class Cost(Model):
    delay_gbp_per_lorry_hour: Annotated[float, Field(ge=0, le=10_000)]


MAX_DIVERSIONS = 20  # places a diverted load can go; more is a typo, not a plan


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
    diversions: Annotated[dict[Name, Diversion], Field(max_length=MAX_DIVERSIONS)] = {}
    rejoin_after: Annotated[DurationSpec | None, BeforeValidator(_fixed_if_string)] = None

    @field_validator("diversions")
    @classmethod
    def _shares_sum_to_one(cls, diversions: dict[str, Diversion]) -> dict[str, Diversion]:
        total = sum(d.share for d in diversions.values())
        if diversions and abs(total - 1.0) > 1e-6:
            raise ValueError(f"diversion shares must add up to 1, they add up to {total:g}")
        return diversions


# --- disruptions -------------------------------------------------------------


class DisruptionBase(Model):
    name: Text = ""
    start: Start
    duration: DurationSpec
    directions: Annotated[list[Direction], Field(min_length=1, max_length=2)] = list(DIRECTIONS)


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
    added: AddedMinutes = 0.0
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


DisruptionModel = (
    CapacityCut
    | TunnelSuspension
    | SailingsCancelled
    | VesselsWithdrawn
    | BorderSlowdown
    | Staffing
    | TurnBack
    | DemandShock
)
Disruption = Annotated[DisruptionModel, Field(discriminator="kind")]


# --- the scenario ------------------------------------------------------------


class Scenario(Model):
    """One what-if: the corridor, its demand, holding plans and disruptions."""

    name: Name
    description: Text = ""
    start: datetime
    horizon: HorizonMinutes
    routes: Annotated[dict[Name, Route], Field(min_length=1, max_length=MAX_ROUTES)]
    terminals: Annotated[dict[Name, Terminal], Field(min_length=1, max_length=MAX_TERMINALS)]
    demand: Demand
    route_choice: RouteChoice
    holding: Holding
    cost: Cost
    disruptions: Annotated[list[Disruption], Field(max_length=MAX_DISRUPTIONS)] = []
    facilities: Annotated[list[Facility], Field(exclude_if=lambda v: not v)] = []
    behaviour: Annotated[Behaviour | None, Field(exclude_if=lambda v: v is None)] = None
    security: Annotated[SecurityConfig | None, Field(exclude_if=lambda v: v is None)] = None
    passengers: Annotated[Passengers | None, Field(exclude_if=lambda v: v is None)] = None
    calendar: Annotated[Calendar | None, Field(exclude_if=lambda v: v is None)] = None

    @field_validator("start")
    @classmethod
    def _naive_start(cls, start: datetime) -> datetime:
        if start.tzinfo is not None:
            raise ValueError("give the start as local time without a time zone")
        if not FIRST_START_YEAR <= start.year <= LAST_START_YEAR:
            raise ValueError(f"give a start between {FIRST_START_YEAR} and {LAST_START_YEAR}")
        return start

    @model_validator(mode="after")
    def _references(self) -> Scenario:
        _check_route_terminals(self)
        _check_route_choice(self)
        _check_holding(self)
        _check_facilities(self)
        for i, disruption in enumerate(self.disruptions):
            _check_disruption(self, i, disruption)
        for direction in DIRECTIONS:
            _check_demand_shocks(self, direction)
        if self.security is not None:
            _check_security(self, self.security)
        if self.passengers is not None:
            check_passengers(self, self.passengers)
        if self.calendar is not None:
            check_calendar(self.calendar)
        return self

    @property
    def behaviour_on(self) -> bool:
        """Whether hauliers respond to published delays (``behaviour.enabled``)."""
        return self.behaviour is not None and self.behaviour.enabled

    @property
    def active_behaviour(self) -> Behaviour | None:
        """The behaviour rule when it is on, else None."""
        return self.behaviour if self.behaviour_on else None

    def terminals_for(self, direction: str) -> list[tuple[str, str]]:
        """(route, terminal) pairs a lorry can use in ``direction``, in route order."""
        return [(r, getattr(route.terminals, direction)) for r, route in self.routes.items()]

    def start_minutes(self, disruption: DisruptionBase) -> float:
        """Minutes from the scenario start to the disruption's start."""
        return self.minutes_after_start(disruption.start)

    def minutes_after_start(self, when: datetime | timedelta) -> float:
        """Minutes from the scenario start to a calendar time or a ``+offset``."""
        if isinstance(when, timedelta):
            return when.total_seconds() / 60.0
        return (when - self.start).total_seconds() / 60.0

    @property
    def end(self) -> datetime:
        """The calendar time of the horizon."""
        return at(self.start, self.horizon)


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
        _check_decisions(sc, direction, plan)


def _check_facilities(sc: Scenario) -> None:
    names = [f.name for f in sc.facilities]
    for i, facility in enumerate(sc.facilities):
        if names.index(facility.name) != i:
            raise ScenarioReferenceError(("facilities", i, "name"),
                                         f"facility {facility.name!r} is named twice")
        allowed = [t for _, t in sc.terminals_for(facility.direction)]
        for terminal in facility.serves or []:
            if terminal not in allowed:
                raise ScenarioReferenceError(
                    ("facilities", i, "serves"),
                    f"{terminal!r} is not a {facility.direction} terminal; choose from "
                    f"{sorted(allowed)}")
    for direction in DIRECTIONS:
        for terminal in [t for _, t in sc.terminals_for(direction)]:
            total = sum(f.share for f in sc.facilities if f.direction == direction
                        and (f.serves is None or terminal in f.serves))
            if total > 1.0 + 1e-9:
                raise ScenarioReferenceError(
                    ("facilities",), f"{direction} facility shares for {terminal!r} add up to "
                    f"{total:g}; a lorry passes at most one facility, so keep them at most 1")
    if sc.facilities and sc.behaviour_on:
        raise ScenarioReferenceError(
            ("behaviour", "enabled"), "the behaviour rule does not yet model lorries that "
            "pass a facility first; set behaviour.enabled: false or remove the facilities")
    if sc.passengers is not None and sc.behaviour_on:
        raise ScenarioReferenceError(
            ("behaviour", "enabled"), "the behaviour rule does not yet model lorries that "
            "share the corridor with cars and coaches; set behaviour.enabled: false or "
            "remove passengers")


def _check_decisions(sc: Scenario, direction: str, plan: HoldingPlan) -> None:
    """One shared (``fifo`` or ``alternate``) queue per direction, released by one
    rule, and calls inside the horizon."""
    shared = [(i, a) for i, a in enumerate(plan.areas) if a.shared]
    for i, area in shared[1:]:
        first = shared[0][1]
        if area.release != first.release:
            raise ScenarioReferenceError(
                ("holding", direction, "areas", i, "release"),
                f"shared areas form one queue released one way: use release: {first.release} "
                f"as {first.name!r} does")
        if set(area.serves) != set(first.serves):
            raise ScenarioReferenceError(
                ("holding", direction, "areas", i, "serves"),
                f"{area.release} areas form one queue: serve {sorted(first.serves)} "
                f"as {first.name!r} does",
            )
        if area.release_lorries_per_hour != first.release_lorries_per_hour:
            raise ScenarioReferenceError(
                ("holding", direction, "areas", i, "release_lorries_per_hour"),
                f"alternate areas form one queue: give the rates {first.name!r} gives")
    for i, area in enumerate(plan.areas):
        for k, moment in enumerate(area.decision.call_at if area.decision else []):
            if not 0 <= sc.minutes_after_start(moment) < sc.horizon:
                raise ScenarioReferenceError(
                    ("holding", direction, "areas", i, "decision", "call_at", k),
                    "call time outside the horizon; move it inside or lengthen the horizon",
                )


def _check_disruption(sc: Scenario, i: int, d: DisruptionBase) -> None:
    loc: tuple[str | int, ...] = ("disruptions", i)
    start = sc.start_minutes(d)
    if start < 0 or start >= sc.horizon:
        raise ScenarioReferenceError(
            (*loc, "start"),
            f"starts outside the horizon ({_span(sc)}); move it inside or lengthen the horizon",
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


def _check_demand_shocks(sc: Scenario, direction: str) -> None:
    """Shocks that may overlap (each at its longest) must not multiply demand by more
    than MAX_DEMAND_FACTOR: stacked, they would ask for more lorries than any road."""
    changes: list[tuple[float, int, float]] = []
    for i, d in enumerate(sc.disruptions):
        if isinstance(d, DemandShock) and direction in d.directions and d.multiplier > 1:
            start = sc.start_minutes(d)
            end = min(start + _longest_minutes(d.duration), sc.horizon)
            changes += [(start, 1, d.multiplier), (end, 0, 1 / d.multiplier)]
            factor = 1.0
            for _, _, step in sorted(changes):
                factor *= step
                if factor > MAX_DEMAND_FACTOR * (1 + 1e-9):
                    raise ScenarioReferenceError(
                        ("disruptions", i, "multiplier"),
                        f"with the {direction} demand shocks it may overlap, demand could be "
                        f"multiplied by {factor:g}; at most {MAX_DEMAND_FACTOR:g}: lower the "
                        "multipliers or separate the shocks",
                    )


def _longest_minutes(duration: DurationModel) -> float:
    """The longest a duration can be (a lognormal has no longest: the whole run)."""
    if isinstance(duration, FixedDuration):
        return duration.value
    if isinstance(duration, UniformDuration | TriangularDuration):
        return duration.high
    return MAX_DURATION_MINUTES


def _span(sc: Scenario) -> str:
    return f"{sc.start:%Y-%m-%d %H:%M} to {sc.end:%Y-%m-%d %H:%M}"


def _check_security(sc: Scenario, security: SecurityConfig) -> None:
    """The security section's names exist in the corridor and its dates fall in the run."""
    if sc.horizon < 60:
        raise ScenarioReferenceError(
            ("horizon",), "a scenario with a security section needs at least 1h: its balance "
            "is hourly; lengthen the horizon"
        )
    for i, period in enumerate(security.report_periods):
        if period.end <= sc.start or period.start >= sc.end:
            raise ScenarioReferenceError(
                ("security", "report_periods", i),
                f"{period.name!r} lies outside the scenario ({_span(sc)}); move it inside",
            )
    previous = 0.0
    for i, change in enumerate(security.changes):
        minutes = sc.minutes_after_start(change.start)
        loc: tuple[str | int, ...] = ("security", "changes", i, "start")
        if not 0.0 <= minutes < sc.horizon:
            raise ScenarioReferenceError(
                loc, f"falls outside the horizon ({_span(sc)}); move it inside")
        if minutes < previous:
            raise ScenarioReferenceError(loc, "changes must be listed in time order")
        previous = minutes
    tunnels = sorted(n for n, r in sc.routes.items() if isinstance(r, TunnelRoute))
    for k, (_, policy) in enumerate(security.policies()):
        where: tuple[str | int, ...] = ("security",) if k == 0 else (
            "security", "changes", k - 1, "set")
        _check_controls(sc, policy.controls, where)
        if policy.coupling.tunnel_route not in tunnels:
            raise ScenarioReferenceError(
                (*where, "coupling", "tunnel_route"),
                f"unknown tunnel route {policy.coupling.tunnel_route!r}; choose from {tunnels}",
            )


def _check_controls(sc: Scenario, controls: Controls, where: tuple[str | int, ...]) -> None:
    for terminal in controls.terminals:
        if terminal not in sc.terminals:
            raise ScenarioReferenceError(
                (*where, "controls", "terminals"),
                f"unknown terminal {terminal!r}; choose from {sorted(sc.terminals)}",
            )
        stages = [st.name for st in sc.terminals[terminal].stages]
        if controls.stage not in stages:
            raise ScenarioReferenceError(
                (*where, "controls", "stage"),
                f"terminal {terminal!r} has no stage {controls.stage!r}; choose from {stages}",
            )


__all__ = [
    "DIRECTIONS",
    "AreaDecision",
    "Behaviour",
    "BorderSlowdown",
    "CapacityCut",
    "DemandShock",
    "Disruption",
    "DisruptionModel",
    "Diversion",
    "Facility",
    "FerryRoute",
    "HoldingArea",
    "HoldingPlan",
    "SailingsCancelled",
    "Scenario",
    "Staffing",
    "Stage",
    "Terminal",
    "TunnelRoute",
    "TunnelSuspension",
    "TurnBack",
    "VesselsWithdrawn",
    "format_minutes",
]
