"""Headline delays count lorries still waiting at the horizon, so they never fall as a
disruption that runs into the horizon gets worse."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.metrics.kpis import delay_at_horizon_minutes, summarise
from tests.conftest import scenario_with

Z = 3.0
P95 = 0.95


def _run(kind: str, start_hours: int, duration_hours: float, seed: int):
    outage = {"kind": kind, "start": f"+{start_hours}h", "duration": f"{duration_hours}h"}
    scenario = scenario_with(horizon="2d", disruptions=[outage])
    records = run_replication(scenario, seed)
    return records, summarise(scenario, records)


def _mean_error(delays: np.ndarray) -> float:
    return Z * float(delays.std(ddof=1)) / math.sqrt(delays.size)


def _p95_error(delays: np.ndarray) -> float:
    """Half the spread of the order statistics bracketing the 95th percentile (Z sigma)."""
    ordered = np.sort(delays)
    n = ordered.size
    spread = Z * math.sqrt(n * P95 * (1 - P95))
    low = ordered[max(int(n * P95 - spread), 0)]
    high = ordered[min(int(n * P95 + spread), n - 1)]
    return float(high - low) / 2


@settings(max_examples=6, deadline=None)
@example(kind="tunnel_suspension", start_hours=36, shorter=6.0, longer=12.0, seed=1)
@given(
    kind=st.sampled_from(["tunnel_suspension", "sailings_cancelled"]),
    start_hours=st.integers(24, 44),
    shorter=st.sampled_from([1.0, 4.0, 8.0]),
    longer=st.sampled_from([12.0, 24.0]),
    seed=st.integers(0, 2**16),
)
def test_a_longer_outage_into_the_horizon_never_lowers_the_delays(
    kind: str, start_hours: int, shorter: float, longer: float, seed: int
) -> None:
    _, mild = _run(kind, start_hours, shorter, seed)
    records, severe = _run(kind, start_hours, longer, seed)
    for name, dr in records.directions.items():
        delays, censored = delay_at_horizon_minutes(dr, records.horizon_minutes)
        before, after = mild["directions"][name], severe["directions"][name]
        assert after["delay_minutes"]["censored_lorries"] == int(censored.sum())
        assert (after["delay_minutes"]["mean"]
                >= before["delay_minutes"]["mean"] - _mean_error(delays))
        assert after["delay_minutes"]["p95"] >= before["delay_minutes"]["p95"] - _p95_error(delays)
        assert after["lorry_hours_delayed"] >= before["lorry_hours_delayed"]


def test_waiting_lorries_count_with_their_least_delay() -> None:
    """A run cut short by a closure: everyone still waiting is censored at the horizon
    plus the crossing, and counted in the headline."""
    records, summary = _run("tunnel_suspension", 40, 8.0, 3)
    for name, dr in records.directions.items():
        delays, censored = delay_at_horizon_minutes(dr, records.horizon_minutes)
        waiting = dr.in_system_at_end
        assert censored.sum() == waiting.sum() > 0
        least = (records.horizon_minutes + dr.layout.crossing_minutes[dr.terminal[waiting]]
                 - dr.arrival_minutes[waiting] - dr.free_flow_minutes[waiting])
        np.testing.assert_allclose(delays[censored], np.maximum(least, 0.0))
        assert summary["directions"][name]["delay_minutes"]["max"] == round(delays.max(), 3)
