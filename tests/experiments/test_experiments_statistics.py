"""Ensemble statistics against theory: a t-interval on a queue with a known mean wait."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from straits import __version__
from straits.engine.kernels import fifo_multi_server
from straits.experiments.seeds import replication_seed
from straits.experiments.statistics import (
    describe,
    experiment_statistics,
    t_interval,
)
from straits.experiments.store import ResultsStore

from .helpers import fake_outcome

ARRIVAL_RATE = 0.5  # per minute
SERVICE_RATE = 1.0  # per minute: rho = 0.5
CUSTOMERS = 500
TRUE_MEAN_WAIT = ARRIVAL_RATE / (SERVICE_RATE * (SERVICE_RATE - ARRIVAL_RATE))  # M/M/1 Wq = 1.0


def mm1_mean_wait(seed: int) -> float:
    """Mean wait of CUSTOMERS in a FIFO M/M/1 started in its stationary state.

    A phantom customer at time 0 carries the stationary wait of the first real
    one (0 with probability 1 - rho, else exponential with rate mu - lambda),
    so every customer's wait has the stationary law and the mean is unbiased.
    """
    rng = np.random.default_rng(seed)
    rho = ARRIVAL_RATE / SERVICE_RATE
    initial = rng.exponential(1 / (SERVICE_RATE - ARRIVAL_RATE)) if rng.random() < rho else 0.0
    gaps = rng.exponential(1 / ARRIVAL_RATE, CUSTOMERS - 1)
    arrivals = np.concatenate([[0.0, 0.0], np.cumsum(gaps)])  # phantom, then the customers
    services = np.concatenate([[initial], rng.exponential(1 / SERVICE_RATE, CUSTOMERS)])
    start, _ = fifo_multi_server(arrivals, services, 1)
    return float((start[1:] - arrivals[1:]).mean())


def ensemble_of(replications: int, key: str) -> np.ndarray:
    return np.array([mm1_mean_wait(replication_seed(key, i)) for i in range(replications)])


def test_interval_covers_the_true_mean_wait_at_the_nominal_rate():
    experiments, replications = 200, 20
    covered = 0
    for e in range(experiments):
        s = describe("wait", ensemble_of(replications, f"{e + 1:016x}"))
        covered += s.ci95_low <= TRUE_MEAN_WAIT <= s.ci95_high
    # 95% nominal; 200 experiments: binomial sd 1.5 points, so 90-99% is a 3-sd band
    assert 0.90 <= covered / experiments <= 0.99


def test_half_width_shrinks_like_one_over_root_n():
    small = [describe("wait", ensemble_of(25, f"{e + 1:016x}")).half_width for e in range(20)]
    large = describe("wait", ensemble_of(400, "abcdef0123456789")).half_width
    ratio = np.mean(small) / large
    # sqrt(400/25) = 4, times t(0.975,24)/t(0.975,399) = 1.05
    assert ratio == pytest.approx(4 * 2.064 / 1.966, rel=0.15)


def test_describe_matches_scipy_and_numpy():
    values = np.random.default_rng(5).normal(10, 2, 37)
    s = describe("x", values)
    low, high = stats.t.interval(0.95, 36, loc=values.mean(), scale=stats.sem(values))
    assert (s.ci95_low, s.ci95_high) == pytest.approx((low, high))
    assert [s.p5, s.p50, s.p95] == pytest.approx(np.percentile(values, [5, 50, 95]))
    assert s.std == pytest.approx(values.std(ddof=1))


def test_one_replication_has_no_interval():
    assert t_interval(3.0, None, 1) == (None, None)
    assert describe("x", np.array([3.0])).ci95_low is None


def _store_with(tmp_path, values: list[float]) -> ResultsStore:
    store = ResultsStore(tmp_path / "r.duckdb")
    spec = {"straits_version": __version__, "start": "2015-06-01T00:00"}
    for name, replications in (("ens-test", len(values)), ("ens-four", 4)):
        store.add_experiment(name, "ensemble", "test", "00ff00ff00ff00ff", replications, spec,
                             [(0, "00ff00ff00ff00ff", "00ff00ff00ff00ff", {})])
    for i, v in enumerate(values):
        assert store.add_result(fake_outcome(i, {"a": v, "b": 2 * v}, level=v), "test", {})
    return store


def test_store_statistics_equal_numpy_statistics(tmp_path):
    values = list(np.random.default_rng(2).exponential(3.0, 15))
    with _store_with(tmp_path, values) as store:
        table = experiment_statistics(store, "ens-test")[0]
        by_name = {s.kpi: s for s in table}
        expected = describe("b", 2 * np.array(values))
        assert by_name["b"].as_dict() == pytest.approx(expected.as_dict())
        # only the first replications count when fewer are asked for
        assert experiment_statistics(store, "ens-four")[0][0].n == 4


def test_bands_are_exact_percentiles_across_replications(tmp_path):
    values = [float(v) for v in range(1, 12)]
    with _store_with(tmp_path, values) as store:
        bands = store.bands("ens-test", 0)
    rows = [r for r in bands.to_pylist() if r["place"] == "stack"]
    assert len(rows) == 5
    p5, p50, p95 = np.percentile(values, [5, 50, 95])
    for row in rows:
        assert row["lorries_p5"] == pytest.approx(p5)
        assert row["lorries_p50"] == pytest.approx(p50)
        assert row["lorries_p95"] == pytest.approx(p95)
        assert row["replications"] == len(values)
    assert rows[1]["minutes"] == 15.0


def _stored_in_order(path, values: list[float], order: list[int]) -> ResultsStore:
    store = ResultsStore(path)
    spec = {"straits_version": __version__, "start": "2015-06-01T00:00"}
    store.add_experiment("ens-order", "ensemble", "test", "00ff00ff00ff00ff", len(values), spec,
                         [(0, "00ff00ff00ff00ff", "00ff00ff00ff00ff", {})])
    for i in order:
        store.add_result(fake_outcome(i, {"a": values[i]}, level=values[i] % 97), "test", {})
    return store


def test_statistics_do_not_depend_on_the_order_replications_finished(tmp_path):
    """A resumed run or another worker count commits replications in another order; sums
    of these values change with the order, so only a fixed (replication) order agrees."""
    rng = np.random.default_rng(5)
    values = list(rng.choice([1e16, -1e16, 1.0, 3.0, 0.1], 40))
    orders = [list(range(40)), list(reversed(range(40))), rng.permutation(40).tolist()]
    results = []
    for k, order in enumerate(orders):
        with _stored_in_order(tmp_path / f"r{k}.duckdb", values, order) as store:
            results.append((experiment_statistics(store, "ens-order"),
                            store.bands("ens-order", 0)))
    for stats_k, bands_k in results[1:]:
        assert stats_k == results[0][0]  # dataclass equality: every float bit for bit
        assert bands_k.equals(results[0][1])


@pytest.mark.parametrize("budget_values", [1, 3, 12])  # values per slice: a step, a few, a place
def test_bands_in_slices_equal_bands_in_one_query(tmp_path, monkeypatch, budget_values):
    import straits.experiments.store as store_module

    values = [float(v) for v in range(1, 8)]
    with _store_with(tmp_path, values) as store:
        whole = store.bands("ens-test", 0)
        per_value = len(values) * 2 * store_module.BYTES_PER_BAND_VALUE
        monkeypatch.setattr(store_module, "BAND_MEMORY_BYTES", budget_values * per_value)
        sliced = store.bands("ens-test", 0)
    assert sliced.equals(whole)
    assert whole.num_rows == 2 * 5  # two places, five steps


def test_kpi_values_are_listed_in_replication_order_and_filtered_by_prefix(tmp_path):
    """What callers summing values themselves (calibration, pooled ensembles) read."""
    values = [4.0, 1.0, 3.0, 2.0]
    store = ResultsStore(tmp_path / "r.duckdb")
    spec = {"straits_version": __version__, "start": "2015-06-01T00:00"}
    store.add_experiment("cal-test", "calibration", "test", "00ff00ff00ff00ff", 3, spec,
                         [(0, "00ff00ff00ff00ff", "00ff00ff00ff00ff", {})])
    for i in (3, 1, 0, 2):
        store.add_result(fake_outcome(i, {"target.x": values[i], "other": -values[i]}),
                         "test", {})
    with store:
        rows = store.kpi_values("cal-test", "target.").to_pylist()
        every = store.kpi_values("cal-test").to_pylist()
    assert rows == [{"point": 0, "kpi": "target.x", "values": values[:3]}]
    assert [r["kpi"] for r in every] == ["other", "target.x"]
