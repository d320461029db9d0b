"""Performance benchmarks: ``python benchmarks/run.py`` prints one JSON object per line.

Every line has ``name``, ``value`` and ``unit``; where a target exists it also
has ``budget``, ``budget_rule`` (how ``value`` or ``ratio`` is judged against
it) and ``ok``. First-run timings use fresh subprocesses, once with an empty
numba cache (what a new install pays: compilation) and once with the project's
cache (what later runs pay: cache load); ``value`` is the cold, worst case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from simpy_reference import time_stage
from straits.engine.kernels import fifo_multi_server

LORRIES = 200_000
BOOTHS = 8
RHO = 0.9
MEAN_SERVICE_MINUTES = 4.0
KERNEL_REPEATS = 7
SIMPY_REPEATS = 2
MIN_SPEEDUP = 100.0
MAX_WAIT_RELATIVE_DIFFERENCE = 1e-6
BASELINE_FIRST_RUN_BUDGET_SECONDS = 10.0
BASELINE_STEADY_BUDGET_SECONDS = 1.0
BASELINE_REPEATS = 3

KERNEL_FIRST_CALL = """
import json, time
import numpy as np
from straits.engine.kernels import fifo_multi_server, load_departures
began = time.perf_counter()
fifo_multi_server(np.zeros(1), np.ones(1), 1)
load_departures(np.zeros(1), np.ones(1), np.ones(1, dtype=np.int64))
print(json.dumps(time.perf_counter() - began))
"""

BASELINE_FIRST_RUN = """
import json, time
began = time.perf_counter()
from straits.engine import run_replication
from straits.scenario import load_scenario
run_replication(load_scenario("baseline"), seed=1)
print(json.dumps(time.perf_counter() - began))
"""


def emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def best_seconds(run: Callable[[], object], repeats: int) -> float:
    """Best of several runs: the least disturbed by the rest of the machine."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best


def fresh_python_seconds(code: str, cold_cache: bool) -> float:
    """Seconds reported by ``code`` in a new interpreter, optionally with an empty numba cache."""
    with tempfile.TemporaryDirectory() as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir) if cold_cache else None
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(f"fresh interpreter failed:\n{done.stderr}")
    return float(json.loads(done.stdout.splitlines()[-1]))


def first_run_fields(code: str) -> dict[str, Any]:
    """Cold- and warm-cache first-run seconds; the cold one, the worst case, is the value."""
    cold = fresh_python_seconds(code, cold_cache=True)
    warm = fresh_python_seconds(code, cold_cache=False)
    return {"value": cold, "unit": "s", "cold_cache_seconds": cold, "warm_cache_seconds": warm}


def mm8_samples(seed: int = 20240601) -> tuple[np.ndarray, np.ndarray]:
    """Arrival and service minutes for an M/M/8 stage at rho = 0.9."""
    rng = np.random.default_rng(seed)
    rate = RHO * BOOTHS / MEAN_SERVICE_MINUTES
    arrivals = np.cumsum(rng.exponential(1.0 / rate, LORRIES))
    return arrivals, rng.exponential(MEAN_SERVICE_MINUTES, LORRIES)


def bench_stage_kernel() -> None:
    """Kernel vs SimPy on identical samples: throughput, and the same mean wait."""
    arrivals, services = mm8_samples()
    fifo_multi_server(arrivals[:10], services[:10], BOOTHS)  # compile or load cache first
    kernel = best_seconds(lambda: fifo_multi_server(arrivals, services, BOOTHS), KERNEL_REPEATS)
    simpy_seconds, simpy_waits = time_stage(arrivals, services, BOOTHS, SIMPY_REPEATS)
    ratio = simpy_seconds / kernel
    emit(
        name="stage_kernel_mm8_rho0.9",
        value=LORRIES / kernel,
        unit="lorries/s",
        simpy_value=LORRIES / simpy_seconds,
        ratio=ratio,
        budget=MIN_SPEEDUP,
        budget_rule="ratio >= budget",
        ok=ratio >= MIN_SPEEDUP,
    )
    start, _ = fifo_multi_server(arrivals, services, BOOTHS)
    mean_wait = float((start - arrivals).mean())
    simpy_mean_wait = float(simpy_waits.mean())
    difference = abs(mean_wait - simpy_mean_wait) / simpy_mean_wait
    emit(
        name="stage_kernel_mm8_rho0.9_mean_wait",
        value=mean_wait,
        unit="minutes",
        mean_wait_minutes=mean_wait,
        simpy_mean_wait_minutes=simpy_mean_wait,
        relative_difference=difference,
        budget=MAX_WAIT_RELATIVE_DIFFERENCE,
        budget_rule="relative_difference <= budget",
        ok=difference <= MAX_WAIT_RELATIVE_DIFFERENCE,
    )
    assert difference <= MAX_WAIT_RELATIVE_DIFFERENCE, "kernel and SimPy disagree"


def bench_kernel_first_call() -> None:
    """Latency of the first kernel calls in a new process (compile, or cache load)."""
    emit(name="kernel_first_call_seconds", **first_run_fields(KERNEL_FIRST_CALL))


# --- Corridor replication budgets -------------------------------------------------------
def bench_baseline_replication() -> None:
    """Seven-day baseline replication: first run (with compilation) and steady state.

    The corridor engine is optional here so the benchmarks run before it exists;
    an ImportError is reported as an ``error`` line instead.
    """
    try:
        from straits.engine import run_replication
        from straits.scenario import load_scenario
    except ImportError as error:
        for name in ("baseline_first_run_seconds", "baseline_7d_replication_seconds"):
            emit(name=name, value=None, unit="s", error=f"not available yet: {error}", ok=False)
        return
    first_run = first_run_fields(BASELINE_FIRST_RUN)
    emit(
        name="baseline_first_run_seconds",
        **first_run,
        budget=BASELINE_FIRST_RUN_BUDGET_SECONDS,
        budget_rule="value <= budget",
        ok=first_run["value"] <= BASELINE_FIRST_RUN_BUDGET_SECONDS,
    )
    scenario = load_scenario("baseline")
    run_replication(scenario, seed=1)  # compile or load cache first
    steady = best_seconds(lambda: run_replication(scenario, seed=1), BASELINE_REPEATS)
    emit(
        name="baseline_7d_replication_seconds",
        value=steady,
        unit="s",
        budget=BASELINE_STEADY_BUDGET_SECONDS,
        budget_rule="value <= budget",
        ok=steady <= BASELINE_STEADY_BUDGET_SECONDS,
    )


def main() -> None:
    bench_stage_kernel()
    bench_kernel_first_call()
    bench_baseline_replication()


if __name__ == "__main__":
    main()
