"""From a scenario and the engine's lorries to the hourly inputs of the balance.

The levers in force change at the ``changes`` dates (a segment each); the
calendar gives the night and weekday weights; the engine gives the lorry
exposure: stationary UK-bound lorries on the French approach roads (the
northbound holding plan and its overflow), less those in secure parks, plus a
weight on lorries passing in the hour (slow traffic at junctions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from straits.engine.demand import minutes_past_the_hour
from straits.engine.records import Records
from straits.metrics.occupancy import occupancy
from straits.scenario.schema import Scenario
from straits.scenario.security import TARGETS, Policy
from straits.security import levers
from straits.security.people import LORRIES, HourlyInputs

SAMPLES_PER_HOUR = 6


@dataclass(frozen=True)
class Segments:
    """Levers in force: ``policies[k]`` from hour ``start_hours[k]`` on."""

    policies: list[Policy]
    start_minutes: np.ndarray  # (K,) exact change times, first 0
    start_hours: np.ndarray  # (K,) first whole hour each applies to
    of_hour: np.ndarray  # (H,) segment index of each hour


@dataclass(frozen=True)
class LorryExposure:
    stationary: np.ndarray  # (H,) mean UK-bound lorries standing on French roads
    passing: np.ndarray  # (H,) UK-bound lorries arriving on the approach roads


def hours_of(scenario: Scenario) -> int:
    """Whole hours simulated (a partial last hour is dropped)."""
    return int(scenario.horizon // 60)


def segments(scenario: Scenario) -> Segments:
    """The levers in force hour by hour (the scenario checked that changes fall
    inside the horizon, in time order)."""
    config = scenario.security
    assert config is not None, "only a scenario with a security section has segments"
    policies, starts = [], [0.0]
    for start, policy in config.policies():
        policies.append(policy)
        if start is not None:
            starts.append(scenario.minutes_after_start(start))
    start_minutes = np.array(starts)
    start_hours = np.ceil(start_minutes / 60.0).astype(np.int64)
    of_hour = np.searchsorted(start_hours, np.arange(hours_of(scenario)), side="right") - 1
    return Segments(policies, start_minutes, start_hours, of_hour)


def lorry_exposure(scenario: Scenario, records: Records) -> LorryExposure:
    """Hourly UK-bound lorries standing and passing on the French side."""
    hours = hours_of(scenario)
    step = 60.0 / SAMPLES_PER_HOUR
    grid = (np.arange(hours * SAMPLES_PER_HOUR) + 0.5) * step
    northbound = records.directions["northbound"]
    occ = occupancy(northbound, scenario.holding.northbound, grid)
    standing = occ.lorries_by_area.sum(axis=0).reshape(hours, SAMPLES_PER_HOUR).mean(axis=1)
    arrivals = (northbound.arrival_minutes // 60).astype(np.int64)
    passing = np.bincount(arrivals[arrivals < hours], minlength=hours).astype(float)
    return LorryExposure(standing, passing)


def clock_weights(start: datetime, hours: int, night: np.ndarray, week: np.ndarray
                  ) -> np.ndarray:
    """The weight of each simulated hour, from the clock hours and weekdays it covers.

    A run starting at 00:30 simulates 00:30-01:30: half of clock hour 00 and half
    of 01, so the weights hold for clock hours whatever minute the run starts.
    """
    later = minutes_past_the_hour(start) / 60.0  # share of each run hour in the next clock hour
    rows = np.arange(hours)
    timing = np.zeros(hours)
    for share, shift in ((1.0 - later, 0), (later, 1)):
        if share == 0.0:
            continue
        stamps = [start + timedelta(hours=h + shift) for h in range(hours)]
        hour_of_day = np.array([t.hour for t in stamps], dtype=np.int64)
        weekday = np.array([t.weekday() for t in stamps], dtype=np.int64)
        timing += share * night[rows, hour_of_day] * week[rows, weekday]
    return timing


def hourly_inputs(scenario: Scenario, segs: Segments, exposure: LorryExposure
                  ) -> HourlyInputs:
    """Per-hour rates and outcome probabilities for the balance."""
    hours = hours_of(scenario)
    k = segs.of_hour
    pols = segs.policies

    def per_segment(fn) -> np.ndarray:
        return np.array([fn(p) for p in pols])[k]

    night = per_segment(lambda p: np.asarray(p.attempts.hour_of_day) / sum(p.attempts.hour_of_day))
    week = per_segment(lambda p: np.asarray(p.attempts.day_of_week)
                       / np.mean(p.attempts.day_of_week))
    timing = clock_weights(scenario.start, hours, night, week)

    parked = per_segment(lambda p: p.secure_parking_lorries)
    moving = per_segment(lambda p: p.attempts.moving_lorry_weight) * exposure.passing
    standing = np.maximum(exposure.stationary - parked, 0.0)
    exposed = standing + moving
    half = per_segment(lambda p: p.attempts.lorry_half_saturation)
    opportunity = np.ones((hours, len(TARGETS)))
    # Saturation counts every lorry on the roads, parked ones too: a secure park takes its
    # lorries out of reach without pushing attempts onto moving lorries (no displacement
    # to the most dangerous attempts without evidence for it; docs/security.md, Harm).
    opportunity[:, LORRIES] = exposed / (exposure.stationary + moving + half)
    attempt = per_segment(levers.daily_rates) * timing[:, None] * opportunity

    moving_share = np.divide(moving, exposed, out=np.zeros(hours), where=exposed > 0)
    outcome = np.zeros((hours, len(TARGETS), len(levers.OUTCOMES)))
    for s, policy in enumerate(pols):
        mine = k == s
        if not mine.any():
            continue
        harm = policy.harm
        for t, target in enumerate(TARGETS):
            death = harm.death_probability.get(target, 0.0)
            if target == "lorries":
                factor = 1.0 + (harm.moving_lorry_death_multiplier - 1.0) * moving_share[mine]
                for h, f in zip(np.flatnonzero(mine), factor, strict=True):
                    outcome[h, t] = levers.outcome_probabilities(policy, target,
                                                                 min(1.0, death * f))
            else:
                outcome[mine, t] = levers.outcome_probabilities(policy, target, death)
    return HourlyInputs(
        initial_people=pols[0].population.initial_people,
        arrivals_per_hour=per_segment(lambda p: p.population.arrivals_per_day / 24.0
                                      * levers.arrivals_factor(p)),
        departure_probability=per_segment(
            lambda p: 1.0 - (1.0 - p.population.departure_share_per_day) ** (1.0 / 24.0)),
        attempt_probability=attempt,
        outcome_probability=outcome,
        injury_probability=per_segment(
            lambda p: [p.harm.injury_probability.get(t, 0.0) for t in TARGETS]),
        returns_share=per_segment(lambda p: p.returns.share_of_detected),
    )

