"""Performance benchmarks: ``.venv/bin/python benchmarks/run.py`` prints one JSON object
per line. With no argument it runs the quick groups (:data:`QUICK`, well under a
minute); name groups to run those, or ``all`` for every group (SimPy comparison and
ensemble memory included, several minutes).

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


def best_seconds(run: Callable[[], object], repeats: int,
                 clock: Callable[[], float] = time.perf_counter) -> float:
    """Best of several runs: the least disturbed by the rest of the machine (``clock``:
    wall time by default; ``time.process_time`` for this process's CPU time alone)."""
    best = float("inf")
    for _ in range(repeats):
        began = clock()
        run()
        best = min(best, clock() - began)
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


# --- Holding decisions (issue 12) ------------------------------------------------------
STRIKE_SCENARIO = "calais-strike-2015"
STRIKE_REPEATS = 3
HOLDING_MAX_RATIO = 1.5
# Dover ~300/h (its sailings), Dover-Dunkirk 60/h (DFDS), the tunnel 192/h (F1.8: 6 x 32)
STRIKE_RELEASE_LORRIES_PER_HOUR = {"dover": 300.0, "dover-dunkirk": 60.0, "folkestone": 192.0}


def _strike_holding_variants() -> dict[str, Any]:
    """The strike as built (Stack called, set up, stood down), the same with a shared
    ``fifo`` Stack, with an ``alternate`` one (port and tunnel lanes released in turn at
    the terminals' rates), and without any decision: the plan of before issue 12."""
    from straits.scenario import load_scenario, scenario_from_mapping

    built = load_scenario(STRIKE_SCENARIO)
    data = built.model_dump(mode="json", exclude_none=True)
    fifo, plain = json.loads(json.dumps(data)), json.loads(json.dumps(data))
    alternate = json.loads(json.dumps(data))
    for area in fifo["holding"]["southbound"]["areas"]:
        if area.get("decision"):
            area["release"] = "fifo"
    for area in alternate["holding"]["southbound"]["areas"]:
        if area.get("decision"):
            area["release"] = "alternate"
            area["release_lorries_per_hour"] = STRIKE_RELEASE_LORRIES_PER_HOUR
    for area in plain["holding"]["southbound"]["areas"]:
        area.pop("decision", None)
        area["release"] = "lanes"
    return {"decisions": built, "decisions_fifo": scenario_from_mapping(fifo),
            "decisions_alternate": scenario_from_mapping(alternate),
            "no_decisions": scenario_from_mapping(plain)}


def bench_holding_decisions() -> None:
    """One strike replication with holding decisions (and a shared fifo Stack) against the
    same scenario without decisions: the cost of the controllers in the event loop."""
    from straits.engine import run_replication

    variants = _strike_holding_variants()
    seconds = {}
    for name, scenario in variants.items():
        run_replication(scenario, seed=1)  # compile or load the cache first
        seconds[name] = best_seconds(lambda s=scenario: run_replication(s, seed=1),
                                     STRIKE_REPEATS)
    for name in ("decisions", "decisions_fifo", "decisions_alternate"):
        ratio = seconds[name] / seconds["no_decisions"]
        emit(name=f"strike_replication_{name}_seconds", value=seconds[name], unit="s",
             without_decisions_seconds=seconds["no_decisions"], ratio=ratio,
             budget=HOLDING_MAX_RATIO, budget_rule="ratio <= budget",
             ok=ratio <= HOLDING_MAX_RATIO)


# --- Cars and coaches (issue 11) -------------------------------------------------------
CLASSES_SCENARIO = "dover-summer-2023"
CLASSES_MAX_RATIO = 1.5  # issue 11: cost per vehicle with all classes / lorries only
CLASSES_REPEATS = 7


def bench_passenger_classes() -> None:
    """A summer Saturday with lorries, cars and coaches against the same day with its
    lorries only: the cost per vehicle of the merged classes in the event loop. Cost is
    this process's CPU time (best of several): on a shared machine, wall time of runs a
    few milliseconds long mostly measures the neighbours."""
    from straits.engine import run_replication
    from straits.scenario import load_scenario

    mixed = load_scenario(CLASSES_SCENARIO)
    lorries = mixed.model_copy(update={"passengers": None})
    seconds, vehicles = {}, {}
    for name, scenario in (("all_classes", mixed), ("lorries_only", lorries)):
        records = run_replication(scenario, seed=1)  # compile or load the cache first
        vehicles[name] = sum(d.lorries + sum(c.arrival_minutes.shape[0]
                                             for c in d.classes.values())
                             for d in records.directions.values())
        seconds[name] = best_seconds(lambda s=scenario: run_replication(s, seed=1),
                                     CLASSES_REPEATS, clock=time.process_time)
    per_vehicle = {k: seconds[k] / vehicles[k] for k in seconds}
    ratio = per_vehicle["all_classes"] / per_vehicle["lorries_only"]
    emit(name="summer_saturday_seconds_per_vehicle_all_classes",
         value=per_vehicle["all_classes"], unit="s/vehicle (CPU)",
         lorries_only=per_vehicle["lorries_only"], vehicles=vehicles, ratio=ratio,
         budget=CLASSES_MAX_RATIO, budget_rule="ratio <= budget",
         ok=ratio <= CLASSES_MAX_RATIO)


# --- Experiments at scale (issue 5) ----------------------------------------------------
ENSEMBLE_SCENARIO = "calais-strike-2015"
ENSEMBLE_REPLICATIONS = int(os.environ.get("STRAITS_BENCH_REPLICATIONS", 1000))
ENSEMBLE_SMALL_REPLICATIONS = ENSEMBLE_REPLICATIONS // 10
ENSEMBLE_WORKERS = 2
ENSEMBLE_BUDGET_SECONDS = 300.0 * ENSEMBLE_REPLICATIONS / 1000  # 5 min per 1,000
STORE_OVERHEAD_BUDGET = 0.05
MEMORY_GROWTH_BUDGET = 1.25  # coordinator peak RSS at N over N/10

ENSEMBLE_RUN = """
import json, resource, sys, time
from straits.experiments.ensemble import ensemble, run_experiment
from straits.experiments.executors import ProcessExecutor
from straits.experiments.statistics import experiment_statistics
from straits.experiments.store import ResultsStore
from straits.scenario import load_scenario

def main():
    scenario, replications, workers, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \\
        sys.argv[4]
    began = time.perf_counter()
    experiment = ensemble(load_scenario(scenario), replications)
    executor = ProcessExecutor(workers)
    with ResultsStore(path) as store:
        report = run_experiment(experiment, store, executor)
        executor.close()
        ran = time.perf_counter()
        experiment_statistics(store, experiment.experiment_id)
        summarised = time.perf_counter()
        store.bands(experiment.experiment_id, 0)
        banded = time.perf_counter()
        simulate, series = store.con.execute(
            "SELECT avg(simulate_seconds), avg(series_seconds) FROM runs").fetchone()
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({
        "wall_seconds": time.perf_counter() - began,
        "run_seconds": ran - began,
        "statistics_seconds": summarised - ran,
        "bands_seconds": banded - summarised,
        "store_seconds": report.store_seconds,
        "store_cpu_seconds": report.store_cpu_seconds,
        "ran": report.ran,
        "mean_simulate_seconds": simulate,
        "mean_series_seconds": series,
        "coordinator_peak_rss_mb": own.ru_maxrss / 1024,
        "worker_peak_rss_mb": workers_usage.ru_maxrss / 1024,
        "coordinator_cpu_seconds": own.ru_utime + own.ru_stime,
        "worker_cpu_seconds": workers_usage.ru_utime + workers_usage.ru_stime,
    }))

if __name__ == "__main__":
    main()
"""


def ensemble_run(replications: int) -> dict[str, Any]:
    """One ensemble into a fresh store, in a new interpreter (what ``straits ensemble`` does)."""
    with tempfile.TemporaryDirectory() as folder:
        script = os.path.join(folder, "ensemble_run.py")
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(ENSEMBLE_RUN)
        done = subprocess.run(
            [sys.executable, script, ENSEMBLE_SCENARIO, str(replications), str(ENSEMBLE_WORKERS),
             os.path.join(folder, "results.duckdb")],
            capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ensemble run failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def bench_ensemble() -> None:
    """1,000 replications of the 2015 strike on 2 workers: time, store overhead, memory."""
    large = ensemble_run(ENSEMBLE_REPLICATIONS)
    cpu = large["coordinator_cpu_seconds"] + large["worker_cpu_seconds"]
    emit(
        name="ensemble_calais_seconds",
        value=large["wall_seconds"],
        unit="s",
        replications=ENSEMBLE_REPLICATIONS,
        workers=ENSEMBLE_WORKERS,
        replications_per_second=ENSEMBLE_REPLICATIONS / large["run_seconds"],
        cpu_seconds_per_replication=cpu / ENSEMBLE_REPLICATIONS,
        # what the run would take with the cores to itself (the machine may be shared)
        uncontended_estimate_seconds=cpu / ENSEMBLE_WORKERS,
        **{k: large[k] for k in ("run_seconds", "statistics_seconds", "bands_seconds",
                                 "mean_simulate_seconds", "mean_series_seconds",
                                 "coordinator_cpu_seconds", "worker_cpu_seconds")},
        budget=ENSEMBLE_BUDGET_SECONDS,
        budget_rule="value <= budget",
        ok=large["wall_seconds"] <= ENSEMBLE_BUDGET_SECONDS,
    )
    # The run is CPU-bound (workers = cores), so what the store costs the run is the CPU
    # it takes from the workers: its share of all CPU time. The coordinator's wall time
    # in store calls is reported too; it includes waiting for a core while workers run.
    overhead = large["store_cpu_seconds"] / cpu
    emit(
        name="ensemble_store_overhead_fraction",
        value=overhead,
        unit="fraction of run CPU time",
        store_cpu_seconds=large["store_cpu_seconds"],
        store_wall_seconds=large["store_seconds"],
        store_wall_fraction=large["store_seconds"] / large["run_seconds"],
        budget=STORE_OVERHEAD_BUDGET,
        budget_rule="value <= budget",
        ok=overhead <= STORE_OVERHEAD_BUDGET,
    )
    small = ensemble_run(ENSEMBLE_SMALL_REPLICATIONS)
    growth = large["coordinator_peak_rss_mb"] / small["coordinator_peak_rss_mb"]
    emit(
        name="ensemble_coordinator_peak_rss_mb",
        value=large["coordinator_peak_rss_mb"],
        unit="MB",
        replications=ENSEMBLE_REPLICATIONS,
        small_n_replications=ENSEMBLE_SMALL_REPLICATIONS,
        small_n_value=small["coordinator_peak_rss_mb"],
        worker_peak_rss_mb=large["worker_peak_rss_mb"],
        small_n_worker_peak_rss_mb=small["worker_peak_rss_mb"],
        ratio=growth,
        budget=MEMORY_GROWTH_BUDGET,
        budget_rule="ratio <= budget",
        ok=growth <= MEMORY_GROWTH_BUDGET,
    )


GROUPS: dict[str, Callable[[], None]] = {
    "stage_kernel": bench_stage_kernel,
    "kernel_first_call": bench_kernel_first_call,
    "baseline_replication": bench_baseline_replication,
    "holding_decisions": bench_holding_decisions,
    "passenger_classes": bench_passenger_classes,
    "ensemble": bench_ensemble,
}


QUICK = ("kernel_first_call", "baseline_replication")


def main() -> None:
    """Run the quick groups, the groups named on the command line, or ``all``."""
    chosen = sys.argv[1:] or list(QUICK)
    if chosen == ["all"]:
        chosen = list(GROUPS)
    unknown = [name for name in chosen if name not in GROUPS]
    if unknown:
        raise SystemExit(f"unknown benchmark group(s) {unknown}; choose from {list(GROUPS)}")
    for name in chosen:
        GROUPS[name]()


if __name__ == "__main__":
    main()
