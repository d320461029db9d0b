"""The event loop against the recursions, where both apply, to the bit."""

import numpy as np
import pytest

from straits.engine.event_loop import RULE_SHARES, DirectionInput, run_direction
from straits.engine.kernels import fifo_multi_server, load_departures


def single_terminal(arrivals, services, booths, departures, capacity, buffer=10**9,
                    horizon=None, booth_changes=()):
    """One terminal, one stage per column of ``services``."""
    n, stages = services.shape
    return DirectionInput(
        arrival_minutes=arrivals,
        choice_uniform=np.zeros(n),
        captive_uniform=np.zeros(n),
        base_service_minutes=services,
        rule=RULE_SHARES,
        captive_share=1.0,
        share_cumulative=np.array([1.0]),
        free_flow_minutes=np.array([0.0]),
        buffer_lorries=np.array([buffer], dtype=np.int64),
        n_stages=np.array([stages], dtype=np.int64),
        stage_offset=np.array([0], dtype=np.int64),
        booths_initial=np.array(booths, dtype=np.int64),
        booth_change_minutes=np.array([m for m, _ in booth_changes], dtype=float),
        booth_change_count=np.array([b for _, b in booth_changes], dtype=np.int64),
        booth_change_offset=np.array([0] + [len(booth_changes)] * stages, dtype=np.int64),
        speed_change_minutes=np.zeros(stages),
        speed_multiplier=np.ones(stages),
        speed_added_minutes=np.zeros(stages),
        turn_back_share=np.zeros(stages),
        turn_back_uniform=np.ones((n, stages)),
        speed_change_offset=np.arange(stages + 1, dtype=np.int64),
        departure_minutes=np.asarray(departures, dtype=float),
        departure_capacity=np.asarray(capacity, dtype=np.int64),
        departure_offset=np.array([0, len(departures)], dtype=np.int64),
        horizon_minutes=float(horizon if horizon is not None else arrivals[-1] + 10**6),
    )


@pytest.mark.parametrize(("booths", "rho"), [(1, 0.8), (4, 0.9), (8, 0.95)])
def test_one_stage_matches_the_kiefer_wolfowitz_recursion(booths, rho):
    rng = np.random.default_rng(7)
    n = 20_000
    arrivals = np.cumsum(rng.exponential(1.0 / (rho * booths), n))
    services = rng.lognormal(0.0, 0.6, n)
    services /= services.mean()
    out = run_direction(single_terminal(arrivals, services[:, None], [booths],
                                        [arrivals[-1] + 10**5], [n]))
    start, end = fifo_multi_server(arrivals, services, booths)
    np.testing.assert_array_equal(out.stage_start_minutes[:, 0], start)
    np.testing.assert_array_equal(out.stage_end_minutes[:, 0], end)


def test_boarding_matches_the_bulk_departure_recursion():
    rng = np.random.default_rng(3)
    n = 5_000
    arrivals = np.sort(rng.uniform(0, 2_000, n))
    departures = np.arange(10.0, 2_400.0, 10.0)
    capacity = rng.integers(0, 40, departures.shape[0])
    out = run_direction(single_terminal(arrivals, np.zeros((n, 1)), [1], departures, capacity))
    taken, load = load_departures(arrivals, departures, capacity)
    np.testing.assert_array_equal(out.departure_index, taken)
    np.testing.assert_array_equal(out.departure_load, load)


def test_tandem_stages_match_two_recursions_in_stage_arrival_order():
    rng = np.random.default_rng(11)
    n = 10_000
    arrivals = np.cumsum(rng.exponential(1 / 2.7, n))
    services = np.column_stack([rng.exponential(1.0, n), rng.exponential(1.5, n)])
    out = run_direction(single_terminal(arrivals, services, [3, 5],
                                        [arrivals[-1] + 10**5], [n]))
    _, end1 = fifo_multi_server(arrivals, services[:, 0], 3)
    order = np.argsort(end1, kind="stable")
    start2, end2 = fifo_multi_server(end1[order], services[order, 1], 5)
    np.testing.assert_allclose(out.stage_start_minutes[order, 1], start2)
    np.testing.assert_allclose(out.stage_end_minutes[order, 1], end2)


def test_a_full_terminal_holds_lorries_at_the_gate():
    arrivals = np.arange(10, dtype=float)
    out = run_direction(single_terminal(arrivals, np.zeros((10, 1)), [1], [100.0, 200.0],
                                        [4, 10], buffer=4))
    np.testing.assert_array_equal(out.gate_entry_minutes[:4], arrivals[:4])
    np.testing.assert_array_equal(out.gate_entry_minutes[4:], [100.0] * 4 + [200.0] * 2)
    # the last two get in only as the 200-minute departure leaves without them
    np.testing.assert_array_equal(out.departure_index, [0] * 4 + [1] * 4 + [-1] * 2)


def test_closed_booths_stop_service_until_they_reopen():
    arrivals = np.array([1.0, 2.0, 3.0])
    out = run_direction(single_terminal(arrivals, np.ones((3, 1)), [1], [500.0], [10],
                                        booth_changes=[(1.5, 0), (50.0, 2)]))
    np.testing.assert_array_equal(out.stage_start_minutes[:, 0], [1.0, 50.0, 50.0])


def test_lorries_still_inside_at_the_horizon_are_kept():
    arrivals = np.array([1.0, 2.0, 3.0])
    out = run_direction(single_terminal(arrivals, np.full((3, 1), 5.0), [1], [100.0], [10],
                                        horizon=8.0))
    assert out.terminal.tolist() == [0, 0, 0]
    np.testing.assert_array_equal(out.departure_index, [-1, -1, -1])
    assert np.isnan(out.stage_end_minutes[1, 0])
