"""What a replication leaves behind: columnar records, no summaries.

Per lorry: arrival, terminal, time in the shared queue, gate entry, start
and end at every stage, the holding area it joined, the departure it took
and when it reached the other side. Per node: the booth log and every
scheduled departure with its capacity after disruptions and its load; the
holding controllers' decision log. Metrics are computed from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import numpy as np

from straits.engine.corridor import DirectionLayout
from straits.engine.disruptions import Window
from straits.engine.facilities import FacilityPass
from straits.engine.holding import DecisionLog, area_joined, queue_by_area
from straits.scenario.schema import HoldingPlan


@dataclass(frozen=True)
class ClassRecords:
    """One passenger class in one direction: per vehicle, as for the lorries."""

    name: str
    arrival_minutes: np.ndarray
    terminal: np.ndarray
    people: np.ndarray
    gate_entry_minutes: np.ndarray  # NaN: still on the road at the horizon
    controls_done_minutes: np.ndarray  # left the last booth of its path; NaN: not yet
    departure_minutes: np.ndarray  # NaN: not yet left
    exit_minutes: np.ndarray
    free_flow_minutes: np.ndarray  # per vehicle: its class's mean service, half a
    # headway and the crossing

    @property
    def crossed(self) -> np.ndarray:
        return ~np.isnan(self.departure_minutes)


@dataclass(frozen=True)
class Dispatch:
    """What hauliers did before the corridor (the behaviour rule; empty when off).

    Per lorry that reached the corridor (aligned with the direction's arrays):
    its planned departure, how often it was held back, whether it switched
    route, whether it was turned back and rejoined. Per planned load that never
    reached the corridor: its plan, holds, and where it was diverted (-1: still
    held back at the horizon).
    """

    planned_minutes: np.ndarray
    held_back: np.ndarray  # int64
    switched: np.ndarray  # bool
    rejoined: np.ndarray  # bool
    outside_planned_minutes: np.ndarray
    outside_held_back: np.ndarray  # int64
    outside_diverted_to: np.ndarray  # int64 into ``diversions``; -1: pending
    diversions: list[str] = field(default_factory=list)
    diversion_cost_gbp: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def diverted(self) -> np.ndarray:
        return self.outside_diverted_to >= 0

    @property
    def pending(self) -> np.ndarray:
        """Loads held back and not yet set off (nor diverted) at the horizon."""
        return self.outside_diverted_to < 0


@dataclass(frozen=True)
class DirectionRecords:
    layout: DirectionLayout
    holding_plan: HoldingPlan
    area_names: list[str]  # holding areas in plan order, then the overflow road
    arrival_minutes: np.ndarray
    terminal: np.ndarray  # index into layout.terminals
    turned_back: np.ndarray  # bool: sent back at a stage (a ``turn_back`` disruption)
    gate_entry_minutes: np.ndarray  # NaN: still outside at the horizon
    stage_start_minutes: np.ndarray  # (n, max stages), NaN where not reached
    stage_end_minutes: np.ndarray
    departure_index: np.ndarray  # into the departure arrays; -1: not yet left
    departure_minutes: np.ndarray  # NaN: not yet left
    exit_minutes: np.ndarray  # departure + crossing
    departure_time_minutes: np.ndarray  # every scheduled departure
    departure_terminal: np.ndarray
    departure_capacity: np.ndarray  # after disruptions; 0 = cancelled
    departure_load: np.ndarray
    held_minutes: np.ndarray  # joined the shared ``fifo`` queue; NaN: never held there
    released_minutes: np.ndarray  # left the shared queue for its gate; NaN: not (yet)
    decisions: DecisionLog  # the holding controllers' decisions
    facilities: FacilityPass | None = None  # lorries that passed a facility first
    classes: dict[str, ClassRecords] = field(default_factory=dict)  # cars, coaches
    dispatch: Dispatch | None = None  # set when the behaviour rule is on

    @property
    def reached_corridor_minutes(self) -> np.ndarray:
        """When each lorry joined the holding plan: its arrival, or when it left
        its facility."""
        if self.facilities is None:
            return self.arrival_minutes
        return self.facilities.reached_corridor(self.arrival_minutes)

    @property
    def direction(self) -> str:
        return self.layout.direction

    @property
    def lorries(self) -> int:
        return int(self.arrival_minutes.shape[0])

    @cached_property
    def holding_area(self) -> np.ndarray:
        """Index into ``area_names`` of the area each lorry joined the queue in
        (-1: went straight in). Derived on first use: ensembles rarely need it."""
        return area_joined(self.holding_plan, self.layout.terminals,
                           self.reached_corridor_minutes,
                           self.gate_entry_minutes, self.terminal, self.held_minutes,
                           self.released_minutes, self.decisions)

    def queue_by_area(self, at_minutes: np.ndarray) -> np.ndarray:
        """Lorries outside the gates by (area + overflow, queue row, time): rows are
        the terminals' own queues, then the shared ``fifo`` queue if the plan has one."""
        return queue_by_area(self.holding_plan, self.layout.terminals,
                             self.reached_corridor_minutes,
                             self.gate_entry_minutes, self.terminal, self.held_minutes,
                             self.released_minutes, self.decisions, at_minutes)

    @property
    def crossed(self) -> np.ndarray:
        """Lorries that boarded a departure by the horizon."""
        return self.departure_index >= 0

    @property
    def in_system_at_end(self) -> np.ndarray:
        """Lorries still in the corridor at the horizon: neither crossed nor sent back."""
        return ~self.crossed & ~self.turned_back

    @property
    def left_terminal_minutes(self) -> np.ndarray:
        """When each lorry left its terminal: boarding, or the end of the stage that
        sent it back; NaN while still inside or outside."""
        turned_at = np.nanmax(np.where(self.turned_back[:, None], self.stage_end_minutes,
                                       -np.inf), axis=1, initial=-np.inf)
        return np.where(self.turned_back, turned_at, self.departure_minutes)

    @property
    def free_flow_minutes(self) -> np.ndarray:
        """Each lorry's free-flow time through its terminal."""
        return self.layout.free_flow_minutes[self.terminal]


@dataclass(frozen=True)
class Records:
    scenario: str
    seed: int
    start: datetime
    horizon_minutes: float
    windows: list[Window]
    directions: dict[str, DirectionRecords]
