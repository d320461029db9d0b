"""Conservation, as properties over random parameters: the camp balance closes
every hour and every attempt has exactly one outcome."""

from __future__ import annotations

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from straits.scenario.security import TARGETS, SecurityConfig
from straits.security import levers
from straits.security.levers import OUT, OUTCOMES
from straits.security.people import HourlyInputs, simulate_people
from tests.security.security_helpers import autumn_security, merge

N_TARGETS, N_OUTCOMES = len(TARGETS), len(OUTCOMES)


@st.composite
def hourly_inputs(draw) -> HourlyInputs:
    hours = draw(st.integers(1, 72))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    attempt = rng.dirichlet(np.ones(N_TARGETS + 1), size=hours)[:, :N_TARGETS]
    attempt *= draw(st.floats(0.0, 1.0))
    return HourlyInputs(
        initial_people=draw(st.integers(0, 20_000)),
        arrivals_per_hour=rng.uniform(0, draw(st.floats(0, 500)), hours),
        departure_probability=rng.uniform(0, draw(st.floats(0, 1)), hours),
        attempt_probability=attempt,
        outcome_probability=rng.dirichlet(np.full(N_OUTCOMES, 0.5), size=(hours, N_TARGETS)),
        injury_probability=rng.uniform(0, 1, (hours, N_TARGETS)),
        returns_share=rng.uniform(0, draw(st.floats(0, 1)), hours),
    )


@settings(max_examples=60, deadline=None)
@given(inputs=hourly_inputs(), seed=st.integers(0, 2**32 - 1))
def test_population_balance_closes_every_hour(inputs: HourlyInputs, seed: int) -> None:
    people = simulate_people(inputs, np.random.SeedSequence(seed))
    change = np.diff(people.population)
    assert np.array_equal(change, people.arrivals - people.departures - people.left_camp())
    assert people.population.min() >= 0
    # every person who tried was present: attempts never exceed those who stayed
    staying = people.population[:-1] - people.departures
    assert np.all(people.attempts.sum(axis=1) <= staying)


@settings(max_examples=60, deadline=None)
@given(inputs=hourly_inputs(), seed=st.integers(0, 2**32 - 1))
def test_every_attempt_has_exactly_one_outcome(inputs: HourlyInputs, seed: int) -> None:
    people = simulate_people(inputs, np.random.SeedSequence(seed))
    assert np.array_equal(people.outcomes.sum(axis=2), people.attempts)
    assert people.outcomes.min() >= 0
    assert np.all(people.injuries <= people.attempts)
    caught = (people.outcomes[:, :, OUT["found_by_police"]].sum(axis=1)
              + people.outcomes[:, :, levers.CONTROL_SLICE].sum(axis=(1, 2))
              + people.outcomes[:, :, OUT["detected_on_arrival_uk"]].sum(axis=1))
    assert np.all(people.returned_from_france + people.returned_from_uk <= caught)


probability = st.floats(0.0, 1.0)


@st.composite
def policies(draw) -> SecurityConfig:
    site = st.fixed_dictionaries({
        "fence_km": st.floats(0, 60), "fence_quality": probability,
        "police": st.floats(0, 2000), "police_max_probability": probability,
        "abandon_probability": probability, "bypasses_controls_share": probability,
    })
    tech = st.fixed_dictionaries({"detection_probability": probability,
                                  "use_share": probability})
    override = {
        "sites": {t: draw(site) for t in TARGETS},
        "controls": {"search_share": draw(probability),
                     "uk_arrival_detection_probability": draw(probability),
                     "technologies": {name: draw(tech) for name in
                                      ("visual_search", "dogs", "co2_probe")}},
        "harm": {"death_probability": {t: draw(probability) for t in TARGETS}},
    }
    return SecurityConfig.model_validate(merge(autumn_security(), override))


@settings(max_examples=80, deadline=None)
@given(config=policies(), death=probability)
@example(config=SecurityConfig.model_validate(autumn_security()), death=0.0)  # as shipped
def test_outcome_chain_is_a_distribution(config: SecurityConfig, death: float) -> None:
    for target in TARGETS:
        p = levers.outcome_probabilities(config, target, death)
        assert p.min() >= 0.0
        assert abs(p.sum() - 1.0) < 1e-12
