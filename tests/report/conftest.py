"""Short runs shared by the report tests (one day, so the suite stays quick)."""

from __future__ import annotations

import pytest

from straits.pipeline import simulate
from straits.report.sources import RunData, run_from_results
from straits.scenario import Scenario, load_scenario, scenario_from_mapping


def short_scenario(name: str, days: float = 1.0) -> Scenario:
    """A built-in scenario cut to ``days`` (disruptions beyond it dropped)."""
    data = load_scenario(name).model_dump(mode="json")
    data["horizon"] = f"{days * 24:g}h"
    scenario = load_scenario(name)
    data["disruptions"] = [d for d, model in zip(data["disruptions"], scenario.disruptions,
                                                 strict=True)
                           if scenario.start_minutes(model) < days * 1440]
    return scenario_from_mapping(data)


@pytest.fixture(scope="session")
def short():
    """``short(name, days)``: a built-in scenario cut to a few days."""
    return short_scenario


@pytest.fixture(scope="session")
def slow_border() -> Scenario:
    """Baseline for a day with Dover's French border down to 3 booths: Kent queues."""
    data = short_scenario("baseline").model_dump(mode="json")
    data["name"] = "slow-border"
    border = next(s for s in data["terminals"]["dover"]["stages"] if s["name"] == "french_border")
    border["booths"] = 3
    return scenario_from_mapping(data)


@pytest.fixture(scope="session")
def queued_run(slow_border: Scenario) -> RunData:
    return run_from_results([simulate(slow_border, 1)])


@pytest.fixture(scope="session")
def ensemble(slow_border: Scenario) -> RunData:
    return run_from_results([simulate(slow_border, seed) for seed in (1, 2, 3, 4)])


@pytest.fixture(scope="session")
def strike_run() -> RunData:
    """Two days of the 2015 strike: a blockade window inside the horizon."""
    return run_from_results([simulate(short_scenario("calais-strike-2015", 2.0), 1)])
