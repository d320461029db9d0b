"""Model build: a scenario and its sampled disruptions → one direction's arrays.

This is where names become indices: terminals of a direction are numbered in
route order, their stages flattened, their departures concatenated, so the
compiled loop sees only typed arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from straits.engine.decisions import holding_input
from straits.engine.demand import minutes_to_the_next_hour, poisson_arrivals, rate_per_minute
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
    arrivals_ss, choice_ss, captive_ss, services_ss, turn_back_ss = rng_seed.spawn(5)
    horizon = scenario.horizon
    pairs = scenario.terminals_for(direction)
    routes = [route for route, _ in pairs]
    terminals = [terminal for _, terminal in pairs]

    edges, factor = demand_edges_and_factor(windows, direction, horizon,
                                            minutes_to_the_next_hour(scenario.start))
    demand = getattr(scenario.demand, direction)
    rate = rate_per_minute(demand, scenario.start, edges) * factor
    arrivals = poisson_arrivals(rate, edges, np.random.default_rng(arrivals_ss))
    n = arrivals.shape[0]

    stage_specs = [st for name in terminals for st in scenario.terminals[name].stages]
    n_stages = np.array([len(scenario.terminals[name].stages) for name in terminals],
                        dtype=np.int64)
    stage_offset = np.concatenate([[0], np.cumsum(n_stages)[:-1]]).astype(np.int64)
    service = np.empty((n, len(stage_specs)))
    for g, (spec, ss) in enumerate(zip(stage_specs, services_ss.spawn(len(stage_specs)),
                                       strict=True)):
        service[:, g] = spec.service_time.sample(np.random.default_rng(ss), n)

    booths0: list[int] = []
    change_minutes: list[float] = []
    change_booths: list[int] = []
    change_offset = [0]
    speed_minutes: list[float] = []
    speed_multiplier: list[float] = []
    speed_added: list[float] = []
    speed_turn_back: list[float] = []
    speed_offset = [0]
    booth_log = []
    for terminal in terminals:
        for st in scenario.terminals[terminal].stages:
            initial, changes = booth_schedule(windows, terminal, st.name, st.booths)
            booths0.append(initial)
            booth_log.append((terminal, st.name, 0.0, initial))
            booth_log.extend((terminal, st.name, m, b) for m, b in changes)
            change_minutes.extend(m for m, _ in changes)
            change_booths.extend(b for _, b in changes)
            change_offset.append(len(change_minutes))
            times, mult, add, turn_back = speed_schedule(windows, terminal, st.name)
            speed_minutes.extend(times)
            speed_multiplier.extend(mult)
            speed_added.extend(add)
            speed_turn_back.extend(turn_back)
            speed_offset.append(len(speed_minutes))

    dep_minutes, dep_cap, dep_sched, dep_vessel, dep_off = [], [], [], [], [0]
    crossing, free_flow = [], []
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
        booths_initial=np.array(booths0, dtype=np.int64),
        booth_change_minutes=np.array(change_minutes, dtype=float),
        booth_change_count=np.array(change_booths, dtype=np.int64),
        booth_change_offset=np.array(change_offset, dtype=np.int64),
        speed_change_minutes=np.array(speed_minutes, dtype=float),
        speed_multiplier=np.array(speed_multiplier, dtype=float),
        speed_added_minutes=np.array(speed_added, dtype=float),
        turn_back_share=np.array(speed_turn_back, dtype=float),
        turn_back_uniform=_turn_back_draws(speed_turn_back, n, len(stage_specs), turn_back_ss),
        speed_change_offset=np.array(speed_offset, dtype=np.int64),
        departure_minutes=np.concatenate(dep_minutes),
        departure_capacity=np.concatenate(dep_cap).astype(np.int64),
        departure_offset=np.array(dep_off, dtype=np.int64),
        horizon_minutes=float(horizon),
        holding=holding_input(getattr(scenario.holding, direction), terminals,
                              scenario.minutes_after_start,
                              demand.lorries_per_day / 1440.0 * shares / shares.sum()),
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


def _uniforms(seed: np.random.SeedSequence, n: int) -> np.ndarray:
    return np.random.default_rng(seed).random((n,))


def _turn_back_draws(shares: list[float], n: int, n_stages: int,
                     seed: np.random.SeedSequence) -> np.ndarray:
    """One uniform per lorry and stage, drawn only when some lorry may be turned back."""
    if not any(share > 0 for share in shares):
        return np.ones((n, n_stages))
    return np.random.default_rng(seed).random((n, n_stages))
