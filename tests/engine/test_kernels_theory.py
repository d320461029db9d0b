"""Stage kernels against queueing theory and against naive reference code.

Each theory check compares a simulated mean wait with its exact value, using
a batch-means standard error taken from the run itself: it asserts the gap is
under three standard errors, and that three standard errors is a small
fraction of the theory, so a wrong model (one booth fewer, a departure
skipped) cannot hide inside a loose tolerance. Seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from straits.engine.kernels import fifo_multi_server, load_departures
from tests.theory import erlang_c

LORRIES = 4_000_000
WARMUP_FRACTION = 0.1
BATCHES = 30
Z = 3.0
MAX_RELATIVE_TOLERANCE = 0.06


def batch_means(samples: np.ndarray) -> tuple[float, float]:
    """Mean and standard error after a warm-up; batches absorb autocorrelation."""
    kept = samples[int(len(samples) * WARMUP_FRACTION) :]
    size = len(kept) // BATCHES
    means = kept[: size * BATCHES].reshape(BATCHES, size).mean(axis=1)
    return float(means.mean()), float(means.std(ddof=1) / math.sqrt(BATCHES))


def assert_matches_theory(samples: np.ndarray, theory: float) -> None:
    """Within Z standard errors of theory, with a tolerance tight enough to mean something."""
    mean, se = batch_means(samples)
    report = f"sim={mean:.5g} theory={theory:.5g} se={se:.3g}"
    assert abs(mean - theory) < Z * se, report
    assert Z * se < MAX_RELATIVE_TOLERANCE * theory, f"too noisy to discriminate: {report}"


def poisson_arrivals(rng: np.random.Generator, rate: float, n: int) -> np.ndarray:
    """Arrival times of a Poisson process (per minute), starting empty at 0."""
    return np.cumsum(rng.exponential(1.0 / rate, n))


def queue_waits(arrivals: np.ndarray, services: np.ndarray, booths: int) -> np.ndarray:
    start, _ = fifo_multi_server(arrivals, services, booths)
    return start - arrivals


def pollaczek_khinchine(rate: float, mean_service: float, second_moment: float) -> float:
    """M/G/1 mean wait in queue: lam E[S^2] / (2 (1 - rho))."""
    return rate * second_moment / (2.0 * (1.0 - rate * mean_service))


def bulk_service_mean_wait(rate: float, period: float, capacity: int) -> float:
    """Exact mean wait for Poisson arrivals boarding departures of ``capacity`` every ``period``.

    The queue Q just before a departure is an embedded Markov chain,
    Q' = max(Q - K, 0) + A with A ~ Poisson(lam T), solved here on a truncated
    state space. Between departures the number waiting is the R = max(Q - K, 0)
    left behind plus the arrivals so far, whose time average is E[R] + lam T / 2;
    Little's law (W = L / lam) then gives W = E[R] / lam + T / 2.
    """
    mean_arrivals = rate * period
    states = int(3 * (capacity + mean_arrivals)) + 400
    arrivals_pmf = poisson.pmf(np.arange(states), mean_arrivals)
    transition = np.zeros((states, states))
    for q in range(states):
        left = max(q - capacity, 0)
        transition[q, left:] = arrivals_pmf[: states - left]
    transition[:, -1] += 1.0 - transition.sum(axis=1)  # truncated tail lumped into the last state
    balance = transition.T - np.eye(states)
    balance[-1, :] = 1.0  # replace one redundant balance equation by normalisation
    rhs = np.zeros(states)
    rhs[-1] = 1.0
    stationary = np.linalg.solve(balance, rhs)
    assert stationary[-capacity - 50 :].sum() < 1e-12, "truncation too tight"
    left_behind = np.maximum(np.arange(states) - capacity, 0)
    return float(stationary @ left_behind) / rate + period / 2.0


@pytest.mark.parametrize("booths", [1, 4, 8])
@pytest.mark.parametrize("rho", [0.5, 0.8, 0.9])
def test_mmc_mean_wait_matches_erlang_c(booths: int, rho: float) -> None:
    rng = np.random.default_rng(1000 + booths * 10 + round(rho * 10))
    mean_service = 4.0
    rate = rho * booths / mean_service
    arrivals = poisson_arrivals(rng, rate, LORRIES)
    services = rng.exponential(mean_service, LORRIES)
    offered = rate * mean_service
    theory = erlang_c(booths, offered) / (booths / mean_service - rate)
    assert_matches_theory(queue_waits(arrivals, services, booths), theory)


@pytest.mark.parametrize("rho", [0.5, 0.8, 0.9])
def test_md1_mean_wait_matches_pollaczek_khinchine(rho: float) -> None:
    rng = np.random.default_rng(2000 + round(rho * 10))
    service = 3.0
    rate = rho / service
    arrivals = poisson_arrivals(rng, rate, LORRIES)
    services = np.full(LORRIES, service)
    theory = rho * service / (2.0 * (1.0 - rho))
    assert theory == pytest.approx(pollaczek_khinchine(rate, service, service**2))
    assert_matches_theory(queue_waits(arrivals, services, 1), theory)


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_mg1_lognormal_mean_wait_matches_pollaczek_khinchine(rho: float) -> None:
    rng = np.random.default_rng(3000 + round(rho * 10))
    mean_service, cv = 3.0, 1.5
    sigma2 = math.log1p(cv**2)
    services = rng.lognormal(math.log(mean_service) - sigma2 / 2, math.sqrt(sigma2), LORRIES)
    rate = rho / mean_service
    arrivals = poisson_arrivals(rng, rate, LORRIES)
    theory = pollaczek_khinchine(rate, mean_service, mean_service**2 * (1.0 + cv**2))
    assert_matches_theory(queue_waits(arrivals, services, 1), theory)


@pytest.mark.parametrize(
    ("rate", "period", "capacity"),
    [
        (0.25, 10.0, 5),  # rho 0.5
        (0.45, 10.0, 5),  # rho 0.9, small vessels: long leftover queues
        (2.4, 12.0, 32),  # rho 0.9, shuttle-like
        (1.0, 90.0, 120),  # rho 0.75, ferry-like
    ],
)
def test_bulk_departures_mean_wait_matches_embedded_chain(
    rate: float, period: float, capacity: int
) -> None:
    rng = np.random.default_rng(4000 + capacity)
    n = LORRIES // 2
    ready = poisson_arrivals(rng, rate, n)
    departures = period * np.arange(1, math.ceil(ready[-1] / period) + 1000)
    taken, load = load_departures(ready, departures, np.full(len(departures), capacity))
    assert (taken >= 0).all()
    assert load.max() <= capacity
    waits = departures[taken] - ready
    assert_matches_theory(waits, bulk_service_mean_wait(rate, period, capacity))


def naive_fifo_starts(arrivals: list[float], services: list[float], booths: int) -> list[float]:
    """FIFO c-server starts from the definition, in O(n^2).

    Lorry i starts at the first instant t >= max(arrival, previous start) at
    which fewer than ``booths`` earlier lorries are in service ([start, end)).
    Such an instant is the lower bound or some earlier lorry's end.
    """
    starts: list[float] = []
    ends: list[float] = []
    for arrival, service in zip(arrivals, services, strict=True):
        floor = max(arrival, starts[-1]) if starts else arrival
        candidates = sorted({floor, *(e for e in ends if e > floor)})
        start = next(
            t
            for t in candidates
            if sum(s <= t < e for s, e in zip(starts, ends, strict=True)) < booths
        )
        starts.append(start)
        ends.append(start + service)
    return starts


def naive_boarding(
    ready: list[int], departures: list[int], capacity: list[int]
) -> tuple[list[int], list[int]]:
    """Each lorry, in the order given, scans for the first departure at/after it with room."""
    load = [0] * len(departures)
    taken = []
    for t in ready:
        j = next(
            (j for j, d in enumerate(departures) if d >= t and load[j] < capacity[j]),
            -1,
        )
        if j >= 0:
            load[j] += 1
        taken.append(j)
    return taken, load


# Small integer times force the ties (simultaneous arrivals, zero service,
# lorries ready exactly at a departure) where off-by-one errors live.
small_time = st.integers(0, 30)


def by_time(pair: tuple[int, int]) -> int:
    """Sort key on time alone, so a stable sort keeps ties in their drawn order."""
    return pair[0]


@settings(max_examples=300, deadline=None)
@given(
    lorries=st.lists(st.tuples(small_time, st.integers(0, 12)), min_size=1, max_size=40),
    booths=st.integers(1, 5),
)
def test_fifo_multi_server_matches_definition(lorries: list[tuple[int, int]], booths: int) -> None:
    arrivals, services = (
        np.array(column, dtype=float) for column in zip(*sorted(lorries, key=by_time), strict=True)
    )
    start, end = fifo_multi_server(arrivals, services, booths)
    assert (start >= arrivals).all(), "a lorry started before it arrived"
    assert (np.diff(start) >= 0).all(), "starts out of FIFO order"
    np.testing.assert_array_equal(end, start + services)
    expected = naive_fifo_starts(arrivals.tolist(), services.tolist(), booths)
    np.testing.assert_array_equal(start, expected)


@settings(max_examples=300, deadline=None)
@given(
    ready=st.lists(small_time, min_size=1, max_size=40),
    sailings=st.lists(st.tuples(small_time, st.integers(0, 3)), min_size=1, max_size=15),
)
def test_load_departures_matches_first_with_room(
    ready: list[int], sailings: list[tuple[int, int]]
) -> None:
    departures, capacity = (
        list(column) for column in zip(*sorted(sailings, key=by_time), strict=True)
    )
    cap = np.array(capacity, dtype=np.int64)
    taken, load = load_departures(
        np.array(ready, dtype=float), np.array(departures, dtype=float), cap
    )
    assert (load <= cap).all(), "a departure was overloaded"
    boarded = taken[taken >= 0]
    np.testing.assert_array_equal(load, np.bincount(boarded, minlength=len(departures)))
    expected_taken, expected_load = naive_boarding(ready, departures, capacity)
    np.testing.assert_array_equal(taken, expected_taken)
    np.testing.assert_array_equal(load, expected_load)
