"""The same seeds give the same KPI rows on every executor."""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest

from straits.experiments.ensemble import ensemble, run_experiment
from straits.experiments.executors import (
    DaskExecutor,
    InlineExecutor,
    ProcessExecutor,
    WorkerLost,
    make_executor,
)
from straits.experiments.statistics import experiment_statistics
from straits.experiments.store import ResultsStore

REPLICATIONS = 3


def stored_rows(store: ResultsStore) -> tuple[list, list]:
    kpis = store.con.execute(
        "SELECT r.replication, r.seed, k.kpi, k.value FROM runs r JOIN kpis k USING (run_id) "
        "ORDER BY r.replication, k.kpi").fetchall()
    files = [row[0] for row in store.con.execute(
        "SELECT timeseries_file FROM runs ORDER BY replication").fetchall()]
    series = [pq.read_table(store.files / f).to_pylist() for f in files]
    return kpis, series


def run_on(executor, one_day, path):
    """Stored rows, then the statistics and bands every output is made of."""
    experiment = ensemble(one_day, REPLICATIONS)
    try:
        with ResultsStore(path) as store:
            report = run_experiment(experiment, store, executor)
            assert report.ran == REPLICATIONS
            return (*stored_rows(store), experiment_statistics(store, experiment.experiment_id),
                    store.bands(experiment.experiment_id, 0).to_pylist())
    finally:
        executor.close()


def test_one_worker_two_workers_and_dask_agree(one_day, tmp_path):
    inline = run_on(InlineExecutor(), one_day, tmp_path / "inline.duckdb")
    processes = run_on(ProcessExecutor(2), one_day, tmp_path / "processes.duckdb")
    dask = run_on(DaskExecutor(workers=2, processes=False), one_day, tmp_path / "dask.duckdb")
    kpis, series, _, _ = inline
    assert len(kpis) > 50 * REPLICATIONS
    assert len({row[1] for row in kpis}) == REPLICATIONS  # distinct seeds
    assert processes == inline  # statistics and bands too, to the last bit
    assert dask == inline
    assert series[0] != series[1]


@pytest.mark.parametrize(("kwargs", "kind"), [
    ({"workers": 1}, InlineExecutor),
    ({"workers": 3}, ProcessExecutor),
])
def test_make_executor_picks_local_kinds(kwargs, kind):
    executor = make_executor(**kwargs)
    try:
        assert isinstance(executor, kind)
    finally:
        executor.close()


def _die(task: int) -> int:
    os._exit(3)  # a worker killed mid-task (OOM killer, kill -9)


def test_workers_that_keep_dying_stop_the_run_with_one_error(monkeypatch):
    import straits.experiments.executors as executors

    monkeypatch.setattr(executors, "MAX_POOL_RESTARTS", 1)  # one replacement, then stop
    executor = ProcessExecutor(1)
    try:
        with pytest.raises(WorkerLost, match="died 2 times"):
            list(executor.imap_unordered(_die, range(2)))
    finally:
        executor.close()
