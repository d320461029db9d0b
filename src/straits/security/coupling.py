"""Security and freight, coupled both ways by a fixed point over suspension windows.

The engine is left untouched; security acts on it only through the scenario:

* searches: each segment's mean search time per lorry, less what the
  corridor's border service already holds, becomes a ``border_slowdown``
  multiplier on the UK border stage at the controlled terminals;
* intrusions: hours in which people on the tunnel site suspend the shuttles
  become ``tunnel_suspension`` disruptions (fixed durations, both directions).

Iteration: run the engine with the current suspension hours → lorry exposure
→ the hourly balance → new suspension hours; stop when the set stops
changing (converged) or after ``max_iterations``. Each hour's draws and
the suspension uniforms are fixed by the seed, so only hours whose inputs
changed can change, and the set settles in a few rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from straits.engine import Records, run_replication
from straits.scenario.schema import BorderSlowdown, Scenario, TunnelSuspension
from straits.scenario.units import format_minutes
from straits.security import levers
from straits.security.people import TUNNEL, HourlyInputs, PeopleRecords, simulate_people
from straits.security.plan import (
    LorryExposure,
    Segments,
    hourly_inputs,
    hours_of,
    lorry_exposure,
    segments,
)

SECURITY_STREAM = 0x5EC  # spawn key of security randomness, apart from the engine's streams
SUSPENSION_NAME = "security: people on the tunnel site"
SEARCH_NAME = "security: searches at the UK controls"


@dataclass(frozen=True)
class CoupledRun:
    engine_scenario: Scenario  # the scenario the engine last ran (with derived disruptions)
    records: Records
    segments: Segments
    exposure: LorryExposure
    inputs: HourlyInputs
    people: PeopleRecords
    suspended: np.ndarray  # (H,) bool: hours in which intrusions suspended shuttles
    iterations: list[dict[str, Any]]
    converged: bool


def run_coupled(scenario: Scenario, seed: int) -> CoupledRun:
    """The freight engine and the people model, iterated to a common fixed point."""
    segs = segments(scenario)
    people_ss, suspension_ss = np.random.SeedSequence(seed, spawn_key=(SECURITY_STREAM,)).spawn(2)
    uniforms = np.random.default_rng(suspension_ss).random(hours_of(scenario))
    searched = with_search_time(scenario, segs)
    suspended = np.zeros(hours_of(scenario), dtype=bool)
    history: list[dict[str, Any]] = []
    max_iterations = max(p.coupling.max_iterations for p in segs.policies)
    for iteration in range(1, max_iterations + 1):
        engine_scenario = with_suspensions(searched, segs, suspended)
        records = run_replication(engine_scenario, seed)
        exposure = lorry_exposure(scenario, records)
        inputs = hourly_inputs(scenario, segs, exposure)
        people = simulate_people(inputs, people_ss)
        proposed = suspension_hours(segs, people, uniforms)
        changed = int((proposed != suspended).sum())
        history.append({"iteration": iteration, "suspended_hours_in": int(suspended.sum()),
                        "suspended_hours_out": int(proposed.sum()), "hours_changed": changed})
        run = CoupledRun(engine_scenario, records, segs, exposure, inputs, people, suspended,
                         history, changed == 0)
        if changed == 0:
            break
        suspended = proposed
    return run


def suspension_hours(segs: Segments, people: PeopleRecords, uniforms: np.ndarray) -> np.ndarray:
    """Hours in which intrusions onto the tunnel site stop the shuttles."""
    per_intrusion = np.array([p.coupling.suspension_probability_per_intrusion
                              for p in segs.policies])[segs.of_hour]
    intrusions = people.intrusions[:, TUNNEL]
    chance = 1.0 - (1.0 - per_intrusion) ** intrusions
    return uniforms < chance


def suspension_windows(segs: Segments, suspended: np.ndarray, horizon_minutes: float
                       ) -> list[tuple[float, float]]:
    """Merged (start, end) minutes: each suspended hour stops shuttles from its
    start for the segment's suspension duration."""
    duration = np.array([p.coupling.suspension_duration for p in segs.policies])[segs.of_hour]
    windows: list[tuple[float, float]] = []
    for h in np.flatnonzero(suspended):
        start, end = 60.0 * h, min(60.0 * h + duration[h], horizon_minutes)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], end))
        else:
            windows.append((start, end))
    return windows


def with_suspensions(scenario: Scenario, segs: Segments, suspended: np.ndarray) -> Scenario:
    """The scenario plus one ``tunnel_suspension`` per merged window of suspended hours."""
    route = segs.policies[0].coupling.tunnel_route
    extra = [
        TunnelSuspension.model_validate({
            "kind": "tunnel_suspension", "name": SUSPENSION_NAME, "target": route,
            "start": timedelta(minutes=start), "duration": format_minutes(end - start),
        })
        for start, end in suspension_windows(segs, suspended, scenario.horizon)
    ]
    return _with_disruptions(scenario, extra)


def search_multiplier(scenario: Scenario, policy, terminal: str) -> float:
    """Border service stretch at ``terminal``: (base + search − already included) / base."""
    controls = policy.controls
    stage = next(s for s in scenario.terminals[terminal].stages if s.name == controls.stage)
    base = stage.service_time.mean_minutes
    if base <= 0:
        return 1.0
    extra = levers.search_minutes_per_lorry(policy) - controls.search_minutes_in_corridor_service
    return max(base + extra, 0.05 * base) / base


def with_search_time(scenario: Scenario, segs: Segments) -> Scenario:
    """The scenario plus a ``border_slowdown`` per segment whose searches differ
    from what the corridor's border service already holds."""
    extra = []
    ends = [*segs.start_minutes[1:], scenario.horizon]
    for policy, start, end in zip(segs.policies, segs.start_minutes, ends, strict=True):
        if end <= start:
            continue
        for terminal in policy.controls.terminals:
            multiplier = search_multiplier(scenario, policy, terminal)
            if abs(multiplier - 1.0) < 1e-9:
                continue
            extra.append(BorderSlowdown.model_validate({
                "kind": "border_slowdown", "name": SEARCH_NAME, "target": terminal,
                "stage": policy.controls.stage, "multiplier": min(multiplier, 100.0),
                "start": timedelta(minutes=float(start)), "duration": format_minutes(end - start),
            }))
    return _with_disruptions(scenario, extra)


def _with_disruptions(scenario: Scenario, extra: list) -> Scenario:
    if not extra:
        return scenario
    return scenario.model_copy(update={"disruptions": [*scenario.disruptions, *extra]})
