"""The results store: resume without duplicates, and crash safety under kill -9 and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from straits.experiments.ensemble import ensemble, run_experiment
from straits.experiments.executors import InlineExecutor
from straits.experiments.replication import run_task
from straits.experiments.store import ResultsStore, default_store_path
from straits.scenario import scenario_hash

from .helpers import fake_outcome

SHORT_SCENARIO = """\
extends: baseline
name: short-baseline
horizon: 1d
"""


def test_rerun_runs_only_what_is_missing(one_day, tmp_path):
    with ResultsStore(tmp_path / "r.duckdb") as store:
        first = run_experiment(ensemble(one_day, 2), store, InlineExecutor())
        more = run_experiment(ensemble(one_day, 4), store, InlineExecutor())
        again = run_experiment(ensemble(one_day, 4), store, InlineExecutor())
        rows = store.con.execute("SELECT replication FROM runs ORDER BY 1").fetchall()
    assert (first.ran, first.skipped) == (2, 0)
    assert (more.ran, more.skipped) == (2, 2)
    assert (again.ran, again.skipped) == (0, 4)
    assert [r[0] for r in rows] == [0, 1, 2, 3]


def test_interrupt_stops_after_committing_the_replication_in_hand(one_day, tmp_path,
                                                                 monkeypatch):
    """A first Ctrl-C during replication 1 lets it finish and be committed, then stops."""
    import straits.experiments.ensemble as ensemble_module

    def interrupted_at_one(task):
        if task.replication == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return run_task(task)

    monkeypatch.setattr(ensemble_module, "run_task", interrupted_at_one)
    with ResultsStore(tmp_path / "r.duckdb") as store:
        with pytest.raises(KeyboardInterrupt):
            run_experiment(ensemble(one_day, 4), store, InlineExecutor())
        assert store.done_replications(*_keys(one_day)) == {0, 1}
        monkeypatch.setattr(ensemble_module, "run_task", run_task)
        resumed = run_experiment(ensemble(one_day, 4), store, InlineExecutor())
    assert (resumed.ran, resumed.skipped) == (2, 2)


def _keys(scenario) -> tuple[str, str]:
    key = scenario_hash(scenario)
    return key, key


def test_a_replication_is_stored_once(tmp_path):
    with ResultsStore(tmp_path / "r.duckdb") as store:
        assert store.add_outcome(fake_outcome(0, {"a": 1.0}), "test", {})
        assert not store.add_outcome(fake_outcome(0, {"a": 2.0}), "test", {})
        assert store.con.execute("SELECT count(*), sum(value) FROM kpis").fetchone() == (1, 1.0)
        assert store.con.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_time_series_view_reads_the_parquet_files(tmp_path):
    with ResultsStore(tmp_path / "r.duckdb") as store:
        store.add_outcome(fake_outcome(0, {"a": 1.0}, level=7.0), "test", {})
        store.refresh_views()
        rows = store.con.execute("SELECT place, minutes, lorries FROM timeseries "
                                 "WHERE place = 'stack' ORDER BY minutes").fetchall()
    assert rows == [("stack", 15.0 * i, 7.0) for i in range(5)]


def test_store_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("STRAITS_STORE", raising=False)
    assert default_store_path() == Path("straits-results.duckdb")
    monkeypatch.setenv("STRAITS_STORE", str(tmp_path / "x.duckdb"))
    assert default_store_path() == tmp_path / "x.duckdb"


def _start(tmp_path: Path, replications: int, workers: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "straits.cli", "ensemble", str(tmp_path / "short.yaml"),
               "-n", str(replications), "--workers", str(workers), "--store",
               str(tmp_path / "r.duckdb"), "--json"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=tmp_path)


def _wait_for_files(tmp_path: Path, count: int, process: subprocess.Popen) -> None:
    folder = tmp_path / "r-files" / "timeseries"
    deadline = time.monotonic() + 120
    while len(list(folder.glob("*/*.parquet"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no replication finished in time"
        time.sleep(0.05)
    # one writer writes a file, then commits its row, then the next file: ``count`` files
    # on disk mean at least ``count - 1`` rows committed


def _check_complete(tmp_path: Path, replications: int) -> None:
    con = duckdb.connect(str(tmp_path / "r.duckdb"), read_only=True)
    runs, distinct, lowest, highest = con.execute(
        "SELECT count(*), count(DISTINCT replication), min(replication), max(replication) "
        "FROM runs").fetchone()
    per_run = {n for (n,) in con.execute(
        "SELECT count(*) FROM kpis GROUP BY run_id").fetchall()}
    orphans = con.execute("SELECT count(*) FROM kpis WHERE run_id NOT IN "
                          "(SELECT run_id FROM runs)").fetchone()[0]
    con.close()
    assert (runs, distinct, lowest, highest) == (replications, replications, 0, replications - 1)
    assert len(per_run) == 1 and orphans == 0


@pytest.fixture
def short_yaml(tmp_path):
    (tmp_path / "short.yaml").write_text(SHORT_SCENARIO, encoding="utf-8")


def _rerun(tmp_path: Path, replications: int) -> dict:
    process = _start(tmp_path, replications, workers=1)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return json.loads(out)


@pytest.mark.usefixtures("short_yaml")
def test_kill_9_loses_nothing_that_finished(tmp_path):
    replications = 60  # many more than can finish before the kill lands
    process = _start(tmp_path, replications, workers=2)
    _wait_for_files(tmp_path, 3, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    resumed = _rerun(tmp_path, replications)
    assert 2 <= resumed["run"]["replications_in_store"] < replications
    assert resumed["run"]["replications_run"] == replications - resumed["run"][
        "replications_in_store"]
    _check_complete(tmp_path, replications)


@pytest.mark.slow
@pytest.mark.usefixtures("short_yaml")
def test_ctrl_c_exits_130_and_keeps_finished_work(tmp_path):
    replications = 60  # many more than can finish between the signal and its handling
    process = _start(tmp_path, replications, workers=1)
    _wait_for_files(tmp_path, 3, process)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "interrupted" in err and "rerun the same command" in err
    resumed = _rerun(tmp_path, replications)
    assert 2 <= resumed["run"]["replications_in_store"] < replications
    _check_complete(tmp_path, replications)
