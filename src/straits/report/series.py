"""Holding series lined up across replications: one (replications × times) array
per place, so charts and the map draw bands and means the same way; and the
holding decisions each replication logged, so the timeline and the map show
the same calls, set-ups and stand-downs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from straits.engine import holding
from straits.report.sources import RunData
from straits.scenario.clock import at, clock_times

QUEUE_KINDS = ("holding_area", "overflow_road")
PALETTE = ("#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#9467bd", "#bcbd22", "#7f7f7f",
           "#1f77b4", "#17becf", "#2ca02c", "#393b79", "#637939", "#843c39")


@dataclass(frozen=True)
class PlaceSeries:
    direction: str
    place: str
    kind: str
    lorries: np.ndarray  # (replications, times)
    km: np.ndarray  # (replications, times)

    @property
    def used(self) -> bool:
        return bool(np.nanmax(self.lorries, initial=0.0) > 0.5)


@dataclass(frozen=True)
class Series:
    minutes: np.ndarray
    places: list[PlaceSeries]

    def queues(self, direction: str | None = None) -> list[PlaceSeries]:
        """Holding areas and approach roads (not terminals), in plan order."""
        return [p for p in self.places if p.kind in QUEUE_KINDS
                and (direction is None or p.direction == direction)]

    def terminals(self) -> list[PlaceSeries]:
        return [p for p in self.places if p.kind == "terminal"]


def run_series(run: RunData) -> Series:
    """Stack each replication's holding table into per-place arrays on a shared grid."""
    grid: np.ndarray | None = None
    values: dict[tuple[str, str, str], list[tuple[np.ndarray, np.ndarray]]] = {}
    for rep in run.replications:
        table = rep.holding
        minutes = table["minutes"].to_numpy(zero_copy_only=False)
        direction = np.asarray(table["direction"].to_pylist())
        place = np.asarray(table["place"].to_pylist())
        kind = np.asarray(table["kind"].to_pylist())
        lorries = table["lorries"].to_numpy(zero_copy_only=False)
        km = table["km"].to_numpy(zero_copy_only=False)
        if grid is None:
            grid = np.unique(minutes)
        keys = dict.fromkeys(zip(direction.tolist(), place.tolist(), kind.tolist(), strict=True))
        for key in keys:
            mine = (direction == key[0]) & (place == key[1])
            index = np.searchsorted(grid, minutes[mine])
            row_lorries = np.full(grid.shape[0], np.nan)
            row_km = np.full(grid.shape[0], np.nan)
            keep = index < grid.shape[0]
            row_lorries[index[keep]] = lorries[mine][keep]
            row_km[index[keep]] = km[mine][keep]
            values.setdefault(key, []).append((row_lorries, row_km))
    assert grid is not None
    places = [PlaceSeries(d, p, k, np.vstack([v[0] for v in rows]), np.vstack([v[1] for v in rows]))
              for (d, p, k), rows in values.items()]
    return Series(grid, places)


def timestamps(start: datetime, minutes: np.ndarray) -> list[str]:
    """ISO stamps (to the minute) for a minutes-from-start grid."""
    return np.datetime_as_string(clock_times(start, np.round(minutes), unit="m"),
                                 unit="m").tolist()


def place_colours(series: Series) -> dict[str, str]:
    """One colour per queue place, shared by the charts and the map."""
    return {p.place: PALETTE[i % len(PALETTE)] for i, p in enumerate(series.queues())}


# as the summary names the controllers' states
CALLED, IN_FORCE, STOOD_DOWN = (holding.STATE_NAMES[k] for k in (
    holding.CALLED, holding.IN_FORCE, holding.STOOD_DOWN))


@dataclass(frozen=True)
class Decision:
    """One logged holding decision (``holding_decisions`` in the run's summary)."""

    direction: str
    area: str
    minutes: float  # since the run's start
    decision: str  # CALLED, IN_FORCE or STOOD_DOWN
    reason: str


def decided_areas(run: RunData) -> set[str]:
    """The holding areas whose plan has a ``decision`` (the rest are always in force)."""
    plans = (run.scenario.holding.southbound, run.scenario.holding.northbound)
    return {a.name for plan in plans for a in plan.areas if a.decision is not None}


def run_decisions(run: RunData) -> list[list[Decision]]:
    """Each replication's decisions in time order (none where the plan has no decision,
    or the source kept no log: the results store)."""
    return [sorted((_decision(run.start, entry)
                    for entry in rep.summary.get("holding_decisions") or []),
                   key=lambda d: d.minutes)
            for rep in run.replications]


def _decision(start: datetime, entry: dict[str, Any]) -> Decision:
    minutes = (datetime.fromisoformat(entry["time"]) - start).total_seconds() / 60.0
    return Decision(entry["direction"], entry["area"], minutes, entry["decision"],
                    entry["reason"])


def area_state(decisions: list[Decision], area: str, minutes: float) -> Decision | None:
    """The area's latest decision at ``minutes`` (None: never called yet, so stood down)."""
    latest = None
    for d in decisions:
        if d.minutes > minutes:
            break
        if d.area == area:
            latest = d
    return latest


def decision_text(start: datetime, decision: Decision) -> str:
    """``stack-phase-1 called: queue threshold (Tue 14 Jul 2015 10:00)``."""
    moment = when(start, decision.minutes)
    return f"{decision.area} {decision.decision}: {decision.reason} ({moment})"


def when(start: datetime, minutes: float) -> str:
    """A moment of the run as the report writes it (``Tue 14 Jul 2015 10:00``)."""
    return at(start, minutes).strftime("%a %d %b %Y %H:%M")
