"""The corridor event loop: one direction, all its terminals, compiled.

Lorries arrive, pick a terminal, wait at its gate until there is room inside
(``buffer_lorries``), pass its FIFO stages (banks of booths whose number and
speed change over time), then wait in the lanes for a departure (a sailing or
a shuttle with a capacity). The gate and the departures couple the stages, and
a route choice may look at live queues, so a plain recursion does not apply:
this is the corridor-specialised event loop of DESIGN.md, with typed arrays,
linked-list FIFOs and a binary heap of booth completions (:mod:`straits.engine.heap`),
compiled by numba.

At equal times events are handled in a fixed order (booth completions and
metering wake-ups, booth schedule changes, departures, arrivals, holding
decisions), so results are deterministic.

Holding plans enter here only where they change who moves when
(:mod:`straits.engine.decisions`): the controllers decide at fixed intervals;
while a ``fifo`` area is in force, lorries that find their terminal's own
queue full (or anyone already waiting there) join one shared queue released
in arrival order, or (``alternate``) one queue per terminal inside the area,
each released in turn no faster than its rate; metering spaces gate entries.
A plan without decisions, shared areas or metering takes none of these paths.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from straits.engine.behaviour import (
    DIVERT,
    GO,
    N_PARAMETERS,
    PUBLISHED_EVERY,
    RECHECK_AFTER,
    REDECIDE,
    REJOIN,
    pick_diversion,
    publish,
    shared_queue_delay,
)
from straits.engine.behaviour import decide as decide_load
from straits.engine.decisions import (
    NO_HOLDING,
    HoldingInput,
    decide,
    forecast_outside,
    gate_rules,
    initial_states,
)
from straits.engine.heap import heap_pop, heap_push

RULE_SHARES = 0
RULE_SHORTEST_EXPECTED_WAIT = 1

_COMPLETION = 0
_BOOTH_CHANGE = 1
_DEPARTURE = 2
_ARRIVAL = 3
_DECISION = 4
_GATE_WAKE = 5
_RELEASE_WAKE = 6


class ClassInput(NamedTuple):
    """Vehicle classes sharing the direction (:mod:`straits.engine.passengers`).

    ``None`` in its place (the default) means lorries only: the loop is then
    compiled without the class code (numba prunes ``classes is None`` branches on
    an argument typed None), so lorry-only runs pay nothing for it. Otherwise
    every vehicle has a class, a size in
    deck units (decimetres of lane) that its gate buffer and deck count, and
    a path of global stages per (terminal, class); departures say which
    classes may board them (a bit per class). Each class has its own room
    inside a terminal (Dover's tourist and freight lanes are apart), but all
    share the road to its gate: one FIFO, so a car that finds the tourist lanes
    full holds the lorries behind it.
    """

    vehicle_class: np.ndarray  # (n,) int64
    units: np.ndarray  # (n,) int64: deck and buffer space taken
    fixed_terminal: np.ndarray  # (n,) int64: -1 = lorry route choice
    path_offset: np.ndarray  # (T * C,) int64 into path_stage
    path_length: np.ndarray  # (T * C,) int64; 0: the class never comes here
    path_stage: np.ndarray  # global stages, flattened
    departure_accepts: np.ndarray  # (D,) int64 bit mask of classes
    buffer_units: np.ndarray  # (T * C,) int64: room inside for each class's vehicles


_NONE = np.empty(0)
_NO_PARAMETERS = np.zeros(N_PARAMETERS)


class DirectionInput(NamedTuple):
    """Flat arrays describing one direction, ready for the compiled loop.

    Terminals are indexed 0..T-1; their stages are flattened into "global
    stages" 0..G-1 (terminal ``i`` owns ``stage_offset[i]`` to
    ``stage_offset[i] + n_stages[i] - 1``). Schedules are flattened with
    ``*_offset`` arrays of length G+1 (or T+1 for departures).
    """

    arrival_minutes: np.ndarray  # (n,) sorted
    choice_uniform: np.ndarray  # (n,) draws in [0, 1) for the shares rule
    captive_uniform: np.ndarray  # (n,) draws deciding who is captive
    base_service_minutes: np.ndarray  # (n, G) service at nominal speed
    rule: int
    captive_share: float
    share_cumulative: np.ndarray  # (T,)
    free_flow_minutes: np.ndarray  # (T,) mean stage times + crossing, for choice
    buffer_lorries: np.ndarray  # (T,) int64
    n_stages: np.ndarray  # (T,) int64
    stage_offset: np.ndarray  # (T,) int64
    booths_initial: np.ndarray  # (G,) int64
    booth_change_minutes: np.ndarray  # flattened, sorted within each stage
    booth_change_count: np.ndarray  # int64
    booth_change_offset: np.ndarray  # (G+1,) int64
    speed_change_minutes: np.ndarray  # flattened, first entry of each stage is 0
    speed_multiplier: np.ndarray
    speed_added_minutes: np.ndarray
    turn_back_share: np.ndarray  # share of lorries sent back, per speed segment
    turn_back_uniform: np.ndarray  # (n, G) draws deciding who is sent back
    speed_change_offset: np.ndarray  # (G+1,) int64
    departure_minutes: np.ndarray  # flattened, sorted within each terminal
    departure_capacity: np.ndarray  # int64
    departure_offset: np.ndarray  # (T+1,) int64
    horizon_minutes: float
    holding: HoldingInput = NO_HOLDING  # areas with decisions, fifo release or metering
    # the behaviour rule (engine/behaviour.py); the defaults are the rule off, and every
    # array is read only when it is on (never written: sharing the defaults is safe)
    stage_mean_minutes: np.ndarray = _NONE  # (G,) mean service at nominal speed
    half_headway_minutes: np.ndarray = _NONE  # (T,)
    behaviour_on: bool = False
    behaviour_parameters: np.ndarray = _NO_PARAMETERS  # minutes, as in engine/behaviour.py
    booked_share: float = 1.0
    booked_uniform: np.ndarray = _NONE  # (n,) below booked_share: keeps its planned route
    hold_uniform: np.ndarray = _NONE  # (n,) each haulier's tolerance of published delay
    where_uniform: np.ndarray = _NONE  # (n,) picks the diversion
    diversion_cumulative: np.ndarray = _NONE  # (K,) cumulative shares of the diversions
    rejoin_minutes: np.ndarray = _NONE  # (n,) a turned-back lorry's time to come back; empty: never
    classes: ClassInput | None = None  # passenger classes; None: lorries only


class DirectionOutput(NamedTuple):
    terminal: np.ndarray  # (n,) int64
    turned_back: np.ndarray  # (n,) bool: sent back at a stage, left the corridor
    gate_entry_minutes: np.ndarray  # (n,) NaN if still outside at the horizon
    stage_start_minutes: np.ndarray  # (n, S_max)
    stage_end_minutes: np.ndarray  # (n, S_max)
    departure_index: np.ndarray  # (n,) int64, into the flattened departures; -1: none
    departure_load: np.ndarray  # (D,) int64
    held_minutes: np.ndarray  # (n,) joined the shared fifo queue; NaN: never
    released_minutes: np.ndarray  # (n,) left it for the terminal's own queue; NaN: not
    decision_minutes: np.ndarray  # the controllers' log, in time order
    decision_area: np.ndarray
    decision_state: np.ndarray
    decision_reason: np.ndarray
    corridor_arrival_minutes: np.ndarray  # (n,) when it reached the corridor; NaN: never
    held_back: np.ndarray  # (n,) int64 times the load was held back
    diverted_to: np.ndarray  # (n,) int64 diversion index; -1: not diverted
    switched: np.ndarray  # (n,) bool: left its planned route
    rejoined: np.ndarray  # (n,) bool: turned back, came back


@njit(cache=True)
def _push(q, lorry, head, tail, count, next_in_queue):
    next_in_queue[lorry] = -1
    if count[q] == 0:
        head[q] = lorry
    else:
        next_in_queue[tail[q]] = lorry
    tail[q] = lorry
    count[q] += 1


@njit(cache=True)
def _pop(q, head, count, next_in_queue):
    lorry = head[q]
    head[q] = next_in_queue[lorry]
    count[q] -= 1
    return lorry


@njit(cache=True)
def simulate_direction(d, classes):
    """Run one direction to the horizon; ``d`` is a :class:`DirectionInput` and
    ``classes`` its ``classes`` (an argument, so that None prunes the class code)."""
    # each field read once, by name: plain locals in the loop, safe when fields are added
    arrival_minutes = d.arrival_minutes
    choice_uniform = d.choice_uniform
    captive_uniform = d.captive_uniform
    base_service_minutes = d.base_service_minutes
    rule = d.rule
    captive_share = d.captive_share
    share_cumulative = d.share_cumulative
    free_flow_minutes = d.free_flow_minutes
    buffer_lorries = d.buffer_lorries
    n_stages = d.n_stages
    stage_offset = d.stage_offset
    booths_initial = d.booths_initial
    booth_change_minutes = d.booth_change_minutes
    booth_change_count = d.booth_change_count
    booth_change_offset = d.booth_change_offset
    speed_change_minutes = d.speed_change_minutes
    speed_multiplier = d.speed_multiplier
    speed_added_minutes = d.speed_added_minutes
    turn_back_share = d.turn_back_share
    turn_back_uniform = d.turn_back_uniform
    speed_change_offset = d.speed_change_offset
    departure_minutes = d.departure_minutes
    departure_capacity = d.departure_capacity
    departure_offset = d.departure_offset
    horizon_minutes = d.horizon_minutes
    stage_mean_minutes = d.stage_mean_minutes
    half_headway_minutes = d.half_headway_minutes
    behaviour_on = d.behaviour_on
    behaviour_parameters = d.behaviour_parameters
    booked_share = d.booked_share
    booked_uniform = d.booked_uniform
    hold_uniform = d.hold_uniform
    where_uniform = d.where_uniform
    diversion_cumulative = d.diversion_cumulative
    rejoin_minutes = d.rejoin_minutes
    holding = d.holding
    n = arrival_minutes.shape[0]
    n_terminals = share_cumulative.shape[0]
    serves = holding.serves
    fifo = holding.fifo
    area_capacity = holding.capacity_lorries
    area_metering_gap = holding.metering_gap_minutes
    has_decision = holding.has_decision
    call_queue = holding.call_at_queue_lorries
    call_forecast = holding.call_at_forecast_lorries
    call_minutes = holding.call_minutes
    call_offset = holding.call_offset
    set_up = holding.set_up_minutes
    minimum_in_force = holding.minimum_in_force_minutes
    stand_down_below = holding.stand_down_below_lorries
    stand_down_after = holding.stand_down_after_minutes
    decision_interval = holding.decision_interval_minutes
    forecast_minutes = holding.forecast_minutes
    expected_per_minute = holding.expected_lorries_per_minute
    release_gap = holding.release_gap_minutes
    alternate = release_gap.shape[0] > 0
    n_global = booths_initial.shape[0]
    stage_terminal = np.empty(n_global, dtype=np.int64)
    for terminal in range(n_terminals):
        for s in range(n_stages[terminal]):
            stage_terminal[stage_offset[terminal] + s] = terminal
    if classes is None:
        n_classes = 1
        s_max = 0
        for terminal in range(n_terminals):
            s_max = max(s_max, n_stages[terminal])
    else:
        vehicle_class = classes.vehicle_class
        units = classes.units
        fixed_terminal = classes.fixed_terminal
        path_offset = classes.path_offset
        path_length = classes.path_length
        path_stage = classes.path_stage
        accepts = classes.departure_accepts
        class_room = classes.buffer_units
        n_classes = path_offset.shape[0] // n_terminals
        s_max = 0
        for p in range(path_length.shape[0]):
            s_max = max(s_max, path_length[p])

    lorry_terminal = np.full(n, -1, dtype=np.int64)
    turned_back = np.zeros(n, dtype=np.bool_)
    turning_back = np.zeros(n, dtype=np.bool_)  # decided at service start, done at its end
    gate_entry = np.full(n, np.nan)
    stage_start = np.full((n, s_max), np.nan)
    stage_end = np.full((n, s_max), np.nan)
    departure_index = np.full(n, -1, dtype=np.int64)
    departure_load = np.zeros(departure_minutes.shape[0], dtype=np.int64)
    corridor_arrival = np.full(n, np.nan)
    held_back = np.zeros(n, dtype=np.int64)
    diverted_to = np.full(n, -1, dtype=np.int64)
    switched = np.zeros(n, dtype=np.bool_)
    rejoined = np.zeros(n, dtype=np.bool_)


    # queues: gates 0..T-1, stage queues T..T+G-1, boarding lanes per terminal and
    # class T+G..T+G+T*C-1, the shared fifo holding queue T+G+T*C, the alternate
    # area's lanes after it (one per terminal)
    n_queues = 2 * n_terminals + n_global + n_terminals * n_classes + 1
    shared = n_terminals + n_global + n_terminals * n_classes
    lane_in_area = shared + 1
    head = np.full(n_queues, -1, dtype=np.int64)
    tail = np.full(n_queues, -1, dtype=np.int64)
    count = np.zeros(n_queues, dtype=np.int64)
    next_in_queue = np.full(n, -1, dtype=np.int64)
    lanes = n_terminals + n_global

    busy = np.zeros(n_global, dtype=np.int64)
    booths_now = booths_initial.copy()
    booth_ptr = booth_change_offset[:-1].copy()
    speed_ptr = speed_change_offset[:-1].copy()
    dep_ptr = departure_offset[:-1].copy()
    inside = np.zeros(n_terminals, dtype=np.int64)  # the lorries' units inside
    if classes is None:
        step = None  # a lorry's stage is its global stage less its terminal's first
        release_gate = None
    else:
        step = np.zeros(n, dtype=np.int64)  # a vehicle's place on its class's path
        space = np.zeros(n_terminals * n_classes, dtype=np.int64)  # other classes' units
        buffer_lorries = class_room[::n_classes].copy()  # contiguous: read in hot paths
        # the class gate's state for the alternate release (a rare path: a tuple is fine)
        release_gate = (space, class_room, units, vehicle_class, n_classes, path_offset,
                        path_stage, step)
    in_stage = np.full(n, -1, dtype=np.int64)  # global stage of a lorry in service

    # holding: controllers' state, what it means at the gates, the decision log
    n_areas = fifo.shape[0]
    holding_live = n_areas > 0 and (
        np.any(fifo) or np.any(has_decision) or np.any(area_metering_gap > 0))
    area_state = initial_states(has_decision)
    area_since = np.zeros(n_areas)
    quiet_since = np.full(n_areas, -1.0)
    call_ptr = call_offset[:-1].copy()
    near_lorries = np.zeros(n_terminals, dtype=np.int64)
    metering_gap = np.zeros(n_terminals)
    shared_open = gate_rules(area_state, serves, fifo, area_capacity, area_metering_gap,
                             near_lorries, metering_gap)
    fifo_terminal = np.zeros(n_terminals, dtype=np.bool_)
    for a in range(n_areas):
        for terminal in range(n_terminals):
            if fifo[a] and serves[a, terminal]:
                fifo_terminal[terminal] = True
    held_minutes = np.full(n, np.nan)
    released_minutes = np.full(n, np.nan)
    held_by_terminal = np.zeros(n_terminals, dtype=np.int64)
    gate_open_from = np.full(n_terminals, -np.inf)
    wake_pending = np.zeros(n_terminals, dtype=np.bool_)
    gate_moved = np.zeros(n_terminals, dtype=np.bool_)
    release_open_from = np.full(n_terminals, -np.inf)
    release_wake_pending = np.zeros(n_terminals, dtype=np.bool_)
    release_turn = 0
    next_decision = 0.0 if decision_interval < np.inf else np.inf
    decisions_taken = 0
    n_decisions = int(horizon_minutes // decision_interval) + 1 if next_decision == 0.0 else 0
    log_minutes = np.empty(3 * n_areas * n_decisions)
    log_area = np.empty(3 * n_areas * n_decisions, dtype=np.int64)
    log_state = np.empty(3 * n_areas * n_decisions, dtype=np.int64)
    log_reason = np.empty(3 * n_areas * n_decisions, dtype=np.int64)
    log_size = 0
    outside = np.zeros(n_terminals, dtype=np.int64)
    forecast = np.zeros(n_terminals)

    # booth completions: at most one per open booth; metering and release wake-ups: one
    # per gate each
    heap_capacity = 1 + 2 * n_terminals
    for g in range(n_global):
        most = booths_initial[g]
        for k in range(booth_change_offset[g], booth_change_offset[g + 1]):
            most = max(most, booth_change_count[k])
        heap_capacity += most
    done_minutes = np.empty(heap_capacity)
    done_seq = np.empty(heap_capacity, dtype=np.int64)
    done_lorry = np.empty(heap_capacity, dtype=np.int64)
    heap_size = 0
    seq = 0
    # loads coming back to the arrivals, at most one entry per lorry: held back (they
    # look again a fixed time later, so a ring-buffer FIFO keeps them in time order) and
    # turned back (rejoining after a drawn delay: a heap)
    back_capacity = n + 1 if behaviour_on else 1
    again_minutes = np.empty(back_capacity)
    again_lorry = np.empty(back_capacity, dtype=np.int64)
    again_head = 0
    again_count = 0
    back_minutes = np.empty(back_capacity)
    back_seq = np.empty(back_capacity, dtype=np.int64)
    back_lorry = np.empty(back_capacity, dtype=np.int64)
    back_size = 0
    published = np.zeros(n_terminals)
    next_publication = -np.inf

    scheduled_minutes, scheduled_kind, scheduled_which = _next_scheduled(
        booth_ptr, booth_change_offset, booth_change_minutes, dep_ptr, departure_offset,
        departure_minutes,
    )
    next_arrival = 0
    while True:
        now = np.inf
        kind = -1
        which = -1
        if heap_size > 0:
            now = done_minutes[0]
            kind = _COMPLETION
        if scheduled_minutes < now:
            now = scheduled_minutes
            kind = scheduled_kind
            which = scheduled_which
        if next_arrival < n and arrival_minutes[next_arrival] < now:
            now = arrival_minutes[next_arrival]
            kind = _ARRIVAL
        coming_back = -1
        if again_count > 0 and again_minutes[again_head] < now:
            now = again_minutes[again_head]
            kind = _ARRIVAL
            coming_back = REDECIDE
        if back_size > 0 and back_minutes[0] < now:
            now = back_minutes[0]
            kind = _ARRIVAL
            coming_back = REJOIN
        if next_decision < now:
            now = next_decision
            kind = _DECISION
        if kind < 0 or now > horizon_minutes:
            break
        if kind == _COMPLETION and done_lorry[0] < 0:
            kind = _GATE_WAKE
        firsts_at = -1  # a gate that let vehicles in: their classes' first stages start
        admitted = 0  # bit per class let in (classes only)

        if kind == _GATE_WAKE:
            terminal = -1 - done_lorry[0]
            heap_size = heap_pop(done_minutes, done_seq, done_lorry, heap_size)
            if terminal >= n_terminals:  # a lane of an alternate area may release again
                release_wake_pending[terminal - n_terminals] = False
                kind = _RELEASE_WAKE  # only that lane's gate moves: no need to open every gate
            else:
                wake_pending[terminal] = False
            touched = (-1, -1)
        elif kind == _DECISION:
            for terminal in range(n_terminals):
                outside[terminal] = count[terminal] + held_by_terminal[terminal]
            forecast_outside(now, forecast_minutes, outside, inside, buffer_lorries,
                             expected_per_minute, departure_minutes, departure_capacity,
                             dep_ptr, departure_offset, forecast)
            log_size = decide(now, outside, forecast, serves, has_decision, call_queue,
                              call_forecast, call_minutes, call_offset, set_up,
                              minimum_in_force, stand_down_below, stand_down_after,
                              area_state, area_since, quiet_since, call_ptr, log_minutes,
                              log_area, log_state, log_reason, log_size)
            was_open = shared_open
            shared_open = gate_rules(area_state, serves, fifo, area_capacity,
                                     area_metering_gap, near_lorries, metering_gap)
            if was_open and not shared_open:
                # stood down: the shared queue's lorries join their terminals' queues
                for q in range(shared, n_queues):
                    while count[q] > 0:
                        lorry = _pop(q, head, count, next_in_queue)
                        terminal = lorry_terminal[lorry]
                        released_minutes[lorry] = now
                        held_by_terminal[terminal] -= 1
                        _push(terminal, lorry, head, tail, count, next_in_queue)
            decisions_taken += 1
            next_decision = decisions_taken * decision_interval
            touched = (-1, -1)
        elif kind == _COMPLETION:
            lorry = done_lorry[0]
            g = in_stage[lorry]
            heap_size = heap_pop(done_minutes, done_seq, done_lorry, heap_size)
            if classes is None:
                terminal = stage_terminal[g]
                first = stage_offset[terminal]
                s = g - first
            else:
                terminal = lorry_terminal[lorry]
                path = terminal * n_classes + vehicle_class[lorry]
                first = path_stage[path_offset[path]]
                s = step[lorry]  # type: ignore[index]  # not None with classes
            busy[g] -= 1
            stage_end[lorry, s] = now
            if turning_back[lorry]:
                turned_back[lorry] = True
                turning_back[lorry] = False
                if rejoin_minutes.shape[0] > 0 and not rejoined[lorry]:
                    back_size = heap_push(back_minutes, back_seq, back_lorry, back_size,
                                          now + rejoin_minutes[lorry], seq, lorry)
                    seq += 1
                if classes is None:
                    inside[terminal] -= 1
                elif vehicle_class[lorry] == 0:
                    inside[terminal] -= units[lorry]
                else:
                    space[path] -= units[lorry]
                if classes is None:
                    _admit(terminal, now, head, tail, count, next_in_queue, inside, buffer_lorries,
                           gate_entry, n_terminals + stage_offset[terminal], metering_gap,
                           gate_open_from)
                    touched = (g, first)
                else:
                    admitted = _admit_classes(
                        terminal, now, head, tail, count, next_in_queue, inside, space,
                        buffer_lorries, class_room, gate_entry, metering_gap, gate_open_from,
                        units, vehicle_class, n_classes, path_offset, path_stage, step,
                        n_terminals)
                    touched = (g, path_stage[path_offset[terminal * n_classes]]
                               if admitted & 1 else -1)
                firsts_at = terminal
            elif classes is None:
                last = s + 1 == n_stages[terminal]
                _push(lanes + terminal if last else n_terminals + g + 1, lorry, head, tail,
                      count, next_in_queue)
                touched = (g, -1 if last else g + 1)
            else:
                last = s + 1 == path_length[path]
                if last:
                    _push(lanes + terminal * n_classes + vehicle_class[lorry], lorry, head,
                          tail, count, next_in_queue)
                    touched = (g, -1)
                else:
                    step[lorry] = s + 1  # type: ignore[index]
                    after = path_stage[path_offset[path] + s + 1]
                    _push(n_terminals + after, lorry, head, tail, count, next_in_queue)
                    touched = (g, after)
        elif kind == _BOOTH_CHANGE:
            booths_now[which] = booth_change_count[booth_ptr[which]]
            booth_ptr[which] += 1
            touched = (which, -1)
        else:
            if kind == _DEPARTURE:
                terminal = which
                k = dep_ptr[terminal]
                dep_ptr[terminal] += 1
                room = departure_capacity[k]
                if classes is None:
                    while room > 0 and count[lanes + terminal] > 0:
                        lorry = _pop(lanes + terminal, head, count, next_in_queue)
                        departure_index[lorry] = k
                        departure_load[k] += 1
                        inside[terminal] -= 1
                        room -= 1
                else:
                    _board_mixed(k, room, lanes + terminal * n_classes, n_classes, accepts,
                                 head, count, next_in_queue, units, stage_end, step,
                                 departure_index, departure_load, inside, space, terminal)
            else:
                back = coming_back
                if back == REDECIDE:
                    lorry = again_lorry[again_head]
                    again_head = (again_head + 1) % back_capacity
                    again_count -= 1
                elif back == REJOIN:
                    lorry = back_lorry[0]
                    back_size = heap_pop(back_minutes, back_seq, back_lorry, back_size)
                else:
                    lorry = next_arrival
                    next_arrival += 1
                if back == REJOIN:  # its records become those of this second visit
                    terminal = lorry_terminal[lorry]
                    turned_back[lorry] = False
                    rejoined[lorry] = True
                    gate_entry[lorry] = np.nan
                    stage_start[lorry, :] = np.nan
                    stage_end[lorry, :] = np.nan
                    if classes is not None:
                        step[lorry] = 0  # type: ignore[index]
                elif classes is not None:
                    terminal = fixed_terminal[lorry]
                else:
                    terminal = -1
                is_lorry = True if classes is None else vehicle_class[lorry] == 0
                if terminal < 0:
                    terminal = _choose_terminal(
                        lorry, now, rule, captive_share, choice_uniform, captive_uniform,
                        share_cumulative, free_flow_minutes, count, inside, departure_minutes,
                        departure_capacity, dep_ptr, departure_offset,
                    )
                if behaviour_on and back != REJOIN and is_lorry:
                    if now >= next_publication:
                        next_publication = publish(
                            published, now, behaviour_parameters[PUBLISHED_EVERY], count,
                            held_by_terminal, inside, departure_minutes, departure_capacity,
                            dep_ptr, departure_offset, n_stages, stage_offset, booths_now,
                            booth_ptr, booth_change_offset, booth_change_minutes,
                            booth_change_count, speed_ptr, speed_change_offset,
                            speed_change_minutes, speed_multiplier, speed_added_minutes,
                            stage_mean_minutes, half_headway_minutes, horizon_minutes)
                        if count[shared] > 0:
                            shared_queue_delay(published, fifo_terminal)
                    planned = terminal
                    terminal, decision = decide_load(
                        lorry, planned, now, arrival_minutes, published, free_flow_minutes,
                        booked_uniform, hold_uniform, booked_share, behaviour_parameters)
                    if decision == DIVERT and diversion_cumulative.shape[0] == 0:
                        decision = GO  # nowhere else to go: set off after all
                    if decision != GO:
                        if decision == DIVERT:
                            diverted_to[lorry] = pick_diversion(diversion_cumulative,
                                                                where_uniform[lorry])
                        else:
                            held_back[lorry] += 1
                            slot = (again_head + again_count) % back_capacity
                            again_minutes[slot] = now + behaviour_parameters[RECHECK_AFTER]
                            again_lorry[slot] = lorry
                            again_count += 1
                        continue
                    switched[lorry] = terminal != planned
                corridor_arrival[lorry] = now
                lorry_terminal[lorry] = terminal
                held_in = lane_in_area + terminal if alternate else shared
                if is_lorry and shared_open and fifo_terminal[terminal] and (
                        count[held_in] > 0 or not _gate_has_room(
                            terminal, now, count, near_lorries, inside, buffer_lorries,
                            gate_open_from) or (alternate and now < release_open_from[terminal])):
                    _push(held_in, lorry, head, tail, count, next_in_queue)
                    held_minutes[lorry] = now
                    held_by_terminal[terminal] += 1
                else:
                    _push(terminal, lorry, head, tail, count, next_in_queue)
            if classes is None:
                _admit(terminal, now, head, tail, count, next_in_queue, inside, buffer_lorries,
                       gate_entry, n_terminals + stage_offset[terminal], metering_gap,
                       gate_open_from)
                touched = (stage_offset[terminal], -1)
            else:
                admitted = _admit_classes(
                    terminal, now, head, tail, count, next_in_queue, inside, space, buffer_lorries,
                    class_room, gate_entry, metering_gap, gate_open_from, units, vehicle_class,
                    n_classes, path_offset, path_stage, step, n_terminals)
                touched = (path_stage[path_offset[terminal * n_classes]] if admitted & 1
                           else -1, -1)
            firsts_at = terminal

        if kind in (_BOOTH_CHANGE, _DEPARTURE):
            scheduled_minutes, scheduled_kind, scheduled_which = _next_scheduled(
                booth_ptr, booth_change_offset, booth_change_minutes, dep_ptr,
                departure_offset, departure_minutes,
            )

        if classes is not None and firsts_at >= 0:
            # the first stages of the other classes let in at that gate (inline: a call
            # per arrival with every array costs more than the work)
            for c in range(1, n_classes):
                if (admitted >> c) & 1:
                    heap_size, seq = _start_service(
                        path_stage[path_offset[firsts_at * n_classes + c]], now, n_terminals,
                        step, stage_offset, stage_terminal, head, count, next_in_queue, busy,
                        booths_now, speed_ptr, speed_change_offset, speed_change_minutes,
                        base_service_minutes, speed_multiplier, speed_added_minutes,
                        turn_back_share, turn_back_uniform, turning_back, rejoined,
                        stage_start, in_stage, done_minutes, done_seq, done_lorry, heap_size,
                        seq)
        for g in touched:
            if g >= 0:
                heap_size, seq = _start_service(
                    g, now, n_terminals, step, stage_offset, stage_terminal, head, count,
                    next_in_queue, busy, booths_now, speed_ptr, speed_change_offset,
                    speed_change_minutes, base_service_minutes, speed_multiplier,
                    speed_added_minutes, turn_back_share, turn_back_uniform, turning_back,
                    rejoined, stage_start, in_stage, done_minutes, done_seq, done_lorry,
                    heap_size, seq)
        if not holding_live:
            continue
        # holding: release the shared queue in order while the front lorry's terminal
        # has room (alternate: each terminal's lane in turn, one lorry per release gap);
        # after a decision or a metering wake-up, open every gate that can open
        if alternate and _a_lane_may_move(now, lane_in_area, release_open_from,
                                          release_wake_pending, count, near_lorries, inside,
                                          buffer_lorries, gate_open_from):
            release_turn, heap_size, seq = _release_in_turn(
                release_turn, now, lane_in_area, release_gap, release_open_from,
                release_wake_pending, lorry_terminal, head, tail, count, next_in_queue,
                near_lorries, inside, buffer_lorries, gate_open_from, released_minutes,
                held_by_terminal, gate_entry, stage_offset, metering_gap, gate_moved,
                done_minutes, done_seq, done_lorry, heap_size, seq, release_gate)
        while count[shared] > 0:
            lorry = head[shared]
            terminal = lorry_terminal[lorry]
            if not _gate_has_room(terminal, now, count, near_lorries, inside, buffer_lorries,
                                  gate_open_from):
                break
            _pop(shared, head, count, next_in_queue)
            released_minutes[lorry] = now
            held_by_terminal[terminal] -= 1
            _push(terminal, lorry, head, tail, count, next_in_queue)
            if classes is None:
                _admit(terminal, now, head, tail, count, next_in_queue, inside, buffer_lorries,
                       gate_entry, n_terminals + stage_offset[terminal], metering_gap,
                       gate_open_from)
            else:
                _admit_classes(
                    terminal, now, head, tail, count, next_in_queue, inside, space, buffer_lorries,
                    class_room, gate_entry, metering_gap, gate_open_from, units, vehicle_class,
                    n_classes, path_offset, path_stage, step, n_terminals)
            gate_moved[terminal] = True
        for terminal in range(n_terminals):
            if kind in (_DECISION, _GATE_WAKE):
                if classes is None:
                    _admit(terminal, now, head, tail, count, next_in_queue, inside, buffer_lorries,
                           gate_entry, n_terminals + stage_offset[terminal], metering_gap,
                           gate_open_from)
                else:
                    _admit_classes(
                        terminal, now, head, tail, count, next_in_queue, inside, space,
                        buffer_lorries, class_room, gate_entry, metering_gap, gate_open_from,
                        units, vehicle_class, n_classes, path_offset, path_stage, step,
                        n_terminals)
                gate_moved[terminal] = True
            if (metering_gap[terminal] > 0 and count[terminal] > 0
                    and inside[terminal] < buffer_lorries[terminal]
                    and not wake_pending[terminal]):
                # held back by the meter only: wake the gate when the gap has passed
                wake_pending[terminal] = True
                heap_size = heap_push(done_minutes, done_seq, done_lorry, heap_size,
                                      gate_open_from[terminal], seq, -1 - terminal)
                seq += 1
            if gate_moved[terminal]:
                gate_moved[terminal] = False
                if classes is None:
                    first = stage_offset[terminal]
                else:
                    first = path_stage[path_offset[terminal * n_classes]]
                heap_size, seq = _start_service(
                    first, now, n_terminals, step, stage_offset, stage_terminal, head, count,
                    next_in_queue, busy, booths_now, speed_ptr, speed_change_offset,
                    speed_change_minutes, base_service_minutes, speed_multiplier,
                    speed_added_minutes, turn_back_share, turn_back_uniform, turning_back,
                    rejoined, stage_start, in_stage, done_minutes, done_seq, done_lorry,
                    heap_size, seq)
                if classes is not None:
                    heap_size, seq = _start_firsts(
                        terminal, now, n_terminals, n_classes, path_offset, path_length,
                        path_stage, step, stage_offset, stage_terminal, head, count,
                        next_in_queue, busy, booths_now, speed_ptr, speed_change_offset,
                        speed_change_minutes, base_service_minutes, speed_multiplier,
                        speed_added_minutes, turn_back_share, turn_back_uniform, turning_back,
                        rejoined, stage_start, in_stage, done_minutes, done_seq, done_lorry,
                        heap_size, seq)

    return (lorry_terminal, turned_back, gate_entry, stage_start, stage_end, departure_index,
            departure_load, held_minutes, released_minutes, log_minutes[:log_size],
            log_area[:log_size], log_state[:log_size], log_reason[:log_size], corridor_arrival,
            held_back, diverted_to, switched, rejoined)


@njit(cache=True)
def _start_service(g, now, n_terminals, step, stage_offset, stage_terminal, head, count,
                   next_in_queue, busy, booths_now, speed_ptr, speed_change_offset,
                   speed_change_minutes, base_service_minutes, speed_multiplier,
                   speed_added_minutes, turn_back_share, turn_back_uniform, turning_back,
                   rejoined, stage_start, in_stage, done_minutes, done_seq, done_lorry,
                   heap_size, seq):
    """Start service at global stage ``g`` while lorries wait and booths are free
    (``step``: each vehicle's place on its path; None: lorries only)."""
    q = n_terminals + g
    while count[q] > 0 and busy[g] < booths_now[g]:
        lorry = _pop(q, head, count, next_in_queue)
        s = g - stage_offset[stage_terminal[g]] if step is None else step[lorry]
        k = speed_ptr[g]
        while k + 1 < speed_change_offset[g + 1] and speed_change_minutes[k + 1] <= now:
            k += 1
        speed_ptr[g] = k
        service = base_service_minutes[lorry, g] * speed_multiplier[k] + speed_added_minutes[k]
        stage_start[lorry, s] = now
        if (turn_back_share[k] > 0 and turn_back_uniform[lorry, g] < turn_back_share[k]
                and not rejoined[lorry]):  # a rejoining lorry has its papers
            turning_back[lorry] = True
        busy[g] += 1
        in_stage[lorry] = g
        heap_size = heap_push(done_minutes, done_seq, done_lorry, heap_size, now + service, seq,
                              lorry)
        seq += 1
    return heap_size, seq


@njit(cache=True)
def _a_lane_may_move(now, lane_in_area, release_open_from, release_wake_pending, count,
                     near_lorries, inside, buffer_lorries, gate_open_from):
    """Whether :func:`_release_in_turn` has anything to do: a lane with lorries whose
    gate has room, and either its gap has passed or no wake-up is set for it. (A cheap
    test: the lanes stay full for days while their gates wait for room.)"""
    for terminal in range(release_open_from.shape[0]):
        if (count[lane_in_area + terminal] > 0
                and (now >= release_open_from[terminal] or not release_wake_pending[terminal])
                and _gate_has_room(terminal, now, count, near_lorries, inside, buffer_lorries,
                                   gate_open_from)):
            return True
    return False


@njit(cache=True)
def _release_in_turn(turn, now, lane_in_area, release_gap, release_open_from,
                     release_wake_pending, lorry_terminal, head, tail, count, next_in_queue,
                     near_lorries, inside, buffer_lorries, gate_open_from, released_minutes,
                     held_by_terminal, gate_entry, stage_offset, metering_gap, gate_moved,
                     done_minutes, done_seq, done_lorry, heap_size, seq, gate):
    """``alternate`` release: starting with the terminal whose turn it is, release the
    front lorry of each terminal's lane whose gate has room and whose release gap has
    passed (at most one each: the gap is positive), then wake the lanes that only the gap
    holds (a lane whose gate is full is looked at again by the event that makes room).
    ``gate``: the vehicle classes' gate state (None: lorries only)."""
    n_terminals = release_gap.shape[0]
    for i in range(n_terminals):
        terminal = (turn + i) % n_terminals
        q = lane_in_area + terminal
        if (count[q] == 0 or now < release_open_from[terminal] or not _gate_has_room(
                terminal, now, count, near_lorries, inside, buffer_lorries, gate_open_from)):
            continue
        lorry = _pop(q, head, count, next_in_queue)
        released_minutes[lorry] = now
        held_by_terminal[terminal] -= 1
        release_open_from[terminal] = now + release_gap[terminal]
        turn = terminal + 1
        _push(terminal, lorry, head, tail, count, next_in_queue)
        if gate is None:
            _admit(terminal, now, head, tail, count, next_in_queue, inside, buffer_lorries,
                   gate_entry, n_terminals + stage_offset[terminal], metering_gap,
                   gate_open_from)
        else:
            space, room, units, vehicle_class, n_classes, path_offset, path_stage, step = gate
            _admit_classes(terminal, now, head, tail, count, next_in_queue, inside, space,
                           buffer_lorries, room, gate_entry, metering_gap, gate_open_from,
                           units, vehicle_class, n_classes, path_offset, path_stage, step,
                           n_terminals)
        gate_moved[terminal] = True
    for terminal in range(n_terminals):
        if (count[lane_in_area + terminal] > 0 and release_open_from[terminal] > now
                and not release_wake_pending[terminal] and _gate_has_room(
                    terminal, now, count, near_lorries, inside, buffer_lorries,
                    gate_open_from)):
            release_wake_pending[terminal] = True
            heap_size = heap_push(done_minutes, done_seq, done_lorry, heap_size,
                                  release_open_from[terminal], seq, -1 - n_terminals - terminal)
            seq += 1
    return turn % n_terminals, heap_size, seq


@njit(cache=True)
def _gate_has_room(terminal, now, count, near_lorries, inside, buffer_lorries, gate_open_from):
    """Whether a lorry leaving the shared queue for ``terminal`` would find room:
    its own queue holds fewer than the areas ahead allow, or it would go straight in."""
    return count[terminal] < near_lorries[terminal] or (
        count[terminal] == 0 and inside[terminal] < buffer_lorries[terminal]
        and now >= gate_open_from[terminal])


@njit(cache=True)
def _admit(terminal, now, head, tail, count, next_in_queue, inside, buffer_lorries,
           gate_entry, first_stage_queue, metering_gap, gate_open_from):
    """Let lorries through ``terminal``'s gate, in order, while there is room inside
    and, where metering is in force, one per metering gap (lorries only; with
    classes, :func:`_admit_classes`)."""
    while (count[terminal] > 0 and inside[terminal] < buffer_lorries[terminal]
           and now >= gate_open_from[terminal]):
        lorry = _pop(terminal, head, count, next_in_queue)
        gate_entry[lorry] = now
        inside[terminal] += 1
        _push(first_stage_queue, lorry, head, tail, count, next_in_queue)
        if metering_gap[terminal] > 0:
            gate_open_from[terminal] = now + metering_gap[terminal]


@njit(cache=True)
def _admit_classes(terminal, now, head, tail, count, next_in_queue, inside, space,
                   buffer_lorries, room, gate_entry, metering_gap, gate_open_from, units,
                   vehicle_class, n_classes, path_offset, path_stage, step, n_terminals):
    """The gate with vehicle classes: each fits in its own class's room (lorries:
    ``inside``/``buffer_lorries``; other classes: ``space``/``room``). Returns a bit
    per class let in."""
    admitted = 0
    while count[terminal] > 0 and now >= gate_open_from[terminal]:
        front = head[terminal]
        c = vehicle_class[front]
        if c == 0:
            if inside[terminal] + units[front] > buffer_lorries[terminal]:
                break
            inside[terminal] += units[front]
        else:
            if space[terminal * n_classes + c] + units[front] > room[terminal * n_classes + c]:
                break
            space[terminal * n_classes + c] += units[front]
        lorry = _pop(terminal, head, count, next_in_queue)
        gate_entry[lorry] = now
        step[lorry] = 0
        first = path_stage[path_offset[terminal * n_classes + c]]
        _push(n_terminals + first, lorry, head, tail, count, next_in_queue)
        admitted |= 1 << c
        if metering_gap[terminal] > 0:
            gate_open_from[terminal] = now + metering_gap[terminal]
    return admitted


@njit(cache=True)
def _next_scheduled(booth_ptr, booth_change_offset, booth_change_minutes, dep_ptr,
                    departure_offset, departure_minutes):
    """The next timetabled event: a booth change (first at ties), else a departure.

    Only these events move the pointers, so the answer is cached between them.
    """
    minutes = np.inf
    kind = -1
    which = -1
    for g in range(booth_ptr.shape[0]):
        k = booth_ptr[g]
        if k < booth_change_offset[g + 1] and booth_change_minutes[k] < minutes:
            minutes = booth_change_minutes[k]
            kind = _BOOTH_CHANGE
            which = g
    for terminal in range(dep_ptr.shape[0]):
        k = dep_ptr[terminal]
        if k < departure_offset[terminal + 1] and departure_minutes[k] < minutes:
            minutes = departure_minutes[k]
            kind = _DEPARTURE
            which = terminal
    return minutes, kind, which


@njit(cache=True)
def _choose_terminal(
    lorry, now, rule, captive_share, choice_uniform, captive_uniform, share_cumulative,
    free_flow_minutes, count, inside, departure_minutes, departure_capacity, dep_ptr,
    departure_offset,
):
    """Shares for captive lorries; otherwise the earliest expected crossing.

    The expected time through a terminal is the lorries ahead (at the gate and
    inside) divided by the departure capacity of the coming hour, plus its
    free-flow time. A terminal with no departures in the coming hour is
    avoided; if every terminal is so, the lorry follows the shares.
    """
    n_terminals = share_cumulative.shape[0]
    by_share = n_terminals - 1
    for terminal in range(n_terminals):
        if choice_uniform[lorry] < share_cumulative[terminal]:
            by_share = terminal
            break
    if rule == RULE_SHARES or captive_uniform[lorry] < captive_share:
        return by_share
    best = -1
    best_minutes = np.inf
    for terminal in range(n_terminals):
        capacity_next_hour = 0
        k = dep_ptr[terminal]
        while k < departure_offset[terminal + 1] and departure_minutes[k] < now + 60.0:
            capacity_next_hour += departure_capacity[k]
            k += 1
        if capacity_next_hour <= 0:
            continue
        ahead = count[terminal] + inside[terminal]
        expected = ahead * 60.0 / capacity_next_hour + free_flow_minutes[terminal]
        if expected < best_minutes:
            best_minutes = expected
            best = terminal
    return by_share if best < 0 else best


def run_direction(direction: DirectionInput) -> DirectionOutput:
    """Typed entry point: the compiled loop takes the input tuple as it is."""
    return DirectionOutput(*simulate_direction(direction, direction.classes))


@njit(cache=True)
def _start_firsts(terminal, now, n_terminals, n_classes, path_offset, path_length,
                  path_stage, step, stage_offset, stage_terminal, head, count, next_in_queue,
                  busy, booths_now, speed_ptr, speed_change_offset, speed_change_minutes,
                  base_service_minutes, speed_multiplier, speed_added_minutes, turn_back_share,
                  turn_back_uniform, turning_back, rejoined, stage_start, in_stage, done_minutes,
                  done_seq, done_lorry, heap_size, seq):
    """Start service at the first stage of every passenger class's path at a terminal
    (the lorries' own first stage is started by the caller)."""
    for c in range(1, n_classes):
        p = terminal * n_classes + c
        if path_length[p] > 0:
            heap_size, seq = _start_service(
                path_stage[path_offset[p]], now, n_terminals, step, stage_offset,
                stage_terminal, head, count,
                next_in_queue, busy, booths_now, speed_ptr, speed_change_offset,
                speed_change_minutes, base_service_minutes, speed_multiplier,
                speed_added_minutes, turn_back_share, turn_back_uniform, turning_back,
                rejoined, stage_start, in_stage, done_minutes, done_seq, done_lorry, heap_size,
                seq)
    return heap_size, seq


@njit(cache=True)
def _board_mixed(k, room, first_lane, n_classes, accepts, head, count, next_in_queue, units,
                 stage_end, step, departure_index, departure_load, inside, space, terminal):
    """Board departure ``k`` from its terminal's class lanes: the vehicle that reached
    its lane first among those that fit, until none fits (``room`` in deck units,
    so a deck is never exceeded)."""
    while True:
        best = -1
        best_minutes = np.inf
        for c in range(n_classes):
            q = first_lane + c
            if (accepts[k] >> c) & 1 == 0 or count[q] == 0:
                continue
            vehicle = head[q]
            if units[vehicle] > room:
                continue
            ready = stage_end[vehicle, step[vehicle]]
            if ready < best_minutes:
                best_minutes = ready
                best = q
        if best < 0:
            return
        vehicle = _pop(best, head, count, next_in_queue)
        departure_index[vehicle] = k
        departure_load[k] += units[vehicle]
        if best == first_lane:
            inside[terminal] -= units[vehicle]
        else:
            space[terminal * n_classes + best - first_lane] -= units[vehicle]
        room -= units[vehicle]
