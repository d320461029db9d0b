"""Model build: a scenario and its sampled disruptions → one direction's arrays.

This is where names become indices: terminals of a direction are numbered in
route order, their stages flattened, their departures concatenated, so the
compiled loop sees only typed arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypedDict

import numpy as np

from straits.engine.behaviour import behaviour_parameters
from straits.engine.decisions import holding_input
from straits.engine.demand import (
    calendar_factors,
    minutes_to_the_next_hour,
    poisson_arrivals,
    rate_per_minute,
)
from straits.engine.disruptions import (
    Window,
    apply_to_departures,
    booth_schedule,
    demand_edges_and_factor,
    speed_schedule,
)
from straits.engine.event_loop import (
    RULE_SHARES,
    RULE_SHORTEST_EXPECTED_WAIT,
    DirectionInput,
)
from straits.engine.timetable import headway_minutes, route_departures
from straits.scenario.schema import FerryRoute, Scenario


class StageScheduleFields(TypedDict):
    """The stage-schedule fields of a ``DirectionInput``."""

    booths_initial: np.ndarray
    booth_change_minutes: np.ndarray
    booth_change_count: np.ndarray
    booth_change_offset: np.ndarray
    speed_change_minutes: np.ndarray
    speed_multiplier: np.ndarray
    speed_added_minutes: np.ndarray
    turn_back_share: np.ndarray
    speed_change_offset: np.ndarray


@dataclass
class StageSchedules:
    """Each stage's booth and service-speed changes, flattened in stage order for the loop.

    One builder for the lorries' stages and the passenger classes' own banks, so both
    reach the loop laid out the same way.
    """

    booths_initial: list[int] = field(default_factory=list)
    change_minutes: list[float] = field(default_factory=list)
    change_booths: list[int] = field(default_factory=list)
    change_offset: list[int] = field(default_factory=lambda: [0])
    speed_minutes: list[float] = field(default_factory=list)
    speed_multiplier: list[float] = field(default_factory=list)
    speed_added: list[float] = field(default_factory=list)
    turn_back_share: list[float] = field(default_factory=list)
    speed_offset: list[int] = field(default_factory=lambda: [0])

    @classmethod
    def of(cls, built: DirectionInput) -> StageSchedules:
        """Continue the schedules of a built direction (to append more stages)."""
        return cls(list(built.booths_initial), list(built.booth_change_minutes),
                   list(built.booth_change_count), list(built.booth_change_offset),
                   list(built.speed_change_minutes), list(built.speed_multiplier),
                   list(built.speed_added_minutes), list(built.turn_back_share),
                   list(built.speed_change_offset))

    def add(self, windows: list[Window], terminal: str, stage: str, booths: int,
            turns_back: bool = True) -> tuple[int, list[tuple[float, int]]]:
        """Append one stage; its initial booths and booth changes (for the booth log).

        ``turns_back=False`` keeps a turn-back window's speed change but not its share
        (turn-backs are for lorries' papers).
        """
        initial, changes = booth_schedule(windows, terminal, stage, booths)
        self.booths_initial.append(initial)
        self.change_minutes.extend(m for m, _ in changes)
        self.change_booths.extend(b for _, b in changes)
        self.change_offset.append(len(self.change_minutes))
        times, multiplier, added, turn_back = speed_schedule(windows, terminal, stage)
        self.speed_minutes.extend(times)
        self.speed_multiplier.extend(multiplier)
        self.speed_added.extend(added)
        self.turn_back_share.extend(turn_back if turns_back else [0.0] * len(turn_back))
        self.speed_offset.append(len(self.speed_minutes))
        return initial, changes

    def fields(self) -> StageScheduleFields:
        """The loop's stage-schedule fields of a ``DirectionInput``."""
        return {
            "booths_initial": np.array(self.booths_initial, dtype=np.int64),
            "booth_change_minutes": np.array(self.change_minutes, dtype=float),
            "booth_change_count": np.array(self.change_booths, dtype=np.int64),
            "booth_change_offset": np.array(self.change_offset, dtype=np.int64),
            "speed_change_minutes": np.array(self.speed_minutes, dtype=float),
            "speed_multiplier": np.array(self.speed_multiplier, dtype=float),
            "speed_added_minutes": np.array(self.speed_added, dtype=float),
            "turn_back_share": np.array(self.turn_back_share, dtype=float),
            "speed_change_offset": np.array(self.speed_offset, dtype=np.int64),
        }


@dataclass(frozen=True)
class DirectionLayout:
    """Names and fixed numbers of one direction, indexed as in the arrays."""

    direction: str
    routes: list[str]
    terminals: list[str]
    stage_names: list[list[str]]
    crossing_minutes: np.ndarray  # per terminal
    free_flow_minutes: np.ndarray  # per terminal: mean service + half headway + crossing
    buffer_lorries: np.ndarray  # per terminal
    departure_scheduled_capacity: np.ndarray  # before disruptions
    departure_vessel: np.ndarray
    booth_log: list[tuple[str, str, float, int]]  # (terminal, stage, from minute, booths)


def build_direction(
    scenario: Scenario, direction: str, windows: list[Window], rng_seed: np.random.SeedSequence
) -> tuple[DirectionInput, DirectionLayout]:
    """Draw arrivals and service times and lay out the direction's network."""
    arrivals_ss, choice_ss, captive_ss, services_ss, turn_back_ss, behaviour_ss = \
        rng_seed.spawn(6)
    horizon = scenario.horizon
    pairs = scenario.terminals_for(direction)
    routes = [route for route, _ in pairs]
    terminals = [terminal for _, terminal in pairs]

    edges, factor = demand_edges_and_factor(windows, direction, horizon,
                                            minutes_to_the_next_hour(scenario.start))
    demand = getattr(scenario.demand, direction)
    rate = rate_per_minute(demand, scenario.start, edges) * factor
    if scenario.calendar is not None:
        rate = rate * calendar_factors(scenario, "hgv", edges)
    arrivals = poisson_arrivals(rate, edges, np.random.default_rng(arrivals_ss))
    n = int(arrivals.shape[0])

    stage_specs = [st for name in terminals for st in scenario.terminals[name].stages]
    n_stages = np.array([len(scenario.terminals[name].stages) for name in terminals],
                        dtype=np.int64)
    stage_offset = np.concatenate([[0], np.cumsum(n_stages)[:-1]]).astype(np.int64)
    behaviour = behaviour_inputs(scenario, n, behaviour_ss)
    reaching = _lorries_reaching(scenario, routes, behaviour["booked_uniform"])
    stage_reaching = [rows for rows, count in zip(reaching, n_stages, strict=True)
                      for _ in range(count)]
    service = np.zeros((n, len(stage_specs)))
    for g, (spec, ss) in enumerate(zip(stage_specs, services_ss.spawn(len(stage_specs)),
                                       strict=True)):
        rows = stage_reaching[g]
        rng = np.random.default_rng(ss)
        if rows is None:
            service[:, g] = spec.service_time.sample(rng, n)
        elif rows.size:  # only the lorries that can reach this terminal
            service[rows, g] = spec.service_time.sample(rng, rows.size)

    schedules = StageSchedules()
    booth_log = []
    for terminal in terminals:
        for st in scenario.terminals[terminal].stages:
            initial, changes = schedules.add(windows, terminal, st.name, st.booths)
            booth_log.append((terminal, st.name, 0.0, initial))
            booth_log.extend((terminal, st.name, m, b) for m, b in changes)

    dep_minutes, dep_cap, dep_sched, dep_vessel, dep_off = [], [], [], [], [0]
    crossing, free_flow, half_headway = [], [], []
    for route_name, terminal in pairs:
        route = scenario.routes[route_name]
        departures = route_departures(route, direction, horizon)
        fleet = route.vessels if isinstance(route, FerryRoute) else 0
        dep_minutes.append(departures.minutes)
        dep_sched.append(departures.capacity)
        dep_vessel.append(departures.vessel)
        dep_cap.append(apply_to_departures(windows, route_name, direction, departures, fleet))
        dep_off.append(dep_off[-1] + departures.minutes.shape[0])
        crossing.append(route.crossing)
        service_mean = sum(s.service_time.mean_minutes for s in scenario.terminals[terminal].stages)
        free_flow.append(service_mean + headway_minutes(route) / 2 + route.crossing)
        half_headway.append(headway_minutes(route) / 2)

    choice = scenario.route_choice
    shares = np.array([choice.shares[route] for route in routes])
    rule = RULE_SHARES if choice.rule == "shares" else RULE_SHORTEST_EXPECTED_WAIT
    inputs = DirectionInput(
        arrival_minutes=arrivals,
        choice_uniform=_uniforms(choice_ss, n),
        captive_uniform=_uniforms(captive_ss, n),
        base_service_minutes=service,
        rule=rule,
        captive_share=float(choice.captive_share),
        share_cumulative=np.cumsum(shares) / shares.sum(),
        free_flow_minutes=np.array(free_flow),
        buffer_lorries=np.array([scenario.terminals[name].buffer_lorries for name in terminals],
                                dtype=np.int64),
        n_stages=n_stages,
        stage_offset=stage_offset,
        turn_back_uniform=_turn_back_draws(schedules.turn_back_share, n, len(stage_specs),
                                           turn_back_ss),
        **schedules.fields(),
        departure_minutes=np.concatenate(dep_minutes),
        departure_capacity=np.concatenate(dep_cap).astype(np.int64),
        departure_offset=np.array(dep_off, dtype=np.int64),
        horizon_minutes=float(horizon),
        holding=holding_input(getattr(scenario.holding, direction), terminals,
                              scenario.minutes_after_start,
                              demand.lorries_per_day / 1440.0 * shares / shares.sum()),
        stage_mean_minutes=np.array([st.service_time.mean_minutes for st in stage_specs]),
        half_headway_minutes=np.array(half_headway),
        **behaviour,
    )
    layout = DirectionLayout(
        direction=direction,
        routes=routes,
        terminals=terminals,
        stage_names=[[s.name for s in scenario.terminals[name].stages] for name in terminals],
        crossing_minutes=np.array(crossing),
        free_flow_minutes=np.array(free_flow),
        buffer_lorries=inputs.buffer_lorries,
        departure_scheduled_capacity=np.concatenate(dep_sched).astype(np.int64),
        departure_vessel=np.concatenate(dep_vessel).astype(np.int64),
        booth_log=booth_log,
    )
    return inputs, layout


def _lorries_reaching(scenario: Scenario, routes: list[str], booked_uniform: np.ndarray
                      ) -> list[np.ndarray | None]:
    """Per route's terminal, the lorries that may use it (None: any). A route with
    no share is reached only by lorries free to choose: all of them under the live
    rule with non-captive lorries, else the unbooked ones switching under the
    behaviour rule, else none; their service times alone are drawn."""
    choice = scenario.route_choice
    live = choice.rule != "shares" and choice.captive_share < 1
    unbooked = np.empty(0, dtype=np.int64)
    behaviour = scenario.active_behaviour
    if behaviour is not None:
        unbooked = np.flatnonzero(booked_uniform >= behaviour.booked_share)
    return [None if live or choice.shares[route] > 0 else unbooked for route in routes]


def behaviour_inputs(scenario: Scenario, n: int, seed: np.random.SeedSequence
                     ) -> dict[str, Any]:
    """The behaviour rule's parameters and per-lorry draws (empty when it is off,
    so runs without it draw nothing more and keep their random numbers)."""
    behaviour = scenario.active_behaviour
    size = n if behaviour is not None else 0
    booked, hold, where, rejoin_ss = (np.random.default_rng(ss) for ss in seed.spawn(4))
    rejoin = np.empty(0)
    if behaviour is not None and behaviour.rejoin_after is not None:
        rejoin = behaviour.rejoin_after.sample(rejoin_ss, n)
    shares = [d.share for d in behaviour.diversions.values()] if behaviour is not None else []
    return {
        "behaviour_on": behaviour is not None,
        "behaviour_parameters": behaviour_parameters(behaviour),
        "booked_share": float(behaviour.booked_share) if behaviour is not None else 1.0,
        "booked_uniform": booked.random(size),
        "hold_uniform": hold.random(size),
        "where_uniform": where.random(size),
        "diversion_cumulative": np.cumsum(np.array(shares, dtype=float)),
        "rejoin_minutes": rejoin,
    }


def _uniforms(seed: np.random.SeedSequence, n: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n,))


def _turn_back_draws(shares: list[float], n: int, n_stages: int,
                     seed: np.random.SeedSequence) -> np.ndarray:
    """One uniform per lorry and stage, drawn only when some lorry may be turned back
    (the loop reads them only then)."""
    if not any(share > 0 for share in shares):
        return np.ones((0, n_stages))
    return np.random.default_rng(seed).random((n, n_stages))
