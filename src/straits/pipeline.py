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
from straits.metrics.timeseries import booths_table, decisions_table, departures_table
from straits.scenario import Scenario
from straits.security import CoupledRun, run_coupled, security_summary, security_tables


@dataclass(frozen=True)
class RunResult:
    scenario: Scenario
    seed: int
    records: Records
    summary: dict[str, Any]
    security: CoupledRun | None = None  # set when the scenario has a ``security`` section


def simulate(scenario: Scenario, seed: int) -> RunResult:
    """Run one replication and summarise it.

    With a ``security`` section the engine runs coupled with the people model
    (a fixed point over tunnel suspensions, docs/security.md) and the summary
    gains a ``security`` object; the corridor KPIs come from the coupled run.
    """
    if scenario.security is None:
        records = run_replication(scenario, seed)
        return RunResult(scenario, seed, records, summarise(scenario, records))
    coupled = run_coupled(scenario, seed)
    summary = summarise(scenario, coupled.records)
    summary["security"] = security_summary(coupled)
    return RunResult(scenario, seed, coupled.records, summary, coupled)


def result_tables(result: RunResult) -> dict[str, pa.Table]:
    """The tables written by ``--out``, by file stem."""
    tables = {
        "lorries": lorry_table(result.records),
        "holding_timeseries": holding_timeseries(result.scenario, result.records),
        "departures": departures_table(result.records),
        "booths": booths_table(result.records),
    }
    if any(getattr(result.scenario.holding, d).has_decisions for d in result.records.directions):
        tables["holding_decisions"] = decisions_table(result.records)
    if result.security is not None:
        tables.update(security_tables(result.security))
    return tables
