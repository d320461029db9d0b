"""One replication end to end: scenario + seed → records → KPIs → tables.

Every front end (CLI, experiments, web) runs replications through here, so a
run means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from straits.engine import Records, run_replication
from straits.metrics import holding_timeseries, lorry_table, summarise
from straits.metrics.timeseries import booths_table, departures_table
from straits.scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    seed: int
    records: Records
    summary: dict[str, Any]


def simulate(scenario: Scenario, seed: int) -> RunResult:
    """Run one replication and summarise it."""
    records = run_replication(scenario, seed)
    return RunResult(scenario, seed, records, summarise(scenario, records))


def result_tables(result: RunResult) -> dict[str, pa.Table]:
    """The tables written by ``--out``, by file stem."""
    return {
        "lorries": lorry_table(result.records),
        "holding_timeseries": holding_timeseries(result.scenario, result.records),
        "departures": departures_table(result.records),
        "booths": booths_table(result.records),
    }
