"""Helpers for the security tests: small scenarios from the calais-autumn-2015 levers."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from straits.scenario import Scenario, scenario_from_text
from straits.scenario.common import deep_merge
from straits.scenario.loading import builtin_text


def autumn_security() -> dict[str, Any]:
    """The ``security`` mapping of calais-autumn-2015 (a complete, valid section)."""
    return copy.deepcopy(yaml.safe_load(builtin_text("calais-autumn-2015"))["security"])


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    return deep_merge(copy.deepcopy(base), copy.deepcopy(override))


def make_scenario(security: dict[str, Any] | None = None, horizon: str = "3d",
                  disruptions: list[dict[str, Any]] | None = None, **top: Any) -> Scenario:
    """corridor-2015 from Monday 8 June 2015 with the given security section."""
    doc: dict[str, Any] = {
        "extends": "corridor-2015", "name": "security-test", "start": "2015-06-08T00:00",
        "horizon": horizon, **top,
    }
    if security is not None:
        doc["security"] = security
    if disruptions is not None:
        doc["disruptions"] = disruptions
    return scenario_from_text(yaml.safe_dump(doc, sort_keys=False))


def summer_levers() -> dict[str, Any]:
    """Autumn structure with summer-like weak tunnel security and frequent suspensions."""
    return merge(autumn_security(), {
        "population": {"initial_people": 3000, "arrivals_per_day": 100},
        "attempts": {"per_person_per_day": {"lorries": 2.0, "port": 0.4, "tunnel": 2.0}},
        "sites": {"tunnel": {"fence_km": 15, "fence_quality": 0.7, "police": 150}},
        "secure_parking_lorries": 0,
        "coupling": {"suspension_probability_per_intrusion": 0.01},
    })
