"""One replication: a pure function of (scenario, seed) → records."""

from __future__ import annotations

import numpy as np

from straits.engine.corridor import build_direction
from straits.engine.disruptions import sample_windows
from straits.engine.event_loop import DirectionInput, DirectionOutput, run_direction
from straits.engine.facilities import FacilityPass, pass_facilities
from straits.engine.holding import DecisionLog, area_names
from straits.engine.records import DirectionRecords, Dispatch, Records
from straits.scenario.schema import DIRECTIONS, Scenario

PER_LORRY_INPUTS = ("choice_uniform", "captive_uniform", "base_service_minutes",
                    "turn_back_uniform")
PER_LORRY_OUTPUTS = ("terminal", "turned_back", "gate_entry_minutes", "stage_start_minutes",
                     "stage_end_minutes", "departure_index", "held_minutes", "released_minutes")


def run_replication(scenario: Scenario, seed: int) -> Records:
    """Simulate both directions to the horizon.

    Random streams are spawned from ``seed`` per purpose (disruption
    durations, then per direction arrivals, route choice and each stage's
    service times, then facilities), so changing one part of a scenario leaves
    the other streams as they were (common random numbers across what-ifs).
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
    arrivals = inputs.arrival_minutes
    facilities = pass_facilities(scenario, direction, arrivals, planned_terminals(inputs),
                                 seed_sequence.spawn(1)[0])
    out = _run_through_facilities(inputs, facilities) if facilities else run_direction(inputs)
    dispatch = None
    if inputs.behaviour_on:  # never with facilities (the schema refuses the pair)
        out, arrivals, dispatch = _corridor_lorries(scenario, inputs, out)
    crossed = out.departure_index >= 0
    departure_minutes = np.full(crossed.shape[0], np.nan)
    departure_minutes[crossed] = inputs.departure_minutes[out.departure_index[crossed]]
    crossing = layout.crossing_minutes[np.maximum(out.terminal, 0)]
    plan = getattr(scenario.holding, direction)
    terminal_of_departure = np.repeat(
        np.arange(len(layout.terminals)), np.diff(inputs.departure_offset)
    )
    return DirectionRecords(
        layout=layout,
        holding_plan=plan,
        area_names=area_names(plan),
        arrival_minutes=arrivals,
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
        held_minutes=out.held_minutes,
        released_minutes=out.released_minutes,
        decisions=DecisionLog(out.decision_minutes, out.decision_area, out.decision_state,
                              out.decision_reason),
        facilities=facilities,
        dispatch=dispatch,
    )


def _corridor_lorries(scenario: Scenario, inputs: DirectionInput, out: DirectionOutput
                      ) -> tuple[DirectionOutput, np.ndarray, Dispatch]:
    """Keep the lorries that reached the corridor, in the order they did (the
    metrics expect sorted arrivals), and set the loads that never did apart."""
    entered = ~np.isnan(out.corridor_arrival_minutes)
    order = np.flatnonzero(entered)[
        np.argsort(out.corridor_arrival_minutes[entered], kind="stable")]
    outside = np.flatnonzero(~entered)
    per_lorry = {
        name: getattr(out, name)[order]
        for name in ("terminal", "turned_back", "gate_entry_minutes", "stage_start_minutes",
                     "stage_end_minutes", "departure_index", "held_minutes",
                     "released_minutes", "corridor_arrival_minutes", "held_back", "diverted_to",
                     "switched", "rejoined")
    }
    kept = out._replace(**per_lorry)
    behaviour = scenario.active_behaviour
    assert behaviour is not None  # the dispatch exists only when the rule is on
    diversions = behaviour.diversions
    dispatch = Dispatch(
        planned_minutes=inputs.arrival_minutes[order],
        held_back=kept.held_back,
        switched=kept.switched,
        rejoined=kept.rejoined,
        outside_planned_minutes=inputs.arrival_minutes[outside],
        outside_held_back=out.held_back[outside],
        outside_diverted_to=out.diverted_to[outside],
        diversions=list(diversions),
        diversion_cost_gbp=np.array([d.extra_cost_gbp_per_lorry for d in diversions.values()]),
    )
    return kept, kept.corridor_arrival_minutes, dispatch


def planned_terminals(inputs: DirectionInput) -> np.ndarray:
    """Each lorry's terminal by the route shares (what a captive lorry takes)."""
    terminal = np.searchsorted(inputs.share_cumulative, inputs.choice_uniform, side="right")
    return np.minimum(terminal, inputs.share_cumulative.shape[0] - 1)


def _run_through_facilities(inputs: DirectionInput, facilities: FacilityPass
                            ) -> DirectionOutput:
    """Run the loop on lorries in the order they reach the corridor, and give the
    outputs back in arrival order. A lorry that passed a facility for its terminal
    keeps that terminal: it is made captive (captive lorries follow the shares)."""
    reached = facilities.reached_corridor(inputs.arrival_minutes)
    if facilities.committed.any():
        inputs = inputs._replace(captive_uniform=np.where(
            facilities.committed, -1.0, inputs.captive_uniform))
    order = np.argsort(reached, kind="stable")
    permuted = inputs._replace(arrival_minutes=reached[order],
                               **{k: getattr(inputs, k)[order] for k in PER_LORRY_INPUTS
                                  if getattr(inputs, k).shape[0]})  # empty: never drawn
    out = run_direction(permuted)
    back = np.empty_like(order)
    back[order] = np.arange(order.shape[0])
    return out._replace(**{k: getattr(out, k)[back] for k in PER_LORRY_OUTPUTS})
