"""Validation against what happened: published targets, ensembles, comparison, plots."""

from straits.validation.comparison import Row, compare, rows_to_json, rows_to_markdown
from straits.validation.scenario_runs import ScenarioRuns, replication_seed, run_scenario
from straits.validation.targets import TARGETS, Target, headline, scenarios

__all__ = [
    "TARGETS",
    "Row",
    "ScenarioRuns",
    "Target",
    "compare",
    "headline",
    "replication_seed",
    "rows_to_json",
    "rows_to_markdown",
    "run_scenario",
    "scenarios",
]
