"""Lorry arrivals: a Poisson process whose rate follows the calendar."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from straits.scenario.schema import DirectionDemand


def minutes_past_the_hour(start: datetime) -> float:
    return start.minute + start.second / 60 + start.microsecond / 60e6


def minutes_to_the_next_hour(start: datetime) -> float:
    """Minutes from ``start`` to the first clock hour at or after it."""
    return (60.0 - minutes_past_the_hour(start)) % 60.0


def rate_per_minute(demand: DirectionDemand, start: datetime, edges_minutes: np.ndarray
                    ) -> np.ndarray:
    """Arrival rate in each interval between ``edges_minutes`` (within clock hours).

    Rate = daily volume / 1440 × hour-of-day weight × day-of-week weight, the
    weights normalised to average 1 so the daily volume is kept on average. Each
    interval takes the clock hour and weekday of its midpoint, so the weights
    hold for clock hours whatever minute the run starts.
    """
    hours = np.asarray(demand.hour_of_day, dtype=float)
    days = np.asarray(demand.day_of_week, dtype=float)
    hours = hours / hours.mean()
    days = days / days.mean()
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = start.hour * 60 + minutes_past_the_hour(start)
    calendar = (edges_minutes[:-1] + edges_minutes[1:]) / 2 + offset
    hour_index = (calendar // 60).astype(np.int64) % 24
    day_index = (midnight.weekday() + (calendar // 1440).astype(np.int64)) % 7
    return demand.lorries_per_day / 1440.0 * hours[hour_index] * days[day_index]


def poisson_arrivals(
    rate: np.ndarray, edges_minutes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Sorted arrival times of a Poisson process, piecewise-constant rate.

    Each interval gets a Poisson count and uniform positions: exact for a
    piecewise-constant rate and fully vectorised.
    """
    widths = np.diff(edges_minutes)
    counts = rng.poisson(rate * widths)
    starts = np.repeat(edges_minutes[:-1], counts)
    spans = np.repeat(widths, counts)
    return np.sort(starts + spans * rng.random(starts.shape[0]))
