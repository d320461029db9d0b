"""Little's law on the corridor: L = λW, measured two independent ways."""

import numpy as np
import pytest

from straits.engine import run_replication
from straits.metrics.occupancy import inside_terminals, occupancy
from straits.scenario import load_scenario


@pytest.mark.parametrize("name", ["baseline", "calais-strike-2015"])
def test_time_average_in_corridor_equals_arrival_rate_times_time_in_corridor(name):
    scenario = load_scenario(name)
    records = run_replication(scenario, 3)
    horizon = records.horizon_minutes
    for direction, dr in records.directions.items():
        grid = np.arange(0.5, horizon, 1.0)  # mid-points of one-minute steps
        occ = occupancy(dr, getattr(scenario.holding, direction), grid)
        inside = inside_terminals(dr, grid)
        in_corridor = occ.lorries_by_area.sum(axis=0) + inside.sum(axis=0)
        time_average = in_corridor.mean()
        left = np.where(np.isnan(dr.left_terminal_minutes), horizon, dr.left_terminal_minutes)
        arrival_rate = dr.lorries / horizon
        mean_time = np.mean(left - dr.arrival_minutes)
        assert time_average == pytest.approx(arrival_rate * mean_time, rel=5e-3)
