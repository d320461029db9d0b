"""Facilities outside the terminals: a test site, a paperwork check, an inland border post.

A share of a direction's lorries (or, with ``serves``, of the lorries bound
for some terminals) passes one facility before it reaches the holding plan. A
facility is a bank of FIFO booths open some hours each day; it does not depend
on what happens downstream (its lorries leave onto the road), so it is computed
before the event loop with a recursion, and the loop sees each lorry when it
reaches the corridor: at its arrival, or when it leaves the facility. Draws
come from a stream of their own, and a direction without facilities (or with
zero shares) draws nothing and changes nothing.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from straits.scenario.schema import Facility, Scenario


class FacilityPass(NamedTuple):
    """Per lorry (in arrival order): which facility it passed and when."""

    names: tuple[str, ...]  # the direction's facilities with a share
    facility: np.ndarray  # int64, index into the direction's facilities; -1: none
    start_minutes: np.ndarray  # service start; NaN: no facility
    end_minutes: np.ndarray  # service end = when it reaches the corridor; NaN: none
    committed: np.ndarray  # bool: passed a facility for its terminal, so keeps that terminal

    def reached_corridor(self, arrival_minutes: np.ndarray) -> np.ndarray:
        return np.where(self.facility >= 0, self.end_minutes, arrival_minutes)


def direction_facilities(scenario: Scenario, direction: str) -> list[Facility]:
    return [f for f in scenario.facilities if f.direction == direction and f.share > 0]


def pass_facilities(scenario: Scenario, direction: str, arrival_minutes: np.ndarray,
                    planned_terminal: np.ndarray, seed: np.random.SeedSequence
                    ) -> FacilityPass | None:
    """Which lorries pass a facility and their times there; None when none do.

    ``planned_terminal`` is each lorry's terminal by the route shares (names in
    route order): a facility with ``serves`` takes its share of the lorries
    planned for those terminals only.
    """
    facilities = direction_facilities(scenario, direction)
    if not facilities:
        return None
    n = arrival_minutes.shape[0]
    which_ss, *service_ss = seed.spawn(1 + len(facilities))
    draw = np.random.default_rng(which_ss).random((n,))
    facility, committed = _which_facility(scenario, direction, facilities, draw,
                                          planned_terminal)
    start = np.full(n, np.nan)
    end = np.full(n, np.nan)
    clock_offset = scenario.start.hour * 60.0 + scenario.start.minute
    for k, (f, ss) in enumerate(zip(facilities, service_ss, strict=True)):
        mine = facility == k
        service = f.service_time.sample(np.random.default_rng(ss), int(mine.sum()))
        start[mine], end[mine] = open_hours_fifo(
            arrival_minutes[mine], service, f.booths, f.opening_hours[0] * 60.0,
            f.opening_hours[1] * 60.0, clock_offset)
    return FacilityPass(tuple(f.name for f in facilities), facility, start, end, committed)


def _which_facility(scenario: Scenario, direction: str, facilities: list[Facility],
                    draw: np.ndarray, planned_terminal: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Each lorry's facility (-1: none): its draw falls in the band of shares of the
    facilities that apply to its planned terminal, stacked in scenario order."""
    terminals = [t for _, t in scenario.terminals_for(direction)]
    facility = np.full(draw.shape[0], -1, dtype=np.int64)
    committed = np.zeros(draw.shape[0], dtype=bool)
    below = np.zeros(draw.shape[0])
    for k, f in enumerate(facilities):
        applies = (np.ones(draw.shape[0], dtype=bool) if f.serves is None
                   else np.isin(planned_terminal, [terminals.index(t) for t in f.serves]))
        above = below + f.share * applies
        mine = (facility < 0) & applies & (draw >= below) & (draw < above)
        facility[mine] = k
        committed |= mine & (f.serves is not None)
        below = above
    return facility, committed


@njit(cache=True)
def _next_open(t, opens, closes, clock_offset):
    """The first moment at or after ``t`` when the booths are open (an opening
    time is computed from its day, so lorries waiting for it share it exactly)."""
    day = np.floor((t + clock_offset) / 1440.0)
    clock = t + clock_offset - day * 1440.0
    if clock < opens:
        return day * 1440.0 + opens - clock_offset
    if clock >= closes:
        return (day + 1.0) * 1440.0 + opens - clock_offset
    return t


@njit(cache=True)
def open_hours_fifo(arrival_minutes, service_minutes, booths, opens, closes, clock_offset):
    """FIFO booths that start no service outside [opens, closes) each day.

    A lorry takes the booth that frees first (the Kiefer–Wolfowitz recursion),
    no earlier than the next opening; a service under way at closing finishes.
    """
    n = arrival_minutes.shape[0]
    start = np.empty(n)
    end = np.empty(n)
    free_at = np.zeros(booths)
    for i in range(n):
        k = np.argmin(free_at)
        s = max(arrival_minutes[i], free_at[k])
        s = _next_open(s, opens, closes, clock_offset)
        start[i] = s
        end[i] = s + service_minutes[i]
        free_at[k] = end[i]
    return start, end
