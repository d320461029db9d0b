"""Short horizons and sparse timetables run: no departure before the horizon is a result."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from straits.pipeline import result_tables, simulate
from straits.scenario.limits import MIN_DEPARTURES_PER_HOUR, MIN_TURNAROUND_MINUTES
from straits.scenario.units import format_minutes
from tests.conftest import scenario_with
from tests.engine.invariants import check_records


@settings(max_examples=25, deadline=None)
@given(
    horizon_minutes=st.integers(1, 720),
    start_minute=st.integers(0, 59),
    shuttles_per_hour=st.sampled_from([MIN_DEPARTURES_PER_HOUR, 0.5, 6.0]),
    vessels=st.integers(0, 2),
    turnaround_minutes=st.sampled_from([MIN_TURNAROUND_MINUTES, 60.0, 600.0]),
    seed=st.integers(0, 2**16),
)
def test_short_and_sparse_runs_complete_and_conserve_lorries(
    horizon_minutes: int, start_minute: int, shuttles_per_hour: float, vessels: int,
    turnaround_minutes: float, seed: int,
) -> None:
    scenario = scenario_with(
        {
            "routes.tunnel.departures_per_hour": shuttles_per_hour,
            "routes.ferry.fleet": [{"vessels": vessels, "lorries_per_sailing": 100}],
            "routes.ferry.turnaround": format_minutes(turnaround_minutes),
        },
        horizon=f"{horizon_minutes}min",
        start=f"2015-06-08T03:{start_minute:02d}",
    )
    result = simulate(scenario, seed)
    check_records(result.records, scenario)
    tables = result_tables(result)
    lorries = sum(d.lorries for d in result.records.directions.values())
    assert tables["lorries"].num_rows == lorries
