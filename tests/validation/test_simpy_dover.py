"""Cross-check: an independent SimPy model of Dover's outbound chain gives the
same delay distribution as straits for the baseline (benchmarks/simpy_dover.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from straits.scenario import load_scenario

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "simpy_dover.py"
_spec = importlib.util.spec_from_file_location("simpy_dover", _PATH)
simpy_dover = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(simpy_dover)

REPLICATIONS = 6
DAYS = 2.0  # Monday and Tuesday: the weekday evening peaks are where Dover queues


def _stats(runs: list[np.ndarray]) -> dict[str, np.ndarray]:
    return {"mean": np.array([d.mean() for d in runs]),
            "p95": np.array([np.percentile(d, 95) for d in runs])}


def _within_interval(a: np.ndarray, b: np.ndarray) -> bool:
    """The difference of the two ensemble means lies inside its 95% interval."""
    se = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return abs(a.mean() - b.mean()) <= 1.96 * se


@pytest.fixture(scope="module")
def scenario():
    return load_scenario("baseline").model_copy(update={"horizon": DAYS * 1440.0})


@pytest.fixture(scope="module")
def straits_stats(scenario):
    return _stats([simpy_dover.straits_dover_delays(scenario, s) for s in range(REPLICATIONS)])


def test_simpy_reproduces_the_straits_delay_distribution(scenario, straits_stats):
    simpy_stats = _stats([simpy_dover.simulate_dover(scenario, 1000 + s)
                          for s in range(REPLICATIONS)])
    assert straits_stats["mean"].mean() > 5.0  # Dover does queue in the evening peaks
    for stat in ("mean", "p95"):
        assert _within_interval(straits_stats[stat], simpy_stats[stat]), stat


def test_the_cross_check_detects_one_booth_fewer(scenario, straits_stats):
    """The comparison has power: SimPy with 6 instead of 7 border booths disagrees."""
    dover = scenario.terminals["dover"]
    stages = [s.model_copy(update={"booths": s.booths - 1}) if s.name == "french_border" else s
              for s in dover.stages]
    slower = scenario.model_copy(update={"terminals": {
        **scenario.terminals, "dover": dover.model_copy(update={"stages": stages})}})
    simpy_stats = _stats([simpy_dover.simulate_dover(slower, 1000 + s) for s in range(3)])
    assert not _within_interval(straits_stats["mean"], simpy_stats["mean"])
