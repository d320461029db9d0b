"""One replication: a pure function of (scenario, seed) → records."""

from __future__ import annotations

import numpy as np

from straits.engine.corridor import build_direction
from straits.engine.disruptions import sample_windows
from straits.engine.event_loop import run_direction
from straits.engine.holding import area_names
from straits.engine.records import DirectionRecords, Records
from straits.scenario.schema import DIRECTIONS, Scenario


def run_replication(scenario: Scenario, seed: int) -> Records:
    """Simulate both directions to the horizon.

    Random streams are spawned from ``seed`` per purpose (disruption
    durations, then per direction arrivals, route choice and each stage's
    service times), so changing one part of a scenario leaves the other
    streams as they were (common random numbers across what-ifs).
    """
    root = np.random.SeedSequence(seed)
    disruption_ss, *direction_ss = root.spawn(1 + len(DIRECTIONS))
    windows = sample_windows(scenario, np.random.default_rng(disruption_ss))
    directions: dict[str, DirectionRecords] = {
        direction: _run_direction(scenario, direction, windows, ss)
        for direction, ss in zip(DIRECTIONS, direction_ss, strict=True)
    }
    return Records(scenario.name, seed, scenario.start, scenario.horizon, windows, directions)


def _run_direction(scenario: Scenario, direction: str, windows, seed_sequence
                   ) -> DirectionRecords:
    inputs, layout = build_direction(scenario, direction, windows, seed_sequence)
    out = run_direction(inputs)
    departure_minutes = np.where(
        out.departure_index >= 0,
        inputs.departure_minutes[np.maximum(out.departure_index, 0)],
        np.nan,
    )
    crossing = layout.crossing_minutes[np.maximum(out.terminal, 0)]
    plan = getattr(scenario.holding, direction)
    terminal_of_departure = np.repeat(
        np.arange(len(layout.terminals)), np.diff(inputs.departure_offset)
    )
    return DirectionRecords(
        layout=layout,
        holding_plan=plan,
        area_names=area_names(plan),
        arrival_minutes=inputs.arrival_minutes,
        terminal=out.terminal,
        turned_back=out.turned_back,
        gate_entry_minutes=out.gate_entry_minutes,
        stage_start_minutes=out.stage_start_minutes,
        stage_end_minutes=out.stage_end_minutes,
        departure_index=out.departure_index,
        departure_minutes=departure_minutes,
        exit_minutes=departure_minutes + crossing,
        departure_time_minutes=inputs.departure_minutes,
        departure_terminal=terminal_of_departure,
        departure_capacity=inputs.departure_capacity,
        departure_load=out.departure_load,
    )
