"""Time the shipped calibration: ``python benchmarks/calibrate.py [TRIALS] [WORKERS] [OUT]``
(add ``--dask`` for a local Dask cluster).

Runs ``straits calibrate`` (the corridor-2015 spec; by default its full budget) into
a fresh folder (``OUT`` if given, and kept), in a new interpreter as a user would,
and prints one JSON object per line: the wall time, the CPU time of the
coordinator and its workers (the honest measure on a shared machine: CPU seconds
÷ cores is the wall time the run would take with the cores to itself), the load
average sampled while it ran, the replications it ran, and, for a smaller
budget, the full budget extrapolated. The issue asks for 30 minutes on 2 cores.
``--dask`` runs it on a local Dask cluster of WORKERS workers instead of local
processes.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

from straits.calibration.spec import load_spec
from straits.experiments.store import ResultsStore

BUDGET_SECONDS = 30 * 60
CORES = 2
LOAD_EVERY_SECONDS = 15.0


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def sample_load(samples: list[float], done: threading.Event) -> None:
    """The 1-minute load average every ``LOAD_EVERY_SECONDS`` until ``done``."""
    while not done.wait(LOAD_EVERY_SECONDS):
        samples.append(os.getloadavg()[0])


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--dask"]
    spec = load_spec()
    trials = int(args[0]) if args else spec.trials
    workers = int(args[1]) if len(args) > 1 else CORES
    keep = Path(args[2]) if len(args) > 2 else None
    where = ["--dask", "local"] if "--dask" in sys.argv else []
    with nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "calibration" if keep is None else keep
        loads = [os.getloadavg()[0]]
        done = threading.Event()
        sampler = threading.Thread(target=sample_load, args=(loads, done), daemon=True)
        sampler.start()
        began, cpu_before = time.perf_counter(), children_cpu_seconds()
        subprocess.run([sys.executable, "-m", "straits.cli", "calibrate", "--trials", str(trials),
                        "--workers", str(workers), *where, "--out", str(out), "--json"],
                       check=True, stdout=subprocess.DEVNULL)
        wall, cpu = time.perf_counter() - began, children_cpu_seconds() - cpu_before
        done.set()
        with ResultsStore(out / "straits-results.duckdb", read_only=True) as db:
            runs = db.sql("SELECT count(*) AS n FROM runs").to_pylist()[0]["n"]
        result = json.loads((out / "calibration.json").read_text())
    emit(name="calibrate_wall_seconds", value=round(wall, 1), unit="s", trials=trials,
         workers=workers, executor="dask-local" if where else "processes")
    emit(name="calibrate_cpu_seconds", value=round(cpu, 1), unit="s",
         note="coordinator and workers (local Dask workers included), user + system")
    emit(name="calibrate_load_average", unit="1-min load", min=round(min(loads), 1),
         mean=round(sum(loads) / len(loads), 1), max=round(max(loads), 1), cores=os.cpu_count())
    emit(name="calibrate_replications", value=runs, unit="replications",
         cpu_seconds_per_replication=round(cpu / max(runs, 1), 3))
    idle = cpu / CORES * spec.trials / trials
    emit(name="calibrate_full_idle_estimate_seconds", value=round(idle, 0), unit="s",
         trials=spec.trials, rule="CPU seconds / 2 cores, scaled to the full budget",
         budget=BUDGET_SECONDS, budget_rule="value <= budget", ok=idle <= BUDGET_SECONDS)
    emit(name="calibrate_full_wall_seconds", value=round(wall * spec.trials / trials, 0),
         unit="s", trials=spec.trials, measured=trials == spec.trials)
    emit(name="calibrate_accepted", value=len(result["accepted"]), unit="vectors",
         best=result["best"]["values"])


if __name__ == "__main__":
    main()
