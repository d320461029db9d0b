"""Each validation scenario reproduces its headline published figure (small ensembles;
the full run is the slow test in test_validate_cli.py)."""

from __future__ import annotations

import pytest

from straits.scenario import load_scenario
from straits.validation import TARGETS, run_scenario
from straits.validation.comparison import compare

REPLICATIONS = 3


def _row(scenario: str, key: str):
    ensemble = run_scenario(scenario, REPLICATIONS)
    return next(r for r in compare(TARGETS, {scenario: ensemble}) if r.key == key)


@pytest.mark.parametrize(("scenario", "key"), [
    ("calais-strike-2015", "strike-stack-days"),       # F3.2: 28-32 days
    ("dover-checks-2018", "checks-2min"),              # F5.1: ~10 miles
    ("dover-checks-2018-plus1", "checks-plus1"),       # F5.1: ~20 miles
    ("dover-checks-2018-plus2", "checks-plus2"),       # F5.1, F5.2: 17-29.3 miles
    ("rwcs-2021", "rwcs-peak-queue"),                  # F5.3: 6,500-7,000 lorries
    ("dover-easter-2023", "easter-2023-coaches"),      # F6.6: coach delays of 5-6 h
])
def test_headline_quantity_is_in_its_published_range(scenario, key):
    row = _row(scenario, key)
    assert row.band_low <= row.model_mean <= row.band_high, row


def test_calais_strike_stack_days_fall_inside_the_sources_range_itself():
    """F3.2 without tolerance: FTA 28 days to DfT 31-32."""
    row = _row("calais-strike-2015", "strike-stack-days")
    assert 28 <= row.model_mean <= 32


def test_scenarios_change_events_and_era_inputs_only():
    """One corridor: booths, service times and buffers are the shared 2015 set."""
    base = load_scenario("baseline")
    for name in ("calais-strike-2015", "dover-checks-2018", "dover-checks-2018-plus2",
                 "rwcs-2021"):
        scenario = load_scenario(name)
        assert scenario.terminals == base.terminals, name
        assert scenario.routes == base.routes, name
        assert scenario.demand.southbound.hour_of_day == base.demand.southbound.hour_of_day
        assert scenario.cost == base.cost


def test_rwcs_holds_lorries_in_brock_not_stack():
    scenario = load_scenario("rwcs-2021")
    areas = {a.name: a for a in scenario.holding.southbound.areas}
    assert "manston" in areas  # F2.2 phase 3: Dover traffic only (Calais and Dunkirk lanes)
    assert set(areas["manston"].serves) == {"dover", "dover-dunkirk"}
    assert areas["brock-m26"].serves == ["folkestone"]  # F2.2 phase 4
    assert not any(name.startswith("stack") for name in areas)
    total = sum(a.capacity_lorries for a in areas.values())
    assert 10_000 <= total <= 11_500  # F2.2: up to ~11,000
