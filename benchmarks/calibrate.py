"""Time the shipped calibration: ``python benchmarks/calibrate.py [TRIALS] [WORKERS] [OUT]``.

Runs ``straits calibrate`` (the corridor-2015 spec) with a small budget into a
fresh folder (``OUT`` if given, and kept), in a new interpreter as a user would,
and prints one JSON object per line: the wall time, the replications it ran and
their CPU time, seconds per trial, and the full budget extrapolated from them (the
issue asks for 30 minutes on 2 cores). A full run costs about trials x seconds per trial:
later trials are no cheaper per replication, but whole-number candidates the
search proposes again cost nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from straits.calibration.spec import load_spec
from straits.experiments.store import ResultsStore

BUDGET_SECONDS = 30 * 60


def emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    keep = Path(sys.argv[3]) if len(sys.argv) > 3 else None
    spec = load_spec()
    with nullcontext(str(keep)) if keep else tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "calibration" if keep is None else keep
        began = time.perf_counter()
        subprocess.run([sys.executable, "-m", "straits.cli", "calibrate", "--trials", str(trials),
                        "--workers", str(workers), "--out", str(out), "--json"], check=True,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - began
        with ResultsStore(out / "straits-results.duckdb", read_only=True) as db:
            runs, cpu = db.sql("SELECT count(*), sum(simulate_seconds + series_seconds) "
                               "FROM runs").to_pylist()[0].values()
        result = json.loads((out / "calibration.json").read_text())
    per_trial = wall / trials
    emit(name="calibrate_small_seconds", value=round(wall, 1), unit="s", trials=trials,
         workers=workers)
    emit(name="calibrate_replications", value=runs, unit="replications",
         worker_cpu_seconds=round(cpu, 1), cpu_seconds_per_replication=round(cpu / runs, 3))
    emit(name="calibrate_seconds_per_trial", value=round(per_trial, 2), unit="s")
    full = per_trial * spec.trials
    emit(name="calibrate_full_extrapolated_seconds", value=round(full, 0), unit="s",
         trials=spec.trials, budget=BUDGET_SECONDS, budget_rule="value <= budget",
         ok=full <= BUDGET_SECONDS)
    emit(name="calibrate_small_accepted", value=len(result["accepted"]), unit="vectors",
         best=result["best"]["values"])


if __name__ == "__main__":
    main()
