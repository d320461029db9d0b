"""straits from Python: load a scenario, change it, run it, and get tables and figures.

A thin layer over what the command line uses (the pipeline, the experiments
layer and the report), so a notebook and ``straits run`` give the same numbers
for the same scenario and seed:

>>> import straits
>>> day = straits.override(straits.load("baseline"), {"horizon": "6h"})
>>> result = straits.run(day, seed=1)
>>> result.kpis["horizon_hours"]
6.0
>>> int(result.lorries["direction"].isin(["southbound", "northbound"]).sum()) == len(result.lorries)
True

Tables are pandas DataFrames (converted from the Arrow tables ``--out``
writes); figures are plotly figures, the report's own charts.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from straits.experiments.ensemble import Experiment, run_experiment
from straits.experiments.ensemble import ensemble as ensemble_experiment
from straits.experiments.executors import make_executor
from straits.experiments.statistics import experiment_statistics
from straits.experiments.store import ResultsStore
from straits.experiments.sweep import Values, apply_overrides, grid_sweep, scenario_mapping
from straits.pipeline import RunResult, result_tables, simulate
from straits.report import render_report, report_figures, run_from_results
from straits.scenario import Scenario, load_scenario

ScenarioLike = Scenario | str | Path
STATISTICS = ("n", "mean", "std", "ci95_low", "ci95_high", "p5", "p50", "p95", "min", "max")


def load(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a YAML file (``extends`` followed), validated.

    >>> load("baseline").name
    'baseline'
    """
    return load_scenario(name_or_path)


def override(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """The scenario with values set at dotted paths, exactly as ``--set`` and ``--vary`` do.

    Paths walk the YAML: mapping keys, then list items by ``name`` or index.
    Values are written as in a scenario file (``"90s"``, ``"1d"``). A bad path or
    value raises :class:`straits.scenario.ScenarioError` naming the valid choices.

    >>> sc = override(load("baseline"), {"horizon": "1d",
    ...                                  "terminals.dover.stages.french_border.booths": 9})
    >>> sc.horizon, sc.terminals["dover"].stages[1].booths
    (1440.0, 9)
    """
    return apply_overrides(scenario_mapping(scenario), dict(changes))


@dataclass(frozen=True)
class Run:
    """One replication: its KPIs, its tables and its figures."""

    result: RunResult

    @property
    def scenario(self) -> Scenario:
        return self.result.scenario

    @property
    def seed(self) -> int:
        return self.result.seed

    @property
    def kpis(self) -> dict[str, Any]:
        """Every KPI, nested as ``straits run --json`` prints them (docs/kpis.md)."""
        return self.result.summary

    @cached_property
    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table ``straits run --out`` writes, by file stem."""
        return {stem: table.to_pandas() for stem, table in result_tables(self.result).items()}

    @property
    def lorries(self) -> pd.DataFrame:
        """One row per lorry: its times at each stage, holding area, departure and exit."""
        return self.tables["lorries"]

    @property
    def timeseries(self) -> pd.DataFrame:
        """Lorries and km queued in every holding area, approach road and terminal,
        every 15 minutes."""
        return self.tables["holding_timeseries"]

    @property
    def departures(self) -> pd.DataFrame:
        """Every scheduled departure: capacity after disruptions and lorries carried."""
        return self.tables["departures"]

    def figures(self, at: datetime | None = None) -> dict[str, go.Figure]:
        """The report's plotly figures by name (``map``, ``queue_lorries``, ``queue_km``,
        ``delay``, ``throughput``, and ``security`` with the security model on)."""
        return report_figures(run_from_results([self.result]), at)

    def report(self, path: str | Path) -> Path:
        """Write the self-contained HTML report (as ``straits report``); returns its path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_report(run_from_results([self.result])), encoding="utf-8")
        return target


def run(scenario: ScenarioLike, seed: int = 1) -> Run:
    """One replication of ``scenario`` (a :class:`Scenario`, built-in name or YAML path)."""
    return Run(simulate(_scenario(scenario), seed))


def ensemble(scenario: ScenarioLike, replications: int = 10, *, workers: int = 1,
             store: str | Path | None = None) -> pd.DataFrame:
    """``replications`` replications with the command line's seeds: one row per KPI with
    its mean, 95% t-interval, percentiles and range (as ``straits ensemble --json``).

    Results go to a throw-away store unless ``store`` names a results database, in
    which case finished replications are reused, as on the command line.
    """
    base = _scenario(scenario)
    table = _run_and_describe(ensemble_experiment(base, replications), workers, store)
    return table.drop(columns="point")


def sweep(scenario: ScenarioLike, vary: Mapping[str, Sequence[Any]], replications: int = 5, *,
          workers: int = 1, store: str | Path | None = None) -> pd.DataFrame:
    """Every combination of the values at dotted paths (as ``straits sweep --vary``),
    common random numbers across points: one row per point and KPI, with a column
    per varied path.

    >>> table = sweep(override(load("baseline"), {"horizon": "3h"}),
    ...               {"terminals.dover.stages.french_border.booths": [6, 8]}, replications=2)
    >>> sorted(table["terminals.dover.stages.french_border.booths"].unique().tolist())
    [6, 8]
    """
    base = _scenario(scenario)
    grid = [Values(path, list(values)) for path, values in vary.items()]
    experiment = grid_sweep(base, grid, replications)
    table = _run_and_describe(experiment, workers, store)
    parameters = pd.DataFrame([{"point": p.index, **p.parameters} for p in experiment.points])
    return parameters.merge(table, on="point")


def _run_and_describe(experiment: Experiment, workers: int,
                      store: str | Path | None) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix="straits-") as scratch:
        path = Path(store) if store is not None else Path(scratch) / "results.duckdb"
        executor = make_executor(workers)
        try:
            with ResultsStore(path) as results:
                run_experiment(experiment, results, executor)
                statistics = experiment_statistics(results, experiment.experiment_id)
        finally:
            executor.close()
    rows = [{"point": point, "kpi": s.kpi, **s.as_dict()}
            for point, stats in sorted(statistics.items()) for s in stats]
    return pd.DataFrame(rows, columns=["point", "kpi", *STATISTICS])


def _scenario(scenario: ScenarioLike) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


# --- the scenario file format as JSON Schema ------------------------------------------------
_DURATION = {"type": "string", "pattern": r"^\s*[+]?\d+(\.\d+)?\s*(s|sec|min|m|h|d)\s*$",
             "description": "a duration with its unit: 90s, 45min, 2h, 1.5d"}
_START = {"type": "string", "description": "a date and time (2015-06-24T12:00) or an offset "
          "from the scenario start (+36h)",
          "pattern": r"^(\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?|\+\s*\d+(\.\d+)?\s*"
                     r"(s|sec|min|m|h|d))\s*$"}


class _ScenarioFileSchema(GenerateJsonSchema):
    """Fields as written in YAML: durations and start offsets are strings with units."""

    def function_before_schema(
            self, schema: core_schema.BeforeValidatorFunctionSchema) -> JsonSchemaValue:
        name = getattr(schema["function"].get("function"), "__name__", "")
        if name == "parse_minutes":
            return dict(_DURATION)
        if name == "parse_start":
            return dict(_START)
        if name == "_fixed_if_string":  # a bare duration means a fixed one
            return {"anyOf": [dict(_DURATION), super().function_before_schema(schema)]}
        return super().function_before_schema(schema)

    def datetime_schema(self, schema: core_schema.DatetimeSchema) -> JsonSchemaValue:
        return {k: v for k, v in _START.items() if k != "pattern"} | {
            "pattern": r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?$"}


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editors (``straits schema``).

    A file with ``extends`` may give any subset of the fields (the rest come from
    what it extends), so required fields are checked only for a file without it.

    >>> schema = scenario_json_schema()
    >>> schema["properties"]["horizon"]["type"], "extends" in schema["properties"]
    ('string', True)
    """
    schema = Scenario.model_json_schema(schema_generator=_ScenarioFileSchema)
    required = schema.pop("required", [])
    _drop_required(schema)
    schema["properties"]["extends"] = {
        "type": "string", "description": "a built-in scenario name or a YAML file to build on"}
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["if"] = {"required": ["extends"]}
    schema["else"] = {"required": required}
    return schema


def _drop_required(node: Any) -> None:
    """Nested sections may be given in part under ``extends``: no ``required`` inside."""
    if isinstance(node, dict):
        node.pop("required", None)
        for value in node.values():
            _drop_required(value)
    elif isinstance(node, list):
        for value in node:
            _drop_required(value)
