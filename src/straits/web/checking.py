"""Scenario requests are read and checked in worker processes, never on the event loop.

Reading YAML and validating a scenario cost CPU in proportion to what a user
sends (aliases make a small file a large document), so an upload parsed on
the event loop freezes every other request. Here each request is handed to
one of a few long-lived worker processes (forked from a server that has the
scenario code loaded), which parses, applies the levers, checks the work
budget and sends back the scenario. A worker that takes longer than the time
limit is killed and replaced, and its memory is capped, so no upload can hold
the server or the machine; other requests are served meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
import traceback
from dataclasses import dataclass
from functools import cache
from importlib import resources
from multiprocessing.connection import Connection
from typing import Any

import yaml

from straits.engine.budget import WorkBudget, check_work
from straits.scenario import (
    Scenario,
    ScenarioError,
    builtin_names,
    load_scenario,
    scenario_from_text,
    scenario_to_yaml,
)
from straits.web.levers import (
    Levers,
    apply_levers,
    holding_plan_descriptions,
    security_lever_values,
)

_START_SECONDS = 60.0


class Busy(Exception):
    """Too many scenarios are waiting to be checked."""


@dataclass(frozen=True)
class Upload:
    """An uploaded scenario file, as sent to a worker."""

    field: str
    text: str


@dataclass(frozen=True)
class RunCheck:
    """What a run request asks for, as sent to a worker."""

    field: str  # the request field holding the scenario: "scenario" or "scenario_yaml"
    builtin: str | None
    text: str | None
    levers: Levers
    replications: int
    max_horizon_days: float
    budget: WorkBudget


# --- the work done in a worker -------------------------------------------------------------------

def run_scenario(check: RunCheck) -> Scenario:
    """The scenario a run request asks for, levers applied, within the horizon and work budget."""
    if check.builtin is not None:
        scenario = _builtin_scenario(check.builtin)
    else:
        assert check.text is not None  # a request names a built-in or sends a text
        scenario = scenario_from_upload(check.text, check.field)
    scenario = apply_levers(scenario, check.levers)
    limit = check.max_horizon_days * 1440.0
    if scenario.horizon > limit + 1e-9:
        raise ScenarioError("levers.horizon_days", f"the horizon is "
                            f"{scenario.horizon / 1440:g} days; this server runs at most "
                            f"{check.max_horizon_days:g} days, shorten it")
    try:
        check_work(scenario, check.replications, check.budget)
    except ScenarioError as exc:
        if exc.field == "replications":
            raise
        field = check.field if check.builtin is None else "levers.horizon_days"
        raise ScenarioError(field, f"{exc.field}: {exc.message}") from None
    return scenario


def upload_info(upload: Upload) -> dict[str, Any]:
    """What the page shows of an uploaded scenario (see :func:`scenario_info`)."""
    return scenario_info(scenario_from_upload(upload.text, upload.field))


def scenario_from_upload(text: str, field: str) -> Scenario:
    """Validate uploaded YAML; ``extends`` may only name a shipped scenario, never a path."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None  # scenario_from_text reports it with the line
    if isinstance(document, dict) and "extends" in document:
        parent = document["extends"]
        if not isinstance(parent, str) or parent not in _extendable():
            raise ScenarioError(field, f"extends: {str(parent)[:60]!r} is not a built-in; an "
                                f"upload may extend only one of {sorted(_extendable())}")
    try:
        return scenario_from_text(text, source=field)
    except ScenarioError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        raise ScenarioError(field, message, line=exc.line) from None


def scenario_info(sc: Scenario) -> dict[str, Any]:
    """A scenario's summary, stages, strike targets, holding plans, security levers and YAML."""
    terminals = {name: [{"name": s.name, "booths": s.booths, "check_minutes": _mean_minutes(s)}
                        for s in terminal.stages]
                 for name, terminal in sc.terminals.items()}
    return {**scenario_summary(sc), "terminals": terminals,
            "strike_targets": sorted(set(sc.terminals) | set(sc.routes)),
            "holding_plans": holding_plan_descriptions(),
            "security": security_lever_values(sc), "hauliers_respond": sc.behaviour_on,
            "yaml": scenario_to_yaml(sc)}


def scenario_summary(sc: Scenario) -> dict[str, Any]:
    return {"name": sc.name, "description": sc.description,
            "start": sc.start.isoformat(timespec="minutes"), "horizon_hours": sc.horizon / 60.0}


def _mean_minutes(stage: Any) -> float:
    return round(stage.service_time.mean_minutes, 4)


@cache
def _builtin_scenario(name: str) -> Scenario:
    return load_scenario(name)


@cache
def _extendable() -> frozenset[str]:
    """Built-in names an upload may extend (the shared bases too)."""
    folder = resources.files("straits.scenario") / "builtin"
    return frozenset(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


# --- the worker processes ---------------------------------------------------------------

class Checker:
    """A few worker processes that check scenario requests, one request each at a time.

    ``await checker.call(field, function, argument)`` runs ``function(argument)``
    in a worker and returns its result, or raises the :class:`ScenarioError` it
    raised; past ``seconds`` the worker is killed and the request refused.
    At most ``4 × workers`` requests wait for a worker; more get :class:`Busy`.
    """

    def __init__(self, workers: int = 2, seconds: float = 10.0, memory_bytes: int = 1024**3):
        self.workers = workers
        self.seconds = seconds
        self.memory_bytes = memory_bytes
        methods = multiprocessing.get_all_start_methods()
        self._context = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn")
        if "forkserver" in methods:
            self._context.set_forkserver_preload(["straits.web.preload"])
        self._idle: list[_Worker] = []
        self._waiting = 0
        self._closed = False
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def start(self) -> None:
        """Start the workers in the background, so the first request need not wait for them
        and the server answers at once."""
        threading.Thread(target=self._fill, name="straits-check-start", daemon=True).start()

    def _fill(self) -> None:
        for _ in range(self.workers):
            self._keep(_Worker(self._context, self.memory_bytes))

    def _keep(self, worker: _Worker) -> None:
        """Return a worker to the idle pool (or stop it if the pool is full)."""
        if not self._closed and len(self._idle) < self.workers:
            self._idle.append(worker)
        else:
            worker.stop()

    def close(self) -> None:
        self._closed = True
        for worker in self._idle:
            worker.stop()
        self._idle.clear()

    async def call(self, field: str, function: Any, argument: Any) -> Any:
        loop = asyncio.get_running_loop()
        if loop not in self._slots:  # one per event loop (a test client may bring its own)
            self._slots = {loop: asyncio.Semaphore(self.workers)}
        if self._waiting >= 4 * self.workers:
            raise Busy(f"{self._waiting} scenarios are waiting to be checked; try again shortly")
        self._waiting += 1
        try:
            async with self._slots[loop]:
                worker = (self._idle.pop() if self._idle else
                          await asyncio.to_thread(_Worker, self._context, self.memory_bytes))
                try:
                    outcome = await worker.call((function, argument), self.seconds)
                except TimeoutError:
                    await asyncio.to_thread(worker.kill)
                    raise ScenarioError(field, f"the scenario took longer than "
                                        f"{self.seconds:g} s to read and check; make it "
                                        f"smaller or simpler") from None
                except (EOFError, OSError):
                    await asyncio.to_thread(worker.kill)
                    raise ScenarioError(field, "the scenario could not be read within the "
                                        "memory limit; make it smaller or simpler") from None
                except BaseException:  # the request was cancelled: its answer is not wanted
                    worker.kill()
                    raise
                self._keep(worker)
        finally:
            self._waiting -= 1
        if outcome[0] == "error":
            _, error_field, message, line = outcome
            raise ScenarioError(error_field, message, line=line)
        return outcome[1]


class _Worker:
    def __init__(self, context: Any, memory_bytes: int):
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, memory_bytes), daemon=True,
                                       name="straits-check")
        self.process.start()
        child.close()
        # the worker warms its caches (built-ins, holding plans) before it counts as ready
        if not self.connection.poll(_START_SECONDS) or self.connection.recv() != "ready":
            self.kill()
            raise RuntimeError("a scenario-checking worker did not start")

    async def call(self, message: Any, seconds: float) -> Any:
        await asyncio.to_thread(self.connection.send, message)
        if not await asyncio.to_thread(self.connection.poll, seconds):
            raise TimeoutError
        return await asyncio.to_thread(self.connection.recv)

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.connection.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2)
        self.connection.close()


def _serve(connection: Connection, memory_bytes: int) -> None:
    """A worker's loop: one request at a time, every failure sent back as one line."""
    warm()
    _limit_memory(memory_bytes)
    connection.send("ready")
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        function, argument = message
        try:
            outcome: tuple[Any, ...] = ("ok", function(argument))
        except ScenarioError as exc:
            outcome = ("error", exc.field, exc.message, exc.line)
        except MemoryError:
            outcome = ("error", getattr(argument, "field", "file"),
                       "the scenario is too large to read within the memory limit", None)
        except RecursionError:
            outcome = ("error", getattr(argument, "field", "file"),
                       "the scenario is nested too deeply", None)
        except Exception as exc:  # a bug, not bad input: say so in one line
            outcome = ("error", "", f"the scenario could not be checked "
                                    f"({type(exc).__name__}); see the server log", None)
            traceback.print_exc()
        connection.send(outcome)


def warm() -> None:
    """Read the built-ins and holding plans once (cached), before any time limit runs."""
    for name in builtin_names():
        _builtin_scenario(name)
    holding_plan_descriptions()


def _limit_memory(extra_bytes: int) -> None:
    """Cap the worker's address space at what it uses now plus ``extra_bytes`` (Linux)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (used + extra_bytes, used + extra_bytes))
    except (ImportError, OSError, ValueError):
        pass
