"""Levers → probabilities: each barrier and detection layer with its driver.

Pure functions of one :class:`Policy`; the hourly model multiplies them by
the exposure the engine produced. The outcome chain of an attempt is
abandon → perimeter → harm → police → controls (by technology) → UK arrival
check → reached the UK, so the outcome probabilities add to exactly 1.
"""

from __future__ import annotations

import math

import numpy as np

from straits.scenario.security import TARGETS, TECHNOLOGIES, Policy, Site

LAYERS = tuple(f"controls_{t}" for t in TECHNOLOGIES)
OUTCOMES = (
    "abandoned",
    "stopped_at_perimeter",
    "died",
    "found_by_police",
    *LAYERS,
    "detected_on_arrival_uk",
    "reached_uk_undetected",
)
OUT = {name: i for i, name in enumerate(OUTCOMES)}
CONTROL_SLICE = slice(OUT[LAYERS[0]], OUT[LAYERS[-1]] + 1)


def perimeter_stop_probability(site: Site) -> float:
    """Share of attempts a fence stops: its quality where it stands, by coverage."""
    return site.fence_quality * min(1.0, site.fence_km / site.perimeter_km)


def police_find_probability(site: Site) -> float:
    """Diminishing returns: each extra officer finds less than the one before."""
    return site.police_max_probability * (1.0 - math.exp(-site.police / site.police_scale))


def site_pass_probability(site: Site) -> float:
    """Chance of getting past the site's own security (fence, then police)."""
    return (1.0 - perimeter_stop_probability(site)) * (1.0 - police_find_probability(site))


def control_layer_probabilities(policy: Policy) -> np.ndarray:
    """P(a hidden person is found by each technology) at the controls, in catalogue order.

    A searched lorry meets the technologies in catalogue order; each is used on
    its ``use_share`` of searched lorries and finds a person with its
    detection probability if no earlier layer did.
    """
    controls = policy.controls
    found = np.zeros(len(TECHNOLOGIES))
    missed = controls.search_share
    for j, name in enumerate(TECHNOLOGIES):
        tech = controls.technologies.get(name)
        if tech is None:
            continue
        p = tech.use_share * tech.detection_probability
        found[j] = missed * p
        missed *= 1.0 - p
    return found


def search_minutes_per_lorry(policy: Policy) -> float:
    """Mean search time each lorry adds at the UK border stage."""
    controls = policy.controls
    used = sum(t.use_share * t.time_cost for t in controls.technologies.values())
    return controls.search_share * used


def outcome_probabilities(policy: Policy, target: str, death_probability: float) -> np.ndarray:
    """P(each outcome) of one attempt on ``target``; adds to 1."""
    site = policy.sites[target]
    p = np.zeros(len(OUTCOMES))
    left = 1.0
    for outcome, chance in (
        ("abandoned", site.abandon_probability),
        ("stopped_at_perimeter", perimeter_stop_probability(site)),
        ("died", death_probability),
        ("found_by_police", police_find_probability(site)),
    ):
        p[OUT[outcome]] = left * chance
        left *= 1.0 - chance
    layers = control_layer_probabilities(policy) * (1.0 - site.bypasses_controls_share)
    p[CONTROL_SLICE] = left * layers
    left *= 1.0 - layers.sum()
    arrival = policy.controls.uk_arrival_detection_probability
    p[OUT["detected_on_arrival_uk"]] = left * arrival
    p[OUT["reached_uk_undetected"]] = left * (1.0 - arrival)
    return p


def attempt_deterrence(policy: Policy, target: str) -> float:
    """How visible security damps attempts on a target (1 = not at all; assumption)."""
    pass_probability = site_pass_probability(policy.sites[target])
    return pass_probability ** policy.attempts.deterrence_elasticity


def arrivals_factor(policy: Policy) -> float:
    """Deterrence of returns on arrivals (assumption; 1 when switched off)."""
    returns = policy.returns
    if not returns.deterrence:
        return 1.0
    return 1.0 - returns.arrivals_reduction_at_full_returns * returns.share_of_detected


def daily_rates(policy: Policy) -> np.ndarray:
    """Attempts per person per day at full opportunity, after deterrence, by target."""
    return np.array([
        policy.attempts.per_person_per_day.get(t, 0.0) * attempt_deterrence(policy, t)
        for t in TARGETS
    ])
