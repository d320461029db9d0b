"""Where replications run: local processes, or a dask.distributed cluster.

Both take an iterator of tasks and yield outcomes as they finish, keeping only a
small window of tasks in flight, so the coordinator's memory does not grow with
the number of replications. Seeds live in the tasks, so the executor never
changes a result.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

IN_FLIGHT_PER_WORKER = 2


class Executor(Protocol):
    """Runs ``fn`` over ``tasks`` and yields results in completion order."""

    description: str

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        ...

    def close(self) -> None:
        ...


def default_workers() -> int:
    return os.cpu_count() or 1


class InlineExecutor:
    """One worker in this process: no start-up cost, the simplest to debug."""

    description = "1 local worker (in process)"

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        """Nothing to release."""


def _ignore_interrupt() -> None:
    """Workers leave Ctrl-C to the coordinator, which stops handing out work."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ProcessExecutor:
    """``workers`` local processes (spawned: safe next to numba and rich threads)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_ignore_interrupt,
        )

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        pending: set[Future] = set()
        queue = iter(tasks)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            for task in queue:
                pending.add(self._pool.submit(fn, task))
                if len(pending) >= limit:
                    break
            if not pending:
                return
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A dask.distributed cluster: an existing scheduler, or a LocalCluster.

    ``address`` is ``tcp://HOST:PORT`` of a running scheduler; ``None`` starts a
    LocalCluster with ``workers`` single-threaded worker processes
    (``processes=False`` keeps them as threads in this process, for tests).
    """

    def __init__(self, address: str | None = None, workers: int = 1, processes: bool = True):
        from dask.distributed import Client, LocalCluster

        self._cluster = None
        if address is None:
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=processes, dashboard_address=None)
            self._client = Client(self._cluster)
        else:
            self._client = Client(address, timeout="20s")
        threads = sum(self._client.nthreads().values())
        where = "local Dask cluster" if address is None else f"Dask scheduler {address}"
        self.description = f"{where} ({threads} worker threads)"
        self._limit = max(threads, 1) * IN_FLIGHT_PER_WORKER

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        from dask.distributed import as_completed

        queue = iter(tasks)
        first = [self._client.submit(fn, t, pure=False) for _, t in zip(range(self._limit), queue,
                                                                       strict=False)]
        if not first:
            return
        running = as_completed(first)
        for future in running:
            result = future.result()
            future.release()
            following = next(queue, None)
            if following is not None:
                running.add(self._client.submit(fn, following, pure=False))
            yield result

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(workers: int | None = None, dask_scheduler: str | None = None,
                  dask_local: bool = False) -> Executor:
    """The executor the command line asked for (local processes by default)."""
    count = workers or default_workers()
    if dask_scheduler:
        return DaskExecutor(address=dask_scheduler)
    if dask_local:
        return DaskExecutor(workers=count)
    if count == 1:
        return InlineExecutor()
    return ProcessExecutor(count)
