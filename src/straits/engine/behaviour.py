"""Hauliers who respond to what is published: hold back, switch route, divert.

The event loop calls these at each lorry's planned departure (and at each
look again after holding back). Hauliers never see the true queue: they read
the *published* expected delay of every route, refreshed every
``published_every`` minutes from the operators' own counts (lorries at the
gate and inside the terminal) and their announced timetable and booth hours.
An announced closure therefore counts in full (no departure or no open booth
until it ends); the published figure then lags the queue by up to one
publication interval. Everything here is causal (a decision at ``t`` reads
state published at or before ``t``), so one pass of the loop is the answer:
no fixed point to iterate.

Parameters arrive as one float array, indexed by the constants below.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from straits.scenario.schema import Behaviour

PUBLISHED_EVERY = 0
SWITCH_PENALTY = 1
HOLD_BACK_THRESHOLD = 2
HOLD_BACK_SCALE = 3
RECHECK_AFTER = 4
DIVERT_AFTER = 5
N_PARAMETERS = 6

GO = 0
HOLD_BACK = 1
DIVERT = 2

REDECIDE = 0  # how a load comes back to the arrivals: looking again after holding back
REJOIN = 1  # or turned back, papers put right


def behaviour_parameters(behaviour: Behaviour | None) -> np.ndarray:
    """The rule's minutes in the order the loop reads them (zeros when off)."""
    out = np.zeros(N_PARAMETERS)
    if behaviour is None or not behaviour.enabled:
        return out
    out[PUBLISHED_EVERY] = behaviour.published_every
    out[SWITCH_PENALTY] = behaviour.switch_penalty
    out[HOLD_BACK_THRESHOLD] = behaviour.hold_back_threshold
    out[HOLD_BACK_SCALE] = behaviour.hold_back_scale
    out[RECHECK_AFTER] = behaviour.recheck_after
    out[DIVERT_AFTER] = behaviour.divert_after
    return out


def hold_back_share(delay_minutes: np.ndarray | float, threshold_minutes: float,
                    scale_minutes: float) -> np.ndarray | float:
    """Share of hauliers who hold a load back when ``delay_minutes`` is published."""
    excess = np.maximum(np.asarray(delay_minutes, dtype=float) - threshold_minutes, 0.0)
    return 1.0 - np.exp(-excess / scale_minutes)


@njit(cache=True)
def published_delay(t, now, count, held, inside, departure_minutes, departure_capacity,
                    dep_ptr, departure_offset, n_stages, stage_offset, booths_now, booth_ptr,
                    booth_change_offset, booth_change_minutes, booth_change_count, speed_ptr,
                    speed_change_offset, speed_change_minutes, speed_multiplier,
                    speed_added_minutes, stage_mean_minutes, half_headway_minutes,
                    horizon_minutes):
    """Expected delay (minutes beyond free flow) a lorry joining terminal ``t`` at
    ``now`` is told: the later of when the departures still timetabled carry the
    lorries ahead of it and when the slowest stage has served them (after its
    booths reopen, if shut), less half a headway."""
    ahead = count[t] + held[t] + inside[t]  # held: in the shared fifo holding queue
    clear = horizon_minutes - now + 1440.0  # beyond the timetable: at least a day more
    carried = 0
    for k in range(dep_ptr[t], departure_offset[t + 1]):
        carried += departure_capacity[k]
        if carried > ahead:
            clear = departure_minutes[k] - now
            break
    for s in range(n_stages[t]):
        g = stage_offset[t] + s
        booths = booths_now[g]
        opens = now
        if booths <= 0:
            opens = np.inf
            for k in range(booth_ptr[g], booth_change_offset[g + 1]):
                if booth_change_count[k] > 0:
                    opens = booth_change_minutes[k]
                    booths = booth_change_count[k]
                    break
        if booths <= 0:
            clear = max(clear, horizon_minutes - now + 1440.0)
            continue
        k = speed_ptr[g]
        while k + 1 < speed_change_offset[g + 1] and speed_change_minutes[k + 1] <= opens:
            k += 1
        per_lorry = stage_mean_minutes[g] * speed_multiplier[k] + speed_added_minutes[k]
        clear = max(clear, opens - now + (ahead + 1) * per_lorry / booths)
    return max(clear - half_headway_minutes[t], 0.0)


@njit(cache=True)
def decide(lorry, planned, now, planned_minutes, published, free_flow_minutes, booked_uniform,
           hold_uniform, booked_share, parameters):
    """(route, GO / HOLD_BACK / DIVERT) for a lorry reading ``published`` at ``now``.

    An unbooked lorry leaves its planned route (chosen for reasons the model
    does not see: price, destination) only for one whose published delay, plus
    any longer free-flow time and the switch penalty, is shorter. Each lorry
    holds back while the share of hauliers who would is above its own
    tolerance draw, and gives up on the Short Straits once it would have
    waited ``divert_after``.
    """
    route = planned
    if booked_uniform[lorry] >= booked_share:
        best = published[planned]
        for r in range(published.shape[0]):
            slower = max(free_flow_minutes[r] - free_flow_minutes[planned], 0.0)
            cost = published[r] + slower + parameters[SWITCH_PENALTY]
            if r != planned and cost < best:
                best = cost
                route = r
    excess = published[route] - parameters[HOLD_BACK_THRESHOLD]
    if excess <= 0.0:
        return route, GO
    if hold_uniform[lorry] >= 1.0 - np.exp(-excess / parameters[HOLD_BACK_SCALE]):
        return route, GO
    waited = now - planned_minutes[lorry]
    if waited + parameters[RECHECK_AFTER] > parameters[DIVERT_AFTER]:
        return route, DIVERT
    return route, HOLD_BACK


@njit(cache=True)
def publish(published, now, every_minutes, count, held, inside, departure_minutes,
            departure_capacity, dep_ptr, departure_offset, n_stages, stage_offset, booths_now,
            booth_ptr, booth_change_offset, booth_change_minutes, booth_change_count,
            speed_ptr, speed_change_offset, speed_change_minutes, speed_multiplier,
            speed_added_minutes, stage_mean_minutes, half_headway_minutes, horizon_minutes):
    """Refresh every terminal's published delay; return when the next is due."""
    for terminal in range(published.shape[0]):
        published[terminal] = published_delay(
            terminal, now, count, held, inside, departure_minutes, departure_capacity, dep_ptr,
            departure_offset, n_stages, stage_offset, booths_now, booth_ptr,
            booth_change_offset, booth_change_minutes, booth_change_count, speed_ptr,
            speed_change_offset, speed_change_minutes, speed_multiplier, speed_added_minutes,
            stage_mean_minutes, half_headway_minutes, horizon_minutes)
    return (np.floor(now / every_minutes) + 1.0) * every_minutes


@njit(cache=True)
def shared_queue_delay(published, fifo_terminal):
    """One published delay for the terminals behind a shared ``fifo`` queue: it
    releases in arrival order, so a lorry for any of them waits until the lorries
    ahead of it have gone, whichever terminal they are for (the longest delay)."""
    longest = 0.0
    for t in range(published.shape[0]):
        if fifo_terminal[t]:
            longest = max(longest, published[t])
    for t in range(published.shape[0]):
        if fifo_terminal[t]:
            published[t] = longest


@njit(cache=True)
def pick_diversion(cumulative, uniform):
    """Where a diverted load goes: the diversion whose cumulative share ``uniform``
    falls in."""
    for i in range(cumulative.shape[0]):
        if uniform < cumulative[i]:
            return i
    return cumulative.shape[0] - 1
