"""The camp and its attempts, hour by hour: an aggregate stochastic balance.

Each hour: arrivals (Poisson), departures (binomial), then each person left
tries at most one target (multinomial over lorries, port, tunnel, none), and
each target's attempts split over the outcome chain (multinomial), so every
attempt has exactly one outcome. A share of the detected is returned. Then

    population[h+1] = population[h] + arrivals − departures − reached_uk_undetected
                      − detected_on_arrival_uk − died − returned_from_france

Every hour draws from its own generator, spawned from the replication seed
(key ``(hour,)``), so a change in one hour's inputs leaves the draws of every
other hour as they were: that keeps the coupling's fixed point stable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from straits.scenario.security import TARGETS
from straits.security.levers import CONTROL_SLICE, OUT, OUTCOMES

LORRIES = TARGETS.index("lorries")
TUNNEL = TARGETS.index("tunnel")


@dataclass(frozen=True)
class HourlyInputs:
    """Everything the balance needs per hour, already multiplied out."""

    initial_people: int
    arrivals_per_hour: np.ndarray  # (H,) Poisson means
    departure_probability: np.ndarray  # (H,) per person
    attempt_probability: np.ndarray  # (H, targets) per person, rows add to <= 1
    outcome_probability: np.ndarray  # (H, targets, outcomes), each row adds to 1
    injury_probability: np.ndarray  # (H, targets) per attempt
    returns_share: np.ndarray  # (H,)

    @property
    def hours(self) -> int:
        return int(self.arrivals_per_hour.shape[0])


@dataclass(frozen=True)
class PeopleRecords:
    """Hourly tallies; ``population`` has one more entry than there are hours."""

    population: np.ndarray  # (H+1,) at the start of each hour, and at the end
    arrivals: np.ndarray  # (H,)
    departures: np.ndarray  # (H,)
    attempts: np.ndarray  # (H, targets)
    outcomes: np.ndarray  # (H, targets, outcomes)
    injuries: np.ndarray  # (H, targets)
    returned_from_france: np.ndarray  # (H,)
    returned_from_uk: np.ndarray  # (H,)

    @property
    def intrusions(self) -> np.ndarray:
        """Attempts that got past the perimeter, by hour and target."""
        return (self.attempts - self.outcomes[:, :, OUT["abandoned"]]
                - self.outcomes[:, :, OUT["stopped_at_perimeter"]])

    def left_camp(self) -> np.ndarray:
        """People who left the population by an outcome or a return, per hour."""
        out = self.outcomes.sum(axis=1)
        return (out[:, OUT["reached_uk_undetected"]] + out[:, OUT["detected_on_arrival_uk"]]
                + out[:, OUT["died"]] + self.returned_from_france)


def simulate_people(inputs: HourlyInputs, seed_sequence: np.random.SeedSequence
                    ) -> PeopleRecords:
    """Run the hourly balance; same inputs and seed → same tallies."""
    hours, targets, outcomes = inputs.outcome_probability.shape
    population = np.zeros(hours + 1, dtype=np.int64)
    arrivals = np.zeros(hours, dtype=np.int64)
    departures = np.zeros(hours, dtype=np.int64)
    attempts = np.zeros((hours, targets), dtype=np.int64)
    tallies = np.zeros((hours, targets, outcomes), dtype=np.int64)
    injuries = np.zeros((hours, targets), dtype=np.int64)
    returned_fr = np.zeros(hours, dtype=np.int64)
    returned_uk = np.zeros(hours, dtype=np.int64)
    population[0] = inputs.initial_people
    entropy = seed_sequence.entropy
    key = tuple(seed_sequence.spawn_key)
    people = int(inputs.initial_people)
    for h in range(hours):
        rng = np.random.Generator(np.random.PCG64(
            np.random.SeedSequence(entropy, spawn_key=(*key, h))))
        arrivals[h] = rng.poisson(inputs.arrivals_per_hour[h])
        departures[h] = rng.binomial(people, inputs.departure_probability[h])
        staying = people - departures[h]
        p = inputs.attempt_probability[h]
        drawn = rng.multinomial(staying, np.append(p, max(0.0, 1.0 - p.sum())))
        attempts[h] = drawn[:targets]
        tallies[h] = rng.multinomial(attempts[h], inputs.outcome_probability[h])
        injuries[h] = rng.binomial(attempts[h], inputs.injury_probability[h])
        caught_fr = (tallies[h, :, OUT["found_by_police"]].sum()
                     + tallies[h, :, CONTROL_SLICE].sum())
        caught_uk = tallies[h, :, OUT["detected_on_arrival_uk"]].sum()
        returned_fr[h] = rng.binomial(caught_fr, inputs.returns_share[h])
        returned_uk[h] = rng.binomial(caught_uk, inputs.returns_share[h])
        gone = (tallies[h, :, OUT["reached_uk_undetected"]].sum() + caught_uk
                + tallies[h, :, OUT["died"]].sum() + returned_fr[h])
        people = int(staying - gone + arrivals[h])
        population[h + 1] = people
    return PeopleRecords(population, arrivals, departures, attempts, tallies, injuries,
                         returned_fr, returned_uk)


__all__ = ["OUTCOMES", "HourlyInputs", "PeopleRecords", "simulate_people"]
