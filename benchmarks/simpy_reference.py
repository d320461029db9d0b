"""The same FIFO multi-booth stage written the usual way, in SimPy.

It is the yardstick for the compiled kernel: fed the identical pre-drawn
arrival and service samples, it must give the same waits (a check that the
kernel models the stage SimPy users would write), and its speed is the
baseline the kernel's speed-up is quoted against.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np
import simpy


def _lorry(
    env: simpy.Environment,
    booths: simpy.Resource,
    index: int,
    arrival: float,
    service: float,
    waits: np.ndarray,
) -> Generator[simpy.Event, None, None]:
    with booths.request() as booth:
        yield booth
        waits[index] = env.now - arrival
        yield env.timeout(service)


def _source(
    env: simpy.Environment,
    booths: simpy.Resource,
    arrivals: np.ndarray,
    services: np.ndarray,
    waits: np.ndarray,
) -> Generator[simpy.Event, None, None]:
    for index, (arrival, service) in enumerate(zip(arrivals, services, strict=True)):
        yield env.timeout(arrival - env.now)
        env.process(_lorry(env, booths, index, arrival, service, waits))


def simulate_stage(
    arrival_minutes: np.ndarray, service_minutes: np.ndarray, booths: int
) -> np.ndarray:
    """Waits in queue (minutes) at a FIFO stage of ``booths`` identical servers."""
    env = simpy.Environment()
    resource = simpy.Resource(env, capacity=booths)
    waits = np.empty(len(arrival_minutes))
    env.process(_source(env, resource, arrival_minutes, service_minutes, waits))
    env.run()
    return waits


def time_stage(
    arrival_minutes: np.ndarray, service_minutes: np.ndarray, booths: int, repeats: int = 1
) -> tuple[float, np.ndarray]:
    """Best wall time over ``repeats`` runs, and the waits of the last run."""
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        waits = simulate_stage(arrival_minutes, service_minutes, booths)
        best = min(best, time.perf_counter() - began)
    return best, waits
