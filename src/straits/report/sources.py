"""Where a report's numbers come from: a run in memory, an ``--out`` folder, an
experiment in the results store, or a scenario run on the spot.

Everything the charts need is gathered into :class:`RunData` (one or more
replications of one scenario), so charts never care where a run was kept.
Each replication carries its KPI summary, its 15-minute holding series, the
departures log and the delay of every lorry as the delay KPIs count it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from straits.experiments.store import ResultsStore, StoreError
from straits.experiments.store_path import default_store_path
from straits.metrics.kpis import delay_at_horizon_minutes
from straits.metrics.timeseries import departures_table, holding_timeseries
from straits.pipeline import RunResult, simulate
from straits.scenario import Scenario, load_scenario, scenario_from_text, scenario_to_yaml
from straits.scenario.clock import at

OUT_FILES = ("summary.json", "scenario.yaml", "holding_timeseries.parquet")


class SourceError(ValueError):
    """A run reference that names no run (message says what to give instead)."""


@dataclass(frozen=True)
class Replication:
    summary: dict[str, Any]
    holding: pa.Table  # minutes, direction, place, kind, lorries, km (see metrics.timeseries)
    departures: pa.Table | None  # minutes, direction, route, capacity, scheduled_capacity, load
    delays_minutes: dict[str, np.ndarray] | None  # per direction, as the delay KPIs count them


@dataclass(frozen=True)
class RunData:
    """One scenario's replications, ready to chart (an ensemble when more than one)."""

    label: str
    scenario: Scenario
    replications: tuple[Replication, ...]

    @property
    def summary(self) -> dict[str, Any]:
        """The first replication's summary: names, dates and the disruption windows."""
        return self.replications[0].summary

    @property
    def is_ensemble(self) -> bool:
        return len(self.replications) > 1

    @property
    def start(self) -> datetime:
        return datetime.fromisoformat(self.summary["start"])

    @property
    def scenario_yaml(self) -> str:
        return scenario_to_yaml(self.scenario)


def replication_from_result(result: RunResult) -> Replication:
    """Gather a finished replication's tables (no files involved)."""
    records = result.records
    delays = {name: delay_at_horizon_minutes(dr, records.horizon_minutes)[0].astype(np.float32)
              for name, dr in records.directions.items()}
    return Replication(result.summary, holding_timeseries(result.scenario, records),
                       departures_table(records), delays)


def run_from_results(results: Sequence[RunResult], label: str | None = None) -> RunData:
    """A run (or ensemble) from replications simulated in this process."""
    if not results:
        raise SourceError("no replications to report")
    first = results[0]
    return RunData(label or first.scenario.name, first.scenario,
                   tuple(replication_from_result(r) for r in results))


def simulate_run(scenario: Scenario, seeds: Sequence[int], label: str | None = None) -> RunData:
    """Run ``scenario`` once per seed, keeping only what the report needs of each."""
    replications = tuple(replication_from_result(simulate(scenario, seed)) for seed in seeds)
    if not replications:
        raise SourceError("no replications to report")
    return RunData(label or scenario.name, scenario, replications)


def load_out_folder(folder: Path, label: str | None = None) -> RunData:
    """A run written by ``straits run --out FOLDER``."""
    missing = [f for f in OUT_FILES if not (folder / f).is_file()]
    if missing:
        raise SourceError(f"{str(folder)!r} is not a run folder (missing {', '.join(missing)}); "
                          "write one with `straits run SCENARIO --out FOLDER`")
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    scenario = scenario_from_text((folder / "scenario.yaml").read_text(encoding="utf-8"),
                                  source=str(folder / "scenario.yaml"))
    departures = _read_optional(folder / "departures.parquet")
    replication = Replication(summary, pq.read_table(folder / "holding_timeseries.parquet"),
                              departures, _delays_from_lorries(folder / "lorries.parquet"))
    return RunData(label or folder.name, scenario, (replication,))


@dataclass(frozen=True)
class RunSource:
    """What a run reference names, found before any work: an ``--out`` folder, an
    experiment in the results store, or a scenario to run now (so a caller can check
    the work of ``scenario`` before it is run)."""

    reference: str
    folder: Path | None = None
    store: Path | None = None
    scenario: Scenario | None = None

    def load(self, seeds: Sequence[int] = (1,), point: int = 0) -> RunData:
        if self.folder is not None:
            return load_out_folder(self.folder)
        if self.store is not None:
            return load_from_store(self.store, self.reference, point)
        assert self.scenario is not None, "find_run gives a folder, a store or a scenario"
        return simulate_run(self.scenario, seeds)


def find_run(reference: str, store: Path | None = None) -> RunSource:
    """What ``reference`` names: an ``--out`` folder, an experiment in the results store
    (by id), or else a scenario (built-in or YAML), loaded but not run."""
    path = Path(reference)
    if path.is_dir():
        return RunSource(reference, folder=path)
    store = store if store is not None else default_store_path()
    if _STORED_ID.match(reference):
        if not store.is_file():
            raise SourceError(f"{reference!r} looks like an experiment id but there is no "
                              f"results store at {str(store)!r}; give --store PATH")
        return RunSource(reference, store=store)
    return RunSource(reference, scenario=load_scenario(reference))


def load_run(reference: str, seeds: Sequence[int] = (1,), store: Path | None = None,
             point: int = 0) -> RunData:
    """A run from an ``--out`` folder, an experiment in the results store (by id), or
    else a scenario (built-in or YAML) run now."""
    return find_run(reference, store).load(seeds, point)


def load_from_store(store_path: Path, experiment_id: str, point: int = 0) -> RunData:
    """An experiment's point from the results store: its replications' KPIs and holding
    series (the store keeps no per-lorry delays or departures log)."""
    try:
        with ResultsStore(store_path, read_only=True) as store:
            rows = store.point_replications(experiment_id, point)
            if not rows:
                raise SourceError(f"no finished runs of experiment {experiment_id!r} point "
                                  f"{point} in {str(store_path)!r}; see `straits results list`")
            holding = [_holding_from_store(r["timeseries_file"]) for r in rows]
    except StoreError as exc:
        raise SourceError(str(exc)) from None
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(f"the results store {str(store_path)!r} is damaged: {exc}; restore "
                          "it from a copy, or run the experiment into a new --store") from None
    scenario = scenario_from_text(rows[0]["yaml"], source=f"{experiment_id} (results store)")
    replications = tuple(
        Replication(_summary_from_store(scenario, r["kpis"], r["seed"]), table, None, None)
        for r, table in zip(rows, holding, strict=True))
    label = f"{experiment_id}" + (f" point {point}" if point else "")
    return RunData(label, scenario, replications)


_STORED_ID = re.compile(r"^[a-z]{3}-[0-9a-f]{12}$")


def _summary_from_store(scenario: Scenario, flat: dict[str, float], seed: int) -> dict[str, Any]:
    """The summary rebuilt from the store's dotted KPI rows; labels come from the scenario."""
    summary: dict[str, Any] = {}
    for key, value in flat.items():
        node = summary
        *parents, last = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    summary.update(scenario=scenario.name, seed=seed,
                   start=scenario.start.isoformat(timespec="minutes"))
    for direction in ("southbound", "northbound"):
        plan = getattr(scenario.holding, direction)
        for area in [*(a.name for a in plan.areas), plan.overflow]:
            summary.get("holding", {}).get(area, {})["direction"] = direction
    hours = summary.pop("disruptions", {})
    summary["disruptions"] = [
        _window(scenario, d, hours[str(i)]["hours"]) for i, d in enumerate(scenario.disruptions)
        if str(i) in hours] if len(hours) == len(scenario.disruptions) else []
    return summary


def _window(scenario: Scenario, disruption: Any, hours: float) -> dict[str, Any]:
    start = at(scenario.start, scenario.start_minutes(disruption))
    return {"name": disruption.name, "kind": disruption.kind,
            "start": start.isoformat(timespec="minutes"),
            "end": (start + timedelta(hours=hours)).isoformat(timespec="minutes"),
            "hours": hours}


def _holding_from_store(path: Path) -> pa.Table:
    """The store's wide series (one list per place) as the long ``--out`` table."""
    wide = pq.read_table(path).to_pylist()
    columns: dict[str, list] = {k: [] for k in ("minutes", "direction", "place", "kind",
                                                "lorries", "km")}
    for row in wide:
        steps = len(row["lorries"])
        columns["minutes"] += [i * row["step_minutes"] for i in range(steps)]
        for key in ("direction", "place", "kind"):
            columns[key] += [row[key]] * steps
        columns["lorries"] += row["lorries"]
        columns["km"] += row["km"]
    return pa.table(columns)


def _read_optional(path: Path) -> pa.Table | None:
    return pq.read_table(path) if path.is_file() else None


def _delays_from_lorries(path: Path) -> dict[str, np.ndarray] | None:
    """Delays as the delay KPIs count them (the file's ``delay_minutes``: lorries that
    crossed and, censored, those still waiting at the horizon; NaN for turned back)."""
    if not path.is_file() or "delay_minutes" not in pq.read_schema(path).names:
        return None  # no lorries file, or one written before delays were stored
    table = pq.read_table(path, columns=["direction", "delay_minutes"])
    out = {}
    for direction in pc.unique(table["direction"]).to_pylist():
        part = table.filter(pc.equal(table["direction"], direction))
        delays = part["delay_minutes"].to_numpy(zero_copy_only=False)
        out[direction] = delays[~np.isnan(delays)].astype(np.float32)
    return out
