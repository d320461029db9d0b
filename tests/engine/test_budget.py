"""The work estimate against what the engine really does, and the budget's refusals."""

from __future__ import annotations

import math
import time
import tracemalloc

import pytest

from straits.engine import run_replication
from straits.engine.budget import WorkBudget, check_work, estimate_work
from straits.scenario import ScenarioError, scenario_from_text
from straits.scenario.limits import MAX_DISRUPTIONS

# lorries a day, horizon and shocks within every limit of the schema and the dashboard,
# (1 replication, 62 days, < 256 KB): today this takes gigabytes
GIGABYTE_UPLOAD = """extends: baseline
name: heavy
horizon: 62d
demand:
  southbound: {lorries_per_day: 200000}
  northbound: {lorries_per_day: 200000}
"""


def _scenario(body: str) -> object:
    return scenario_from_text("extends: baseline\nname: t\n" + body)


@pytest.mark.parametrize(("lorries_per_day", "start_minute", "hours", "multiplier", "quiet_from"), [
    (20_000, 0, 30, 3.0, 0), (8_000, 0, 7, 0.0, 4), (8_000, 0, 26, 1.5, 20),
    (5_000, 0, 12, 0.5, 2),
    (20_000, 30, 30, 3.0, 0),
])
def test_expected_lorries_match_the_engine_within_poisson_noise(
        lorries_per_day, start_minute, hours, multiplier, quiet_from):
    """Clock-hour weights with quiet hours, day weights and a demand shock: the estimate
    is the Poisson mean of the engine's arrivals (within 5 standard deviations)."""
    weights = [1.0] * 24
    for h in range(quiet_from, quiet_from + 6):
        weights[h % 24] = 0.0
    sc = _scenario(f"start: 2015-06-08T03:{start_minute:02d}\nhorizon: {hours}h\n"
                   f"demand:\n  southbound: {{lorries_per_day: {lorries_per_day}, "
                   f"hour_of_day: {weights}}}\n"
                   f"disruptions:\n  - {{kind: demand_shock, start: +2h, duration: 3h, "
                   f"multiplier: {multiplier}, directions: [southbound]}}\n")
    work = estimate_work(sc)
    records = run_replication(sc, 7)
    for direction, expected in work.lorries_by_direction.items():
        arrived = records.directions[direction].lorries
        assert abs(arrived - expected) <= 5 * math.sqrt(expected) + 1, direction


def test_departures_are_what_the_timetables_hold():
    sc = _scenario("horizon: 2d\n")
    records = run_replication(sc, 1)
    scheduled = sum(len(d.departure_time_minutes) for d in records.directions.values())
    work = estimate_work(sc)
    vessels = sum(r.vessels for r in sc.routes.values() if hasattr(r, "fleet"))
    # an upper bound, by at most one sailing per ship and direction
    assert scheduled <= work.departures <= scheduled + 2 * vessels


def test_memory_estimate_bounds_a_real_replication():
    """The figure a refusal quotes is an upper estimate: traced peak of a real run below it."""
    sc = _scenario("horizon: 2d\ndemand:\n  southbound: {lorries_per_day: 60000}\n"
                   "  northbound: {lorries_per_day: 60000}\n")
    run_replication(sc, 1)  # compile first: numba's own allocations are not the run's
    tracemalloc.start()
    try:
        run_replication(sc, 1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    work = estimate_work(sc)
    assert work.memory_bytes / 4 < peak <= work.memory_bytes


def test_an_upload_that_would_take_gigabytes_is_refused_at_once_with_its_figure():
    sc = scenario_from_text(GIGABYTE_UPLOAD)
    began = time.perf_counter()
    with pytest.raises(ScenarioError) as refused:
        check_work(sc)
    assert time.perf_counter() - began < 1.0
    work = estimate_work(sc)
    assert 0.95 * 400_000 * 62 < work.lorries < 1.05 * 400_000 * 62  # day weights average 1
    assert work.memory_bytes > 2 * 1024**3
    assert refused.value.field in ("demand.southbound.lorries_per_day",
                                   "demand.northbound.lorries_per_day")
    assert f"about {work.lorries:,.0f} lorries" in refused.value.message
    assert "budget is 3,000,000" in refused.value.message


def test_stacked_demand_shocks_are_counted_and_named():
    """Overlapping shocks multiply in the estimate; a stack the scenario model refuses
    never reaches the budget."""
    shocks = "".join(f"  - {{kind: demand_shock, start: +{h}h, duration: 5d, multiplier: 3}}\n"
                     for h in range(1, 3))
    sc = _scenario(f"horizon: 6d\ndisruptions:\n{shocks}")
    assert estimate_work(sc).lorries > 6 * estimate_work(_scenario("horizon: 6d\n")).lorries
    too_many = "".join(f"  - {{kind: demand_shock, start: +{h}h, duration: 5d, multiplier: 10}}\n"
                       for h in range(1, 5))
    with pytest.raises(ScenarioError, match="demand shocks") as refused:
        _scenario(f"horizon: 6d\ndisruptions:\n{too_many}")
    assert refused.value.field.startswith("disruptions[")


def test_a_timetable_too_dense_to_lay_out_is_refused_by_its_departures():
    fleet = [{"vessels": 100, "lorries_per_sailing": 100}] * 20
    sc = _scenario(f"horizon: 100d\nroutes:\n  ferry: {{fleet: {fleet}, crossing: 20min, "
                   f"turnaround: 10min}}\n")
    with pytest.raises(ScenarioError, match="departures per replication") as refused:
        check_work(sc)
    assert refused.value.field == "routes.ferry.crossing"


def test_many_disruptions_over_the_timetable_are_refused():
    cuts = "".join(f"  - {{kind: strike, target: ferry, start: +{m}min, duration: 1min}}\n"
                   for m in range(MAX_DISRUPTIONS))
    sc = _scenario(f"horizon: 200d\ndisruptions:\n{cuts}")
    small = WorkBudget(max_schedule_steps=estimate_work(sc).schedule_steps / 2)
    with pytest.raises(ScenarioError) as refused:
        check_work(sc, budget=small)
    assert refused.value.field == "disruptions"


def test_replications_and_coupling_passes_multiply_the_work():
    sc = _scenario("horizon: 20d\n")
    one = check_work(sc, 1)
    with pytest.raises(ScenarioError) as refused:
        check_work(sc, 1000)
    assert refused.value.field == "replications"
    assert f"{one.lorries * 1000:,.0f}"[:4] in refused.value.message


def test_the_machine_budget_scales_with_memory():
    budget = WorkBudget.for_machine()
    assert budget.max_lorries > 1e5 and math.isinf(budget.max_lorry_passes)
