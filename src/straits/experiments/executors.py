"""Where replications run: local processes, or a dask.distributed cluster.

Both take an iterator of tasks and yield outcomes as they finish, keeping only a
small window of tasks in flight, so the coordinator's memory does not grow with
the number of replications. Seeds live in the tasks, so the executor never
changes a result.

Local workers never outlive their coordinator: each watches its parent and exits
when it is gone (kill -9 included). A worker that dies mid-run (killed, out of
memory) is replaced and its tasks run again, up to ``MAX_POOL_RESTARTS`` times;
then the run stops with :class:`WorkerLost`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

IN_FLIGHT_PER_WORKER = 2
MAX_POOL_RESTARTS = 3
PARENT_CHECK_SECONDS = 0.5


class WorkerLost(RuntimeError):
    """Worker processes kept dying (killed, or out of memory); the run stops."""


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


def _start_worker(parent: int) -> None:
    """Workers leave Ctrl-C and SIGTERM to the coordinator, and exit once it is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True,
                     name="straits-parent-watch").start()


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)  # the coordinator died: nobody will read this worker's results


class ProcessExecutor:
    """``workers`` local processes (spawned: safe next to numba and rich threads)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self.restarts = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(os.getpid(),))

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        pending: dict[Future, Any] = {}
        queue = iter(tasks)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            lost = []
            for task in queue:
                try:
                    pending[self._pool.submit(fn, task)] = task
                except BrokenProcessPool:  # a worker died since the last wait
                    lost.append(task)
                    break
                if len(pending) >= limit:
                    break
            if lost:
                pending = self._replace_pool(fn, [*lost, *pending.values()])
                continue
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    lost.append(task)
                    continue
                yield result
            if lost:
                pending = self._replace_pool(fn, [*lost, *pending.values()])

    def _replace_pool(self, fn: Callable[[Any], Any], tasks: list[Any]) -> dict[Future, Any]:
        """A worker died: start a fresh pool and hand it the tasks that were in flight."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        self.restarts += 1
        if self.restarts > MAX_POOL_RESTARTS:
            raise WorkerLost(f"worker processes died {self.restarts} times (killed, or out "
                             "of memory?); try fewer --workers")
        self._pool = self._new_pool()
        return {self._pool.submit(fn, task): task for task in tasks}

    def close(self) -> None:
        """Stop now: unstarted tasks are cancelled and running workers ended (their
        replications were not committed, so a rerun does them again)."""
        for process in list((getattr(self._pool, "_processes", None) or {}).values()):
            process.terminate()
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
