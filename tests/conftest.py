"""Shared test helpers: small scenarios built from the shared corridor."""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
import yaml
from hypothesis import settings

from straits.scenario import Scenario, scenario_from_mapping
from straits.scenario.loading import builtin_text
from straits.scenario.schema import Stage

# CI replays the same examples on every run (derandomize) so a red build is reproducible;
# locally Hypothesis explores new ones. Neither has a per-example deadline: the machines
# are shared, and a slow example is not a wrong one.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE")
                      or ("ci" if os.environ.get("CI") == "true" else "dev"))


def corridor_mapping() -> dict[str, Any]:
    """The shared 2015 corridor as a plain mapping, ready to modify."""
    return yaml.safe_load(builtin_text("corridor-2015"))


def scenario_with(changes: dict[str, Any] | None = None, **fields: Any) -> Scenario:
    """The shared corridor with top-level fields replaced and nested ``changes``
    (dotted paths, e.g. ``{"terminals.dover.buffer_lorries": 50}``) applied; a list
    item is named by index or by its ``name`` (``terminals.dover.stages.check_in``)."""
    data = copy.deepcopy(corridor_mapping())
    data.update({"name": "test"}, **fields)
    for path, value in (changes or {}).items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[_key(node, part)]
        node[_key(node, last)] = value
    return scenario_from_mapping(data)


def _key(node: Any, part: str) -> Any:
    if not isinstance(node, list):
        return part
    if part.isdigit():
        return int(part)
    return next(i for i, item in enumerate(node) if item.get("name") == part)


def stage(scenario: Scenario, terminal: str, name: str) -> Stage:
    """A terminal's stage by name (tests never rely on the order in a built-in)."""
    return next(s for s in scenario.terminals[terminal].stages if s.name == name)


def stage_index(scenario: Scenario, terminal: str, name: str) -> int:
    """Where ``name`` sits in the terminal's stages (the records' column)."""
    return [s.name for s in scenario.terminals[terminal].stages].index(name)


@pytest.fixture
def one_day() -> Scenario:
    return scenario_with(horizon="1d")
