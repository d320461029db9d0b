"""Shared test helpers: small scenarios built from the shared corridor."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from straits.scenario import Scenario, scenario_from_mapping
from straits.scenario.loading import builtin_text


def corridor_mapping() -> dict[str, Any]:
    """The shared 2015 corridor as a plain mapping, ready to modify."""
    return yaml.safe_load(builtin_text("corridor-2015"))


def scenario_with(changes: dict[str, Any] | None = None, **fields: Any) -> Scenario:
    """The shared corridor with top-level fields replaced and nested ``changes``
    (dotted paths, e.g. ``{"terminals.dover.buffer_lorries": 50}``) applied."""
    data = copy.deepcopy(corridor_mapping())
    data.update({"name": "test"}, **fields)
    for path, value in (changes or {}).items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    return scenario_from_mapping(data)


@pytest.fixture
def one_day() -> Scenario:
    return scenario_with(horizon="1d")
