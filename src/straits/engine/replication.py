"""One replication: a pure function of (scenario, seed) → records."""

from __future__ import annotations

import numpy as np

from straits.engine.corridor import DirectionLayout, build_direction
from straits.engine.disruptions import sample_windows
from straits.engine.event_loop import DirectionInput, DirectionOutput, run_direction
from straits.engine.facilities import FacilityPass, pass_facilities
from straits.engine.holding import DecisionLog, area_names
from straits.engine.passengers import MixedDirection, class_names, draw_passengers, merge_classes
from straits.engine.records import ClassRecords, DirectionRecords, Dispatch, Records
from straits.engine.timetable import headway_minutes
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
    classes: dict[str, ClassRecords] = {}
    if len(class_names(scenario)) > 1:
        # passenger streams: spawned after the lorries' and facilities', so theirs stay put
        draws = draw_passengers(scenario, direction, layout.terminals, windows,
                                seed_sequence.spawn(1)[0])
        reached = arrivals
        if facilities:
            reached = facilities.reached_corridor(arrivals)
            inputs = _keep_committed_terminals(inputs, facilities)
        mixed = merge_classes(scenario, direction, inputs, reached, layout.terminals,
                              layout.routes, draws, windows)
        out, classes = _split_classes(scenario, mixed, layout, inputs)
    elif facilities:
        out = _run_through_facilities(inputs, facilities)
    else:
        out = run_direction(inputs)
    dispatch = None
    if inputs.behaviour_on:  # never with facilities nor passengers (the schema refuses both)
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
        classes=classes,
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


def _keep_committed_terminals(inputs: DirectionInput, facilities: FacilityPass
                              ) -> DirectionInput:
    """A lorry that passed a facility for its terminal keeps that terminal: it is made
    captive (captive lorries follow the shares)."""
    if not facilities.committed.any():
        return inputs
    return inputs._replace(captive_uniform=np.where(
        facilities.committed, -1.0, inputs.captive_uniform))


def _run_through_facilities(inputs: DirectionInput, facilities: FacilityPass
                            ) -> DirectionOutput:
    """Run the loop on lorries in the order they reach the corridor, and give the
    outputs back in arrival order; lorries keep the terminal of the facility they
    passed (:func:`_keep_committed_terminals`)."""
    reached = facilities.reached_corridor(inputs.arrival_minutes)
    inputs = _keep_committed_terminals(inputs, facilities)
    order = np.argsort(reached, kind="stable")
    permuted = inputs._replace(arrival_minutes=reached[order],
                               **{k: getattr(inputs, k)[order] for k in PER_LORRY_INPUTS
                                  if getattr(inputs, k).shape[0]})  # empty: never drawn
    out = run_direction(permuted)
    back = np.empty_like(order)
    back[order] = np.arange(order.shape[0])
    return out._replace(**{k: getattr(out, k)[back] for k in PER_LORRY_OUTPUTS})


def _split_classes(scenario: Scenario, mixed: MixedDirection, layout: DirectionLayout,
                   lorries: DirectionInput) -> tuple[DirectionOutput, dict[str, ClassRecords]]:
    """Run the merged loop; give the lorries' outputs back as a lorry-only run
    would (their rows, their departures) and each passenger class its records."""
    out = run_direction(mixed.inputs)
    back = np.empty_like(mixed.order)
    back[mixed.order] = np.arange(mixed.order.shape[0])
    n = mixed.n_lorries
    rows = back[:n]
    s_lorry = int(lorries.n_stages.max())
    departure = out.departure_index[rows]
    lorry_departure = np.where(departure >= 0, mixed.lorry_departure[departure], -1)
    load = np.bincount(lorry_departure[lorry_departure >= 0],
                       minlength=lorries.departure_minutes.shape[0]).astype(np.int64)
    lorry_out = out._replace(
        terminal=out.terminal[rows], turned_back=out.turned_back[rows],
        gate_entry_minutes=out.gate_entry_minutes[rows],
        stage_start_minutes=out.stage_start_minutes[rows, :s_lorry],
        stage_end_minutes=out.stage_end_minutes[rows, :s_lorry],
        departure_index=lorry_departure, departure_load=load,
        held_minutes=out.held_minutes[rows], released_minutes=out.released_minutes[rows])
    classes = {}
    start = n
    dep_minutes = mixed.inputs.departure_minutes
    half_headway = np.array([headway_minutes(scenario.routes[r]) / 2 for r in layout.routes])
    for d in mixed.draws:
        size = d.arrival_minutes.shape[0]
        rows = back[start:start + size]
        start += size
        k = out.departure_index[rows]
        departed = np.where(k >= 0, dep_minutes[np.maximum(k, 0)], np.nan)
        service = np.sum(d.service_by_step, axis=0) if d.service_by_step else np.zeros(size)
        free = layout.crossing_minutes[d.terminal] + half_headway[d.terminal]
        for t in range(len(layout.terminals)):
            mine = d.terminal == t
            if mine.any():
                free[mine] += service[mine].mean()
        classes[d.name] = ClassRecords(
            name=d.name, arrival_minutes=d.arrival_minutes, terminal=d.terminal,
            people=d.people, gate_entry_minutes=out.gate_entry_minutes[rows],
            controls_done_minutes=_last_stage_end(out.stage_end_minutes[rows]),
            departure_minutes=departed,
            exit_minutes=departed + layout.crossing_minutes[d.terminal],
            free_flow_minutes=free)
    return lorry_out, classes



def _last_stage_end(stage_end: np.ndarray) -> np.ndarray:
    """When each vehicle left the last booth it reached (NaN: none yet)."""
    done = np.where(np.isnan(stage_end), -np.inf, stage_end).max(axis=1, initial=-np.inf)
    return np.where(np.isfinite(done), done, np.nan)
