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
from straits.experiments.store import ResultsStore
from straits.experiments.store_path import default_store_path
from straits.experiments.tasks import run_task
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
        assert store.done_replications(*_keys(one_day), 4).tolist() == [True, True, False, False]
        monkeypatch.setattr(ensemble_module, "run_task", run_task)
        resumed = run_experiment(ensemble(one_day, 4), store, InlineExecutor())
    assert (resumed.ran, resumed.skipped) == (2, 2)


def _keys(scenario) -> tuple[str, str]:
    key = scenario_hash(scenario)
    return key, key


def test_a_replication_is_stored_once(tmp_path):
    with ResultsStore(tmp_path / "r.duckdb") as store:
        assert store.add_result(fake_outcome(0, {"a": 1.0}), "test", {})
        assert not store.add_result(fake_outcome(0, {"a": 2.0}), "test", {})
        assert store.con.execute("SELECT count(*), sum(value) FROM kpis").fetchone() == (1, 1.0)
        assert store.con.execute("SELECT count(*) FROM runs").fetchone() == (1,)


def test_time_series_view_reads_the_parquet_files(tmp_path):
    with ResultsStore(tmp_path / "r.duckdb") as store:
        store.add_result(fake_outcome(0, {"a": 1.0}, level=7.0), "test", {})
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


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux /proc; no extra dependency)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _is_worker(pid: int) -> bool:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"multiprocessing" in command and b"resource_tracker" not in command


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_until(condition, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.usefixtures("short_yaml")
def test_workers_exit_when_the_coordinator_is_killed(tmp_path):
    process = _start(tmp_path, 60, workers=2)
    _wait_for_files(tmp_path, 1, process)
    helpers = _children(process.pid)  # the workers and multiprocessing's resource tracker
    assert sum(_is_worker(p) for p in helpers) == 2
    os.kill(process.pid, signal.SIGKILL)  # the coordinator only, not its process group
    process.wait()
    _wait_until(lambda: not any(_alive(p) for p in helpers), "workers outlived the coordinator")


@pytest.mark.slow
@pytest.mark.usefixtures("short_yaml")
def test_sigterm_stops_cleanly_with_the_resume_message(tmp_path):
    process = _start(tmp_path, 60, workers=2)
    _wait_for_files(tmp_path, 2, process)
    helpers = _children(process.pid)
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "terminated" in err and "rerun the same command" in err and "Traceback" not in err
    _wait_until(lambda: not any(_alive(p) for p in helpers), "workers outlived the run")
    resumed = _rerun(tmp_path, 60)
    assert 2 <= resumed["run"]["replications_in_store"] < 60
    _check_complete(tmp_path, 60)


@pytest.mark.usefixtures("short_yaml")
def test_a_lost_worker_is_replaced_and_the_run_completes(tmp_path):
    replications = 12
    process = _start(tmp_path, replications, workers=2)
    _wait_for_files(tmp_path, 1, process)
    worker = next(p for p in _children(process.pid) if _is_worker(p))
    os.kill(worker, signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert json.loads(out)["run"]["replications_run"] == replications
    _check_complete(tmp_path, replications)


def _no_simulation(monkeypatch) -> None:
    import straits.experiments.ensemble
    import straits.pipeline

    def refuse(*args, **kwargs):
        raise AssertionError("simulated before checking the store")

    monkeypatch.setattr(straits.pipeline, "simulate", refuse)
    monkeypatch.setattr(straits.experiments.ensemble, "run_experiment", refuse)


def test_a_truncated_database_is_one_line_exit_2(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from straits.cli import app

    _no_simulation(monkeypatch)
    path = tmp_path / "r.duckdb"
    with ResultsStore(path) as store:
        store.add_result(fake_outcome(0, {"a": 1.0}), "test", {})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    for args in (["results", "list"], ["ensemble", "baseline", "-n", "1", "--workers", "1"]):
        result = CliRunner().invoke(app, [*args, "--store", str(path)])
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
        assert "truncated" in result.stderr and str(path) in result.stderr


def test_a_store_under_a_file_is_refused_before_any_run(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from straits.cli import app

    _no_simulation(monkeypatch)
    (tmp_path / "plain").write_text("not a folder")
    result = CliRunner().invoke(app, ["ensemble", "baseline", "-n", "1", "--workers", "1",
                                      "--kpi", "cost_gbp",
                                      "--store", str(tmp_path / "plain" / "r.duckdb")])
    assert result.exit_code == 2 and "--store" in result.stderr
    assert result.stderr.count("\n") == 1


def test_missing_store_folders_are_created(tmp_path):
    path = tmp_path / "new" / "deeper" / "r.duckdb"
    with ResultsStore(path) as store:
        assert store.add_result(fake_outcome(0, {"a": 1.0}), "test", {})
    assert path.is_file()


class _Reversed:
    """An executor whose results arrive in the reverse order of the tasks."""

    description = "reversed"

    def imap_unordered(self, fn, tasks):
        yield from reversed([fn(task) for task in tasks])

    def close(self) -> None:
        """Nothing to release."""


def test_a_resumed_run_reports_the_same_figures_as_a_clean_one(one_day, tmp_path):
    from straits.experiments.statistics import experiment_statistics

    experiment = ensemble(one_day, 5)
    outputs = []
    for name, first_part in (("clean", None), ("resumed", 2)):
        with ResultsStore(tmp_path / f"{name}.duckdb") as store:
            if first_part:  # an earlier, shorter run, then the rest finishing out of order
                run_experiment(ensemble(one_day, first_part), store, _Reversed())
            run_experiment(experiment, store, InlineExecutor() if not first_part else _Reversed())
            outputs.append((experiment_statistics(store, experiment.experiment_id),
                            store.bands(experiment.experiment_id, 0)))
    (clean_stats, clean_bands), (resumed_stats, resumed_bands) = outputs
    assert resumed_stats == clean_stats
    assert resumed_bands.equals(clean_bands)
