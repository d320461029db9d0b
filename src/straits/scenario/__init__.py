"""Scenarios: the validated, typed description of one what-if."""

from straits.scenario.loading import (
    ScenarioError,
    builtin_names,
    load_scenario,
    scenario_from_mapping,
    scenario_from_text,
    scenario_hash,
    scenario_to_yaml,
    with_horizon,
)
from straits.scenario.schema import Scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "builtin_names",
    "load_scenario",
    "scenario_from_mapping",
    "scenario_from_text",
    "scenario_hash",
    "scenario_to_yaml",
    "with_horizon",
]
