"""Cross-checks of passenger classes and calendars against the corridor.

Kept apart from the schema module, which calls them; they read the scenario
by duck typing so there is no import cycle.
"""

from __future__ import annotations

from typing import Any

from straits.scenario.common import ScenarioReferenceError
from straits.scenario.passengers import Calendar, Passengers


def check_calendar(calendar: Calendar) -> None:
    from straits.scenario.calendars import BUILTIN_CALENDARS

    if calendar.builtin is not None and calendar.builtin not in BUILTIN_CALENDARS:
        raise ScenarioReferenceError(
            ("calendar", "builtin"),
            f"unknown calendar {calendar.builtin!r}; choose from {sorted(BUILTIN_CALENDARS)}")


def check_passengers(sc: Any, passengers: Passengers) -> None:
    """Every class's terminals, shared stages and routes exist; every vehicle fits a deck."""
    for name, vc in passengers.classes.items():
        where: tuple[str | int, ...] = ("passengers", "classes", name)
        for terminal, path in vc.stages.items():
            if terminal not in sc.terminals:
                raise ScenarioReferenceError(
                    (*where, "stages", terminal),
                    f"unknown terminal {terminal!r}; choose from {sorted(sc.terminals)}")
            lorry_stages = [st.name for st in sc.terminals[terminal].stages]
            for k, step in enumerate(path):
                if step.shared_with_hgv and step.name not in lorry_stages:
                    raise ScenarioReferenceError(
                        (*where, "stages", terminal, k, "name"),
                        f"terminal {terminal!r} has no lorry stage {step.name!r} to share; "
                        f"choose from {lorry_stages}")
        for direction in ("southbound", "northbound"):
            demand = getattr(vc, direction)
            if demand is None:
                continue
            if set(demand.shares) != set(sc.routes) or abs(sum(demand.shares.values()) - 1) > 1e-6:
                raise ScenarioReferenceError(
                    (*where, direction, "shares"),
                    f"give a share for every route {sorted(sc.routes)}, adding up to 1")
            for route_name, share in demand.shares.items():
                if share <= 0:
                    continue
                route = sc.routes[route_name]
                terminal = getattr(route.terminals, direction)
                if terminal not in vc.stages:
                    raise ScenarioReferenceError(
                        (*where, "stages"),
                        f"{name} uses terminal {terminal!r} (route {route_name!r}, {direction}) "
                        "but has no stages there: give its booths or shared stages")
                if sc.terminals[terminal].passenger_lane_metres < vc.lane_metres:
                    raise ScenarioReferenceError(
                        ("terminals", terminal, "passenger_lane_metres"),
                        f"{name} uses terminal {terminal!r}: give its passenger lanes, at "
                        f"least {vc.lane_metres:g} lane-metres")
                for k, step in enumerate(vc.stages[terminal]):
                    if not step.shared_with_hgv and step.booths == 0:
                        raise ScenarioReferenceError(
                            (*where, "stages", terminal, k, "booths"),
                            f"{name} passes {step.name!r} at {terminal!r}, which has no "
                            "booths: give at least 1")
                _check_fits(sc, passengers, name, route_name, route, where)
    for route_name, route in sc.routes.items():
        if route.kind == "ferry":
            for i, vessel in enumerate(route.fleet):
                lorries_m = vessel.lorries_per_sailing * passengers.hgv_lane_metres
                if vessel.lane_metres is not None and lorries_m > vessel.lane_metres:
                    raise ScenarioReferenceError(
                        ("routes", route_name, "fleet", i, "lane_metres"),
                        f"{vessel.lorries_per_sailing} lorries x {passengers.hgv_lane_metres:g} m "
                        f"= {lorries_m:g} lane-metres exceed the deck of {vessel.lane_metres:g}")


def _check_fits(sc: Any, passengers: Passengers, name: str, route_name: str, route: Any,
                where: tuple[str | int, ...]) -> None:
    length = passengers.classes[name].lane_metres  # type: ignore[index]
    if route.kind == "ferry":
        decks = [v.lane_metres or v.lorries_per_sailing * passengers.hgv_lane_metres
                 for v in route.fleet]
        if length > min(decks):
            raise ScenarioReferenceError(
                (*where, "lane_metres"),
                f"a {name} of {length:g} m exceeds the smallest deck on {route_name!r} "
                f"({min(decks):g} lane-metres)")
    elif route.passenger_departures_per_hour <= 0 or route.passenger_shuttle_lane_metres < length:
        raise ScenarioReferenceError(
            ("routes", route_name, "passenger_shuttle_lane_metres"),
            f"{name} travels on {route_name!r}: give passenger_departures_per_hour and a "
            f"passenger_shuttle_lane_metres of at least {length:g}")
