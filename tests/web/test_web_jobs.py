"""The run queue: persisted across restarts (even kill -9), cancellable, memory-capped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from straits.experiments.store import ResultsStore
from straits.pipeline import simulate
from straits.scenario import load_scenario, scenario_to_yaml
from straits.web.jobs import FINISHED, JobQueue
from straits.web.ledger import RunLedger
from tests.web.conftest import _free_port

SHORT = {"horizon_days": 0.5}
SERVER = ("import sys, uvicorn; from straits.web import Settings, create_app; "
          "uvicorn.run(create_app(Settings(store=sys.argv[1], check_workers=1)), "
          "host='127.0.0.1', port=int(sys.argv[2]), log_level='warning')")


def _start_server(store: Path) -> tuple[subprocess.Popen, httpx.Client]:
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(store), str(port)],
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    deadline = time.monotonic() + 60
    while True:
        try:
            client.get("/api/settings")
            return process, client
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "no server"


def _poll(client: httpx.Client, run_id: str, until, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/runs/{run_id}").json()
        if until(run):
            return run
    raise AssertionError(f"{run_id}: {run}")


@pytest.mark.slow  # two server start-ups (~10 s)
def test_kill_9_mid_run_loses_no_run_and_stores_none_twice(tmp_path):
    """Queued runs come back after kill -9; the run that was running is resumed and its
    replications stored before the kill are not stored twice."""
    store = tmp_path / "results.duckdb"
    server, client = _start_server(store)
    try:
        first = client.post("/api/runs", json={"scenario": "baseline", "replications": 4,
                                               "levers": {"horizon_days": 1}}).json()["id"]
        queued = [client.post("/api/runs", json={"scenario": "baseline", "seed": s,
                                                 "levers": SHORT}).json()["id"]
                  for s in (7, 8)]
        _poll(client, first, lambda r: r["done"] >= 1)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()
    server, client = _start_server(store)
    try:
        runs = {r["id"]: r for r in client.get("/api/runs").json()}
        assert set(runs) == {first, *queued}
        assert runs[first]["stored"] == "resumed after a server restart" or \
            runs[first]["status"] != "queued"
        finished = [_poll(client, i, lambda r: r["status"] in FINISHED) for i in [first, *queued]]
        assert [r["status"] for r in finished] == ["done"] * 3, finished
        assert finished[0]["done"] == 4
        experiment = finished[0]["experiment_id"]
        newer = client.post("/api/runs", json={"scenario": "baseline", "levers": SHORT}).json()
        assert int(newer["id"][1:]) > max(int(i[1:]) for i in [first, *queued])
        client.delete(f"/api/runs/{newer['id']}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    with ResultsStore(store, read_only=True) as results:
        stored = results.con.execute(
            "SELECT count(*), count(DISTINCT r.replication) FROM runs r JOIN experiment_points p "
            "USING (scenario_hash, seed_key) WHERE p.experiment_id = ?", [experiment]).fetchone()
    assert stored == (4, 4)


def test_a_run_interrupted_twice_is_marked_failed_not_resumed_again(tmp_path):
    store = tmp_path / "results.duckdb"
    ledger = RunLedger(store)
    yaml_text = scenario_to_yaml(load_scenario("baseline"))
    ledger.add(4, "twice", yaml_text, [1])
    ledger.set_status(4, "running", attempts=2)
    ledger.add(5, "garbled", "name: [", [1])
    jobs = JobQueue(store=store)
    job = jobs.get("r4")
    assert job.status == "failed" and "not resumed again" in job.error
    assert jobs.get("r5") is None  # its YAML no longer loads: recorded as failed, not queued
    assert ledger.unfinished() == []


def test_queued_runs_can_be_cancelled_and_running_ones_stopped(client, wait_done, monkeypatch):
    entered, gate = threading.Event(), threading.Event()

    def gated(scenario, seed):
        entered.set()
        assert gate.wait(60)
        return simulate(scenario, seed)

    monkeypatch.setattr("straits.web.jobs.simulate", gated)
    running = client.post("/api/runs", json={"scenario": "baseline", "replications": 3,
                                             "levers": SHORT}).json()["id"]
    waiting = client.post("/api/runs", json={"scenario": "baseline", "levers": SHORT}).json()["id"]
    assert entered.wait(60)
    cancelled = client.delete(f"/api/runs/{waiting}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert client.delete(f"/api/runs/{running}").json()["status"] == "running"
    gate.set()
    stopped = wait_done(client, running)
    assert stopped["status"] == "stopped" and stopped["done"] == 1
    assert stopped["error"] == "stopped by the user after 1 of 3 replications"
    assert client.get(f"/api/runs/{running}/figures").status_code == 200  # what it did
    assert client.app.state.jobs.get(waiting).started is None  # never ran
    again = client.delete(f"/api/runs/{running}")
    assert again.status_code == 409 and "only a queued or running" in again.text


def test_retained_results_are_capped_oldest_dropped_first(client, wait_done):
    client.app.state.jobs.retained_limit = 1  # bytes: only the newest run keeps its results
    old, new = (client.post("/api/runs", json={"scenario": "baseline", "seed": s,
                                               "levers": SHORT}).json()["id"] for s in (1, 2))
    wait_done(client, old), wait_done(client, new)
    dropped = client.get(f"/api/runs/{old}")
    assert dropped.json()["results_in_memory"] is False and dropped.json()["kpis"]
    gone = client.get(f"/api/runs/{old}/figures")
    assert gone.status_code == 410 and "dropped from memory" in gone.text
    assert client.get(f"/api/runs/{new}/figures").status_code == 200
