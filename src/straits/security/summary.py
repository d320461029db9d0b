"""The ``security`` KPIs and time series of a coupled run (keys in docs/security.md).

Harm is reported next to every count it belongs to, never folded into
another outcome: ``died`` is an outcome of its own.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from straits.scenario.clock import clock_times, stamp
from straits.scenario.security import TARGETS, TECHNOLOGIES
from straits.security import levers
from straits.security.coupling import CoupledRun, search_multiplier, suspension_windows
from straits.security.levers import CONTROL_SLICE, OUT, OUTCOMES
from straits.security.people import TUNNEL, PeopleRecords

OUTCOME_KINDS = ("abandoned", "stopped_at_perimeter", "found_by_police", "detected_at_controls",
                 "detected_on_arrival_uk", "reached_uk_undetected", "died")


def _r(value: float, digits: int = 2) -> float:
    return round(float(value), digits)


def outcome_kinds(tallies: np.ndarray) -> np.ndarray:
    """Collapse the outcome axis (last) to OUTCOME_KINDS (controls layers summed)."""
    return np.stack([
        tallies[..., OUT[k]] if k != "detected_at_controls" else tallies[..., CONTROL_SLICE].sum(-1)
        for k in OUTCOME_KINDS
    ], axis=-1)


def security_summary(run: CoupledRun) -> dict[str, Any]:
    """The ``security`` object of ``straits run --json``."""
    scenario = run.engine_scenario
    config = scenario.security
    assert config is not None, "only a scenario with a security section has a security summary"
    people = run.people
    hours = people.arrivals.shape[0]
    start = scenario.start
    stamps = [start + timedelta(hours=h) for h in range(hours)]
    windows = suspension_windows(run.segments, run.suspended, scenario.horizon)
    whole = _block(people, slice(0, hours), stamps)
    return {
        "model": "aggregate hourly balance of people near Calais; counts, no personal data",
        "coupling": {
            "method": "fixed point over tunnel suspension windows",
            "iterations": len(run.iterations),
            "converged": run.converged,
            "history": run.iterations,
        },
        **whole,
        "tunnel": {
            **whole["tunnel"],
            "suspensions": len(windows),
            "suspension_hours": _r(sum(e - s for s, e in windows) / 60.0),
        },
        "measures": _measures(run),
        "cost_of_measures_gbp": _costs(run),
        "periods": {
            p.name: _period(people, stamps, p.start, p.end)
            for p in config.report_periods
        },
    }


def _period(people: PeopleRecords, stamps: list[datetime], start: datetime, end: datetime
            ) -> dict[str, Any]:
    hours = np.array(stamps, dtype="datetime64[m]")
    first = int(np.searchsorted(hours, np.datetime64(start, "m")))
    last = int(np.searchsorted(hours, np.datetime64(end, "m")))
    covered = (stamps[first].isoformat(timespec="minutes") if first < len(stamps) else None,
               (stamps[last - 1] + timedelta(hours=1)).isoformat(timespec="minutes")
               if last > first else None)
    return {"start": start.isoformat(timespec="minutes"), "end": end.isoformat(timespec="minutes"),
            "simulated_from": covered[0], "simulated_to": covered[1],
            "hours": last - first, **_block(people, slice(first, last), stamps)}


def _block(people: PeopleRecords, hours: slice, stamps: list[datetime]) -> dict[str, Any]:
    """Population, attempts, outcomes, detections and harm over a range of hours."""
    n = max(hours.stop - hours.start, 0)
    days = max(n / 24.0, 1e-9)
    attempts = people.attempts[hours]
    tallies = people.outcomes[hours]
    kinds = outcome_kinds(tallies)
    total = kinds.sum(axis=(0, 1))
    nights = _night_index(stamps[hours]) if n else np.zeros(0, dtype=np.int64)
    pop = people.population[hours.start:hours.stop + 1] if n else people.population[:1]
    returned_fr = int(people.returned_from_france[hours].sum())
    returned_uk = int(people.returned_from_uk[hours].sum())
    undetected = int(total[OUTCOME_KINDS.index("reached_uk_undetected")])
    on_arrival = int(total[OUTCOME_KINDS.index("detected_on_arrival_uk")])
    tunnel = tallies[:, TUNNEL]
    intrusions = people.intrusions[hours, TUNNEL]
    return {
        "population": {
            "start": int(pop[0]),
            "end": int(pop[-1]),
            "peak": int(pop.max()),
            "peak_at": (stamps[0] + timedelta(hours=hours.start + int(pop.argmax()))
                        ).isoformat(timespec="minutes"),
            "minimum": int(pop.min()),
            "arrivals": int(people.arrivals[hours].sum()),
            "departures": int(people.departures[hours].sum()),
            "reached_uk_undetected": undetected,
            "detected_on_arrival_uk": on_arrival,
            "died": int(total[OUTCOME_KINDS.index("died")]),
            "returned_from_france": returned_fr,
        },
        "attempts": {
            "total": int(attempts.sum()),
            "per_day_mean": _r(attempts.sum() / days, 1),
            "per_night_max": _night_max(attempts.sum(axis=1), nights),
            "by_target": {
                t: {"total": int(attempts[:, i].sum()),
                    "per_day_mean": _r(attempts[:, i].sum() / days, 1),
                    "per_night_max": _night_max(attempts[:, i], nights)}
                for i, t in enumerate(TARGETS)
            },
        },
        "outcomes": {k: int(v) for k, v in zip(OUTCOME_KINDS, total, strict=True)},
        "outcomes_by_target": {
            t: {k: int(v) for k, v in zip(OUTCOME_KINDS, kinds[:, i].sum(axis=0), strict=True)}
            for i, t in enumerate(TARGETS)
        },
        "detections_by_layer": {
            "police": int(tallies[..., OUT["found_by_police"]].sum()),
            **{tech: int(tallies[..., OUT[f"controls_{tech}"]].sum()) for tech in TECHNOLOGIES},
            "uk_arrival_checks": on_arrival,
        },
        "eurotunnel_interceptions": int(tunnel[:, OUT["stopped_at_perimeter"]].sum()
                                        + tunnel[:, OUT["found_by_police"]].sum()),
        "uk_border_detections": int(tallies[..., CONTROL_SLICE].sum() + on_arrival),
        "people_reaching_uk": {
            "undetected": undetected,
            "detected_on_arrival_and_stayed": on_arrival - returned_uk,
            "total": undetected + on_arrival - returned_uk,
        },
        "returned": {"from_france": returned_fr, "from_uk": returned_uk,
                     "total": returned_fr + returned_uk},
        "tunnel": {
            "intrusions": int(intrusions.sum()),
            "intrusions_per_night_max": _night_max(intrusions, nights),
        },
        "harm": {
            "deaths": {"total": int(tallies[..., OUT["died"]].sum()),
                       **{t: int(tallies[:, i, OUT["died"]].sum()) for i, t in enumerate(TARGETS)}},
            "injuries": {"total": int(people.injuries[hours].sum()),
                         **{t: int(people.injuries[hours, i].sum())
                            for i, t in enumerate(TARGETS)}},
            "note": "death and injury rates are assumptions calibrated to F4.4",
        },
    }


def _night_index(stamps: list[datetime]) -> np.ndarray:
    """A night runs noon to noon, named by the evening's date."""
    return np.array([(s - timedelta(hours=12)).toordinal() for s in stamps], dtype=np.int64)


def _night_max(values: np.ndarray, nights: np.ndarray) -> int:
    if values.size == 0:
        return 0
    _, index = np.unique(nights, return_inverse=True)
    return int(np.bincount(index, weights=values).max())


def _measures(run: CoupledRun) -> list[dict[str, Any]]:
    """The levers in force in each segment and what they do to the border stage."""
    out = []
    for policy, start in zip(run.segments.policies, run.segments.start_minutes, strict=True):
        out.append({
            "from": stamp(run.engine_scenario.start, start),
            "police": {t: policy.sites[t].police for t in TARGETS},
            "fence_km": {t: policy.sites[t].fence_km for t in TARGETS},
            "perimeter_stop_probability": {
                t: _r(levers.perimeter_stop_probability(policy.sites[t]), 4) for t in TARGETS},
            "police_find_probability": {
                t: _r(levers.police_find_probability(policy.sites[t]), 4) for t in TARGETS},
            "search_share": policy.controls.search_share,
            "search_minutes_per_lorry": _r(levers.search_minutes_per_lorry(policy), 3),
            "border_service_multiplier": {
                t: _r(search_multiplier(run.engine_scenario, policy, t), 4)
                for t in policy.controls.terminals},
            "secure_parking_lorries": policy.secure_parking_lorries,
            "returns_share_of_detected": policy.returns.share_of_detected,
            "arrivals_factor_from_deterrence": _r(levers.arrivals_factor(policy), 4),
        })
    return out


def _costs(run: CoupledRun) -> dict[str, float | None]:
    """Cost of the measures over the horizon, where the scenario gives unit costs.

    Fences: km added by changes (capital); police and secure parking: per day
    in force; searches: per lorry searched at the controlled terminals.
    """
    segs = run.segments
    hours_in = np.bincount(segs.of_hour, minlength=len(segs.policies)) / 24.0
    items: dict[str, float | None] = {"fences": None, "police": None, "searches": None,
                                      "secure_parking": None}
    previous = None
    for s, policy in enumerate(segs.policies):
        costs = policy.costs
        days = float(hours_in[s])
        if costs.fence_gbp_per_km is not None and previous is not None:
            added = sum(max(0.0, policy.sites[t].fence_km - previous.sites[t].fence_km)
                        for t in TARGETS)
            items["fences"] = (items["fences"] or 0.0) + added * costs.fence_gbp_per_km
        if costs.police_gbp_per_officer_day is not None:
            officers = sum(policy.sites[t].police for t in TARGETS)
            items["police"] = (items["police"] or 0.0) + officers * days * \
                costs.police_gbp_per_officer_day
        if costs.search_gbp_per_lorry is not None:
            lorries = _controlled_lorries(run, policy, s)
            items["searches"] = (items["searches"] or 0.0) + (
                lorries * policy.controls.search_share * costs.search_gbp_per_lorry)
        if costs.secure_parking_gbp_per_space_day is not None:
            items["secure_parking"] = (items["secure_parking"] or 0.0) + (
                policy.secure_parking_lorries * days * costs.secure_parking_gbp_per_space_day)
        previous = policy
    given = [v for v in items.values() if v is not None]
    return {**{k: (None if v is None else _r(v, 0)) for k, v in items.items()},
            "total": _r(sum(given), 0) if given else None}


def _controlled_lorries(run: CoupledRun, policy, segment: int) -> int:
    north = run.records.directions["northbound"]
    terminals = [i for i, t in enumerate(north.layout.terminals) if t in policy.controls.terminals]
    start = run.segments.start_minutes[segment]
    ends = [*run.segments.start_minutes[1:], np.inf]
    entry = north.gate_entry_minutes
    mine = np.isin(north.terminal, terminals) & (entry >= start) & (entry < ends[segment])
    return int(mine.sum())


def security_tables(run: CoupledRun) -> dict[str, pa.Table]:
    """``security_hourly`` and ``security_daily`` for ``--out``."""
    people = run.people
    hours = people.arrivals.shape[0]
    start = run.engine_scenario.start
    minutes = np.arange(hours) * 60.0
    kinds = outcome_kinds(people.outcomes).sum(axis=1)
    columns: dict[str, Any] = {
        "time": pa.array(clock_times(start, minutes), pa.timestamp("s")),
        "minutes": minutes,
        "population": people.population[:-1],
        "population_end": people.population[1:],
        "arrivals": people.arrivals,
        "departures": people.departures,
        **{f"attempts_{t}": people.attempts[:, i] for i, t in enumerate(TARGETS)},
        **{k: kinds[:, j] for j, k in enumerate(OUTCOME_KINDS)},
        **{f"deaths_{t}": people.outcomes[:, i, OUT["died"]] for i, t in enumerate(TARGETS)},
        **{f"injuries_{t}": people.injuries[:, i] for i, t in enumerate(TARGETS)},
        # returned from the UK are a part of detected_on_arrival_uk, never counted twice
        "returned_from_france": people.returned_from_france,
        "returned_from_uk": people.returned_from_uk,
        "tunnel_intrusions": people.intrusions[:, TUNNEL],
        "tunnel_suspended": run.suspended,
        "lorries_standing": np.round(run.exposure.stationary, 3),
        "lorries_passing": run.exposure.passing,
    }
    hourly = pa.table(columns)
    day = np.arange(hours) // 24
    daily: dict[str, Any] = {"time": pa.array(clock_times(start, np.unique(day) * 1440.0),
                                              pa.timestamp("s"))}
    daily["population"] = people.population[np.unique(day) * 24]
    daily["population_end"] = people.population[np.minimum((np.unique(day) + 1) * 24, hours)]
    for name, values in columns.items():
        if name in ("time", "minutes", "population", "population_end", "lorries_standing",
                    "lorries_passing"):
            continue
        daily[name] = np.bincount(day, weights=np.asarray(values, dtype=float)).astype(np.int64)
    daily["lorries_standing_mean"] = np.round(
        np.bincount(day, weights=run.exposure.stationary) / np.bincount(day), 3)
    return {"security_hourly": hourly, "security_daily": pa.table(daily)}


__all__ = ["OUTCOMES", "OUTCOME_KINDS", "security_summary", "security_tables"]
