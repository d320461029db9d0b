"""Model build for cars and coaches: their arrivals, paths and the mixed decks.

The lorries are built exactly as in a lorry-only run (:mod:`straits.engine.corridor`,
same random streams); this module draws the passenger classes from streams of
their own, appends their own banks of booths after the lorries' stages, turns
every deck and gate buffer into deck units (decimetres of lane), and merges
all vehicles in the order they reach the corridor. A class that shares no
stage, road or departure with the lorries leaves them bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from straits.engine.corridor import StageSchedules
from straits.engine.demand import (
    calendar_factors,
    minutes_to_the_next_hour,
    poisson_arrivals,
    profile_rate,
)
from straits.engine.disruptions import (
    Window,
    apply_to_departures,
    demand_edges_and_factor,
)
from straits.engine.event_loop import ClassInput, DirectionInput
from straits.engine.timetable import Departures, route_departures
from straits.scenario.passengers import PASSENGER_CLASSES, ClassStage, VehicleClass
from straits.scenario.schema import FerryRoute, Scenario

UNITS_PER_METRE = 10  # deck units are decimetres of lane


@dataclass(frozen=True)
class PassengerDraws:
    """One class's vehicles in one direction, before the merge."""

    name: str
    class_index: int
    arrival_minutes: np.ndarray
    terminal: np.ndarray  # index into the direction's terminals
    people: np.ndarray
    service_by_step: list[np.ndarray]  # per step of the path at the vehicle's terminal


@dataclass(frozen=True)
class MixedDirection:
    """The merged inputs and how to split the outputs back by class."""

    inputs: DirectionInput
    order: np.ndarray  # merged position -> (lorries first, then each class) row
    n_lorries: int
    lorry_departure: np.ndarray  # merged departure -> lorry departure index (-1: passenger only)
    draws: list[PassengerDraws]
    departure_units: np.ndarray  # capacity of every merged departure, deck units


def class_names(scenario: Scenario) -> list[str]:
    """``hgv`` then the passenger classes the scenario declares, in engine order."""
    if scenario.passengers is None:
        return ["hgv"]
    return ["hgv"] + [c for c in PASSENGER_CLASSES if c in scenario.passengers.classes]


def draw_passengers(scenario: Scenario, direction: str, terminals: list[str],
                    windows: list[Window], seed: np.random.SeedSequence) -> list[PassengerDraws]:
    """Arrivals, terminal, people and service at every step for each class."""
    assert scenario.passengers is not None
    draws = []
    names = class_names(scenario)
    for c, (name, ss) in enumerate(zip(names[1:], seed.spawn(len(names) - 1), strict=True),
                                   start=1):
        vc: VehicleClass = scenario.passengers.classes[name]  # type: ignore[index]
        demand = getattr(vc, direction)
        if demand is None:
            continue
        arrivals_ss, choice_ss, people_ss, service_ss = ss.spawn(4)
        edges, factor = demand_edges_and_factor(windows, direction, scenario.horizon,
                                                minutes_to_the_next_hour(scenario.start))
        rate = profile_rate(demand.vehicles_per_day, demand.hour_of_day, demand.day_of_week,
                            scenario.start, edges) * factor
        rate *= calendar_factors(scenario, name, edges)
        arrivals = poisson_arrivals(rate, edges, np.random.default_rng(arrivals_ss))
        n = arrivals.shape[0]
        routes = [r for r, _ in scenario.terminals_for(direction)]
        shares = np.cumsum([demand.shares[r] for r in routes])
        choice = np.random.default_rng(choice_ss).random(n)
        terminal = np.minimum(np.searchsorted(shares / shares[-1], choice, side="right"),
                              len(routes) - 1).astype(np.int64)
        spec = vc.people_per_vehicle
        weights = np.asarray(spec.weights) / sum(spec.weights)
        people = np.random.default_rng(people_ss).choice(np.asarray(spec.values), size=n,
                                                         p=weights).astype(np.int64)
        steps = max(len(vc.stages.get(t, [])) for t in terminals)
        services = []
        for k, step_ss in enumerate(service_ss.spawn(steps)):
            rng = np.random.default_rng(step_ss)
            column = np.zeros(n)
            for t, tname in enumerate(terminals):
                path = vc.stages.get(tname, [])
                mine = terminal == t
                if k < len(path) and mine.any():
                    column[mine] = _step_service(scenario, tname, path[k], people[mine], rng)
            services.append(column)
        draws.append(PassengerDraws(name, c, arrivals, terminal, people, services))
    return draws


def _step_service(scenario: Scenario, terminal: str, step: ClassStage, people: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """Service minutes per vehicle: per vehicle or the sum over its people (and the
    vehicle's overhead), plus the first-time registration of those not yet registered."""
    spec = step.service_time
    if step.shared_with_hgv:
        spec = next(s.service_time for s in scenario.terminals[terminal].stages
                    if s.name == step.name)
    assert spec is not None
    if step.per_person:
        each = spec.sample(rng, int(people.sum()))
        starts = np.concatenate([[0], np.cumsum(people)[:-1]])
        service = np.add.reduceat(each, starts) if each.size else np.zeros(people.shape[0])
        if step.vehicle_overhead is not None:
            service = service + step.vehicle_overhead.sample(rng, people.shape[0])
    else:
        service = spec.sample(rng, people.shape[0])
    if step.registration is not None:
        new = rng.binomial(people, 1.0 - step.registration.share_registered)
        service = service + new * step.registration.minutes_per_person
    return service


def merge_classes(scenario: Scenario, direction: str, lorries: DirectionInput,
                  lorry_reached_minutes: np.ndarray, terminals: list[str], routes: list[str],
                  draws: list[PassengerDraws], windows: list[Window]) -> MixedDirection:
    """One input for the loop: lorries and passengers in order of reaching the corridor."""
    assert scenario.passengers is not None
    names = class_names(scenario)
    n_classes = len(names)
    hgv_units = _units(scenario.passengers.hgv_lane_metres)
    n_lorries = lorries.arrival_minutes.shape[0]
    n_terminals = len(terminals)
    g_lorries = lorries.booths_initial.shape[0]

    # the passenger classes' own banks, appended after the lorries' stages
    schedules = StageSchedules.of(lorries)
    path_offset = np.zeros(n_terminals * n_classes, dtype=np.int64)
    path_length = np.zeros(n_terminals * n_classes, dtype=np.int64)
    path_stage: list[int] = []
    for t, tname in enumerate(terminals):
        lorry_stage_names = [st.name for st in scenario.terminals[tname].stages]
        first = int(lorries.stage_offset[t])
        for c, name in enumerate(names):
            p = t * n_classes + c
            path_offset[p] = len(path_stage)
            if c == 0:
                path_stage.extend(range(first, first + int(lorries.n_stages[t])))
            else:
                for step in scenario.passengers.classes[name].stages.get(tname, []):  # type: ignore[index]
                    if step.shared_with_hgv:
                        path_stage.append(first + lorry_stage_names.index(step.name))
                        continue
                    path_stage.append(len(schedules.booths_initial))
                    schedules.add(windows, tname, step.name, step.booths or 0, turns_back=False)
            path_length[p] = len(path_stage) - path_offset[p]
    g_total = len(schedules.booths_initial)

    # every vehicle, lorries first, then each class; merged by time reached
    reached = [lorry_reached_minutes] + [d.arrival_minutes for d in draws]
    n_total = sum(x.shape[0] for x in reached)
    order = np.argsort(np.concatenate(reached), kind="stable")
    vehicle_class = np.concatenate([np.zeros(n_lorries, dtype=np.int64)] + [
        np.full(d.arrival_minutes.shape[0], d.class_index, dtype=np.int64) for d in draws])
    units = np.concatenate([np.full(n_lorries, hgv_units, dtype=np.int64)] + [
        np.full(d.arrival_minutes.shape[0],
                _units(scenario.passengers.classes[d.name].lane_metres),  # type: ignore[index]
                dtype=np.int64) for d in draws])
    fixed = np.concatenate([np.full(n_lorries, -1, dtype=np.int64)] + [d.terminal for d in draws])
    service = np.zeros((n_total, g_total))
    service[:n_lorries, :g_lorries] = lorries.base_service_minutes
    # turn-backs are for lorries' papers; none drawn (empty) when no stage turns back
    drawn = lorries.turn_back_uniform.shape[0] > 0
    turn_back = np.ones((n_total if drawn else 0, g_total))
    turn_back[:n_lorries if drawn else 0, :g_lorries] = lorries.turn_back_uniform
    row = n_lorries
    for d in draws:
        rows = np.arange(row, row + d.arrival_minutes.shape[0])
        paths = d.terminal * n_classes + d.class_index
        for k, column in enumerate(d.service_by_step):
            has = path_length[paths] > k
            service[rows[has], np.asarray(path_stage)[path_offset[paths[has]] + k]] = column[has]
        row += d.arrival_minutes.shape[0]
    pad = np.zeros(n_total - n_lorries)

    departures = _mixed_departures(scenario, direction, lorries, routes, windows, n_classes,
                                   hgv_units)
    dep_minutes, dep_units, dep_accepts, dep_offset, lorry_departure = departures
    mixed = lorries._replace(
        arrival_minutes=np.concatenate(reached)[order],
        choice_uniform=np.concatenate([lorries.choice_uniform, pad])[order],
        captive_uniform=np.concatenate([lorries.captive_uniform, pad])[order],
        base_service_minutes=service[order],
        **schedules.fields(),
        turn_back_uniform=turn_back[order] if drawn else turn_back,
        departure_minutes=dep_minutes,
        departure_capacity=dep_units,
        departure_offset=dep_offset,
        classes=ClassInput(vehicle_class[order], units[order], fixed[order], path_offset,
                           path_length, np.array(path_stage, dtype=np.int64), dep_accepts,
                           _class_rooms(scenario, terminals, names, lorries, hgv_units)),
    )
    return MixedDirection(mixed, order, n_lorries, lorry_departure, draws, dep_units)


def _class_rooms(scenario: Scenario, terminals: list[str], names: list[str],
                 lorries: DirectionInput, hgv_units: int) -> np.ndarray:
    """Room inside each terminal per class, in units: the lorries' buffer; cars and
    coaches share the terminal's passenger lanes (each class gets all of it: they
    queue in their own lanes, so one class does not take the other's)."""
    rooms = np.zeros(len(terminals) * len(names), dtype=np.int64)
    for t, name in enumerate(terminals):
        rooms[t * len(names)] = lorries.buffer_lorries[t] * hgv_units
        rooms[t * len(names) + 1:(t + 1) * len(names)] = _units(
            scenario.terminals[name].passenger_lane_metres)
    return rooms


def _units(metres: float) -> int:
    return round(metres * UNITS_PER_METRE)


def _mixed_departures(scenario: Scenario, direction: str, lorries: DirectionInput,
                      routes: list[str], windows: list[Window], n_classes: int, hgv_units: int):
    """Every departure in deck units, with the classes it takes, sorted per terminal.

    Ferries take every class on one deck; a tunnel's freight shuttles take lorries
    and its passenger shuttles the other classes.
    """
    everyone = (1 << n_classes) - 1
    minutes, units, accepts, lorry_index, offset = [], [], [], [], [0]
    for t, route_name in enumerate(routes):
        route = scenario.routes[route_name]
        lo, hi = lorries.departure_offset[t], lorries.departure_offset[t + 1]
        sched = route_departures(route, direction, scenario.horizon)
        lorry_cap = lorries.departure_capacity[lo:hi]
        kept = np.where(sched.capacity > 0, lorry_cap / np.maximum(sched.capacity, 1), 0.0)
        if isinstance(route, FerryRoute):
            decks = np.concatenate([np.full(v.vessels, _units(
                v.lane_metres or v.lorries_per_sailing * scenario.passengers.hgv_lane_metres))  # type: ignore[union-attr]
                for v in route.fleet])
            deck = decks[sched.vessel] if decks.size else np.zeros(0)
            m = [sched.minutes]
            u = [np.floor(deck * kept).astype(np.int64)]
            a = [np.full(hi - lo, everyone, dtype=np.int64)]
            li = [np.arange(lo, hi)]
        else:
            m = [sched.minutes]
            u = [lorry_cap.astype(np.int64) * hgv_units]
            a = [np.ones(hi - lo, dtype=np.int64)]
            li = [np.arange(lo, hi)]
            if route.passenger_departures_per_hour > 0:
                headway = 60.0 / route.passenger_departures_per_hour
                times = np.arange(headway / 2, scenario.horizon, headway)
                cap = np.full(times.shape[0], _units(route.passenger_shuttle_lane_metres),
                              dtype=np.int64)
                shuttles = Departures(times, cap, np.full(times.shape[0], -1, dtype=np.int64))
                m.append(times)
                u.append(apply_to_departures(windows, route_name, direction, shuttles, 0))
                a.append(np.full(times.shape[0], everyone - 1, dtype=np.int64))
                li.append(np.full(times.shape[0], -1))
        mm = np.concatenate(m)
        sort = np.argsort(mm, kind="stable")
        minutes.append(mm[sort])
        units.append(np.concatenate(u)[sort])
        accepts.append(np.concatenate(a)[sort])
        lorry_index.append(np.concatenate(li)[sort])
        offset.append(offset[-1] + mm.shape[0])
    return (np.concatenate(minutes), np.concatenate(units).astype(np.int64),
            np.concatenate(accepts), np.array(offset, dtype=np.int64),
            np.concatenate(lorry_index).astype(np.int64))
