"""A run's work, estimated from the scenario alone, and the budget it must fit.

Memory and time of a replication grow with the lorries it simulates (several
arrays of one float per lorry and stage), the departures its timetables
produce (laid out and thinned by disruptions in Python), the disruption
schedules and, with a ``security`` section, the hours of the people model
times the coupling passes (each pass reruns the engine). Every figure here
comes from the scenario's numbers, before anything is allocated, so a request
that would take gigabytes is refused in milliseconds with the figure that
breaks the budget and the field to change.

The estimates are upper-ish: disruption windows are taken at their most
costly duration (demand shocks that raise demand at their longest, those that
lower it at their shortest; lognormal durations at their 99.9th percentile).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace

import numpy as np

from straits.scenario import ScenarioError
from straits.scenario.schema import (
    DIRECTIONS,
    BorderSlowdown,
    CapacityCut,
    DemandShock,
    FerryRoute,
    SailingsCancelled,
    Scenario,
    Staffing,
    TunnelRoute,
    TunnelSuspension,
    TurnBack,
    VesselsWithdrawn,
)

BYTES_PER_LORRY_STAGE = 3 * 8  # service draw, turn-back draw, and a share of start/end times
BYTES_PER_LORRY = 16 * 8  # arrival, terminal, gate, departure, exit, delays, choice draws …


@dataclass(frozen=True)
class WorkEstimate:
    """What one replication of a scenario will do (both directions)."""

    lorries: float  # expected arrivals, demand shocks included
    lorries_by_direction: dict[str, float]
    departures: float  # scheduled departures, every route
    departures_by_route: dict[str, float]
    stages: int  # booth stages a lorry's arrays span, in the busier direction
    hours: float
    schedule_steps: float  # Python-level steps laying out departures and disruption schedules
    security_hours: int  # hours of the people model per pass (0 without security)
    engine_passes: int  # engine runs per replication (the coupling's max_iterations)

    @property
    def memory_bytes(self) -> float:
        """Peak memory of one replication above the interpreter's own (an upper estimate)."""
        per_lorry = BYTES_PER_LORRY + BYTES_PER_LORRY_STAGE * self.stages
        return self.lorries * per_lorry + self.departures * 6 * 8

    def lorry_passes(self, replications: int) -> float:
        """Lorries simulated in all: the run's time scales with this."""
        return self.lorries * self.engine_passes * replications


@dataclass(frozen=True)
class WorkBudget:
    """The most a server (or a machine) agrees to run in one request.

    The defaults are the web dashboard's: at most about 0.5 GB for a replication
    and a minute or two of one core for a run; every built-in at the dashboard's
    largest settings (62 days, 10 replications) fits (see docs/web.md).
    """

    max_lorries: float = 3_000_000  # per replication, both directions
    max_departures: float = 1_000_000  # per replication, both directions
    max_schedule_steps: float = 20_000_000
    max_lorry_passes: float = 60_000_000  # lorries × engine passes × replications
    max_security_hour_passes: float = 200_000  # people-model hours × passes × replications

    @classmethod
    def for_machine(cls, share_of_memory: float = 0.5) -> WorkBudget:
        """A budget for the command line: one replication may use ``share_of_memory``
        of this machine's physical memory; time is the user's to spend."""
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (ValueError, OSError, AttributeError):
            memory = 8 * 1024**3  # assumption where the OS does not say
        lorries = share_of_memory * memory / (BYTES_PER_LORRY + BYTES_PER_LORRY_STAGE * 8)
        return replace(cls(), max_lorries=lorries, max_departures=lorries / 4,
                       max_schedule_steps=math.inf, max_lorry_passes=math.inf,
                       max_security_hour_passes=math.inf)


def estimate_work(scenario: Scenario) -> WorkEstimate:
    """The work of one replication of ``scenario``, from its numbers alone."""
    hours = scenario.horizon / 60.0
    by_direction: dict[str, float] = {d: _expected_lorries(scenario, d) for d in DIRECTIONS}
    by_route = {name: sum(_departures(route, scenario.horizon) for _ in DIRECTIONS)
                for name, route in scenario.routes.items()}
    stages = max(sum(len(scenario.terminals[t].stages) for _, t in scenario.terminals_for(d))
                 for d in DIRECTIONS)
    security_hours, passes = 0, 1
    if scenario.security is not None:
        security_hours = math.ceil(hours)
        passes = max(p.coupling.max_iterations for _, p in scenario.security.policies())
    return WorkEstimate(
        lorries=sum(by_direction.values()), lorries_by_direction=by_direction,
        departures=sum(by_route.values()), departures_by_route=by_route, stages=stages,
        hours=hours, schedule_steps=_schedule_steps(scenario, by_route),
        security_hours=security_hours, engine_passes=passes)


def check_work(scenario: Scenario, replications: int = 1,
               budget: WorkBudget | None = None) -> WorkEstimate:
    """The estimate, or a :class:`ScenarioError` naming the field that breaks the budget."""
    budget = budget or WorkBudget()
    work = estimate_work(scenario)
    if not work.lorries <= budget.max_lorries:
        raise ScenarioError(_lorries_field(scenario, work, budget.max_lorries),
                            f"about {_figure(work.lorries)} lorries per replication (demand × "
                            f"horizon × demand shocks); the budget is "
                            f"{_figure(budget.max_lorries)}: lower lorries_per_day, soften the "
                            f"shocks or shorten the horizon ({work.hours / 24:g} days)")
    if not work.departures <= budget.max_departures:
        route = max(work.departures_by_route, key=lambda r: work.departures_by_route[r])
        what = ("crossing" if isinstance(scenario.routes[route], FerryRoute)
                else "departures_per_hour")
        raise ScenarioError(f"routes.{route}.{what}",
                            f"about {_figure(work.departures)} departures per replication; the "
                            f"budget is {_figure(budget.max_departures)}: check the timetable "
                            f"or shorten the horizon")
    if not work.schedule_steps <= budget.max_schedule_steps:
        raise ScenarioError("disruptions",
                            f"about {_figure(work.schedule_steps)} steps to lay out "
                            f"{len(scenario.disruptions)} disruptions over the timetables; the "
                            f"budget is {_figure(budget.max_schedule_steps)}: use fewer, "
                            f"longer disruptions")
    if not work.lorry_passes(replications) <= budget.max_lorry_passes:
        field = "replications" if replications > 1 else "security.coupling.max_iterations"
        raise ScenarioError(field,
                            f"about {_figure(work.lorry_passes(replications))} lorries to simulate "
                            f"({_figure(work.lorries)} × {work.engine_passes} engine passes × "
                            f"{replications} replications); the budget is "
                            f"{_figure(budget.max_lorry_passes)}: ask for fewer")
    security = work.security_hours * work.engine_passes * replications
    if not security <= budget.max_security_hour_passes:
        raise ScenarioError("security.coupling.max_iterations",
                            f"about {_figure(security)} people-model hours (hours × "
                            f"{work.engine_passes} passes × {replications} replications); the "
                            f"budget is {_figure(budget.max_security_hour_passes)}: lower "
                            f"max_iterations or shorten the horizon")
    return work


# --- the pieces --------------------------------------------------------------------------------

def _expected_lorries(scenario: Scenario, direction: str, with_shocks: bool = True) -> float:
    """Integral of the arrival rate over the horizon, minute by minute on the clock."""
    demand = getattr(scenario.demand, direction)
    minutes = math.ceil(scenario.horizon)
    with np.errstate(all="ignore"):
        hours = np.asarray(demand.hour_of_day, dtype=float)
        days = np.asarray(demand.day_of_week, dtype=float)
        hours, days = hours / hours.mean(), days / days.mean()
        first = scenario.start.hour * 60 + scenario.start.minute
        clock = first + np.arange(minutes)
        weight = hours[(clock // 60) % 24] * days[(scenario.start.weekday() + clock // 1440) % 7]
        if with_shocks:
            weight = weight * _shock_factor(scenario, direction, minutes)
        total = float(demand.lorries_per_day / 1440.0 * weight.sum())
    return total if math.isfinite(total) else math.inf


def _shock_factor(scenario: Scenario, direction: str, minutes: int) -> np.ndarray:
    """Demand multiplier in each minute: stacked shocks multiply (as in the engine)."""
    log_factor = np.zeros(minutes + 1)
    zeros = np.zeros(minutes + 1, dtype=np.int64)
    for d in scenario.disruptions:
        if not isinstance(d, DemandShock) or direction not in d.directions:
            continue
        start = scenario.start_minutes(d)
        raising = d.multiplier >= 1.0
        duration = d.duration.upper_minutes if raising else d.duration.lower_minutes
        end = min(start + duration, scenario.horizon)
        # minute resolution, rounded the costly way: outward when raising, inward when not
        lo, hi = ((math.floor(start), math.ceil(end)) if raising
                  else (math.ceil(start), math.floor(end)))
        lo, hi = max(lo, 0), min(hi, minutes)
        if hi <= lo:
            continue
        if d.multiplier == 0.0:
            zeros[lo] += 1
            zeros[hi] -= 1
        else:
            log_factor[lo] += math.log(d.multiplier)
            log_factor[hi] -= math.log(d.multiplier)
    factor = np.exp(np.cumsum(log_factor)[:minutes])
    return np.where(np.cumsum(zeros)[:minutes] > 0, 0.0, factor)


def _departures(route: FerryRoute | TunnelRoute, horizon_minutes: float) -> float:
    """Departures of one route in one direction (what the timetable arrays will hold)."""
    if isinstance(route, FerryRoute):
        cycle = 2.0 * (route.crossing + route.turnaround)
        with np.errstate(all="ignore"):
            trips = horizon_minutes / cycle if cycle > 0 else math.inf
        return route.vessels * (trips + 1)  # each ship leaves at most once per cycle
    return math.floor(horizon_minutes * route.departures_per_hour / 60.0)


def _schedule_steps(scenario: Scenario, departures_by_route: dict[str, float]) -> float:
    """Departures × the disruptions that may thin them, plus the breakpoint × window scans
    of each stage's booth and speed schedules and the demand grid of each shock."""
    steps = 0.0
    route_kinds = (CapacityCut, TunnelSuspension, SailingsCancelled, VesselsWithdrawn)
    stage_kinds = (CapacityCut, Staffing, BorderSlowdown, TurnBack)
    for name, departures in departures_by_route.items():
        cuts = sum(1 for d in scenario.disruptions
                   if isinstance(d, route_kinds) and d.target == name)
        steps += departures * (1 + cuts)
    for name, terminal in scenario.terminals.items():
        windows = sum(1 for d in scenario.disruptions
                      if isinstance(d, stage_kinds) and d.target == name)
        steps += len(terminal.stages) * (2 * windows + 1) * windows * 2
    shocks = sum(1 for d in scenario.disruptions if isinstance(d, DemandShock))
    steps += shocks * (scenario.horizon / 60.0 + 2 * shocks) * len(DIRECTIONS)
    return steps


def _lorries_field(scenario: Scenario, work: WorkEstimate, limit: float) -> str:
    """The field to change: the strongest demand shock when shocks alone break the budget,
    else the busier direction's daily volume."""
    unshocked = sum(_expected_lorries(scenario, d, with_shocks=False) for d in DIRECTIONS)
    shocks = [(i, d) for i, d in enumerate(scenario.disruptions)
              if isinstance(d, DemandShock) and d.multiplier > 1.0]
    if unshocked <= limit and shocks:
        i, _ = max(shocks, key=lambda pair: pair[1].multiplier
                   * pair[1].duration.upper_minutes)
        return f"disruptions[{i}].multiplier"
    busier = max(work.lorries_by_direction, key=lambda d: work.lorries_by_direction[d])
    return f"demand.{busier}.lorries_per_day"


def _figure(value: float) -> str:
    if not math.isfinite(value):
        return "unboundedly many"
    return f"{value:,.0f}"


__all__ = ["WorkBudget", "WorkEstimate", "check_work", "estimate_work"]
