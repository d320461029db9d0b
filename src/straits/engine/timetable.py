"""Departures: ferry sailings from the fleet, shuttles from the headway."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from straits.scenario.schema import FerryRoute, TunnelRoute


class Departures(NamedTuple):
    """Scheduled departures of one route in one direction, sorted by time.

    ``vessel`` identifies the ship of a sailing (-1 for shuttles), so that a
    withdrawn ship removes exactly its own sailings.
    """

    minutes: np.ndarray
    capacity: np.ndarray  # lorries, int64
    vessel: np.ndarray  # int64


def ferry_sailings(route: FerryRoute, direction: str, horizon_minutes: float) -> Departures:
    """Each ship makes a round trip of 2 × (crossing + turnaround); the fleet is
    spaced evenly round that cycle, largest ships listed first. Northbound
    sailings leave half a cycle after the ship's southbound ones."""
    cycle = 2.0 * (route.crossing + route.turnaround)
    capacities = np.concatenate(
        [np.full(c.vessels, c.lorries_per_sailing, dtype=np.int64) for c in route.fleet]
    )
    n_vessels = capacities.shape[0]
    if n_vessels == 0:
        empty = np.empty(0, dtype=np.int64)
        return Departures(np.empty(0), empty, empty)
    phase = 0.0 if direction == "southbound" else cycle / 2.0
    # spread each class evenly round the cycle, so big and small ships alternate
    rank_in_class = np.concatenate([(np.arange(c.vessels) + 0.5) / c.vessels for c in route.fleet])
    slot = np.argsort(np.argsort(rank_in_class, kind="stable"), kind="stable")
    offsets = (slot * cycle / n_vessels + phase) % cycle
    trips = int(np.ceil(horizon_minutes / cycle)) + 1
    times = (offsets[:, None] + cycle * np.arange(trips)[None, :]).ravel()
    vessel = np.repeat(np.arange(n_vessels, dtype=np.int64), trips)
    keep = times <= horizon_minutes
    sort = np.argsort(times[keep], kind="stable")
    return Departures(
        times[keep][sort], np.repeat(capacities, trips)[keep][sort], vessel[keep][sort]
    )


def shuttle_departures(route: TunnelRoute, horizon_minutes: float) -> Departures:
    """A shuttle every 60 / departures_per_hour minutes from the start."""
    headway = 60.0 / route.departures_per_hour
    times = np.arange(headway, horizon_minutes + 1e-9, headway)
    capacity = np.full(times.shape[0], route.lorries_per_shuttle, dtype=np.int64)
    return Departures(times, capacity, np.full(times.shape[0], -1, dtype=np.int64))


def route_departures(route: FerryRoute | TunnelRoute, direction: str, horizon_minutes: float
                     ) -> Departures:
    if isinstance(route, FerryRoute):
        return ferry_sailings(route, direction, horizon_minutes)
    return shuttle_departures(route, horizon_minutes)


def headway_minutes(route: FerryRoute | TunnelRoute) -> float:
    """Mean time between departures in one direction."""
    if isinstance(route, FerryRoute):
        return 2.0 * (route.crossing + route.turnaround) / max(route.vessels, 1)
    return 60.0 / route.departures_per_hour
