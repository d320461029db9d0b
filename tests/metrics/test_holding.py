"""Holding plans: areas fill in order, within capacity, and account for everyone."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from straits.engine.holding import allocate, area_km
from straits.scenario.schema import HoldingArea, HoldingPlan


def plan(capacities, serves):
    return HoldingPlan(
        lorry_spacing_m=20,
        areas=[HoldingArea(name=f"a{i}", capacity_lorries=c, length_km=c * 0.02, lanes=1,
                           serves=s) for i, (c, s) in enumerate(zip(capacities, serves,
                                                                     strict=True))],
        overflow="roads",
    )


@given(
    st.lists(st.integers(0, 500), min_size=1, max_size=4),
    st.lists(st.sampled_from([["x"], ["y"], ["x", "y"]]), min_size=4, max_size=4),
    st.lists(st.integers(0, 3000), min_size=2, max_size=2),
)
def test_allocation_conserves_respects_capacity_and_fills_in_order(capacities, serves, queue):
    p = plan(capacities, serves[: len(capacities)])
    q = np.array(queue)[:, None]
    out = allocate(p, ["x", "y"], q)
    np.testing.assert_allclose(out.sum(axis=0), q)  # everyone is somewhere
    assert np.all(out >= -1e-9)
    for a, area in enumerate(p.areas):
        assert out[a].sum() <= area.capacity_lorries + 1e-9
        for t, terminal in enumerate(["x", "y"]):
            if terminal not in area.serves:
                assert out[a, t].sum() == 0
        # a later area or the road is used only if this one is full or unusable
        later = out[a + 1:].sum()
        wanting = sum(out[a:, t].sum() for t, name in enumerate(["x", "y"])
                      if name in area.serves)
        if later > 1e-9 and wanting > out[a].sum() + 1e-9:
            assert out[a].sum() >= area.capacity_lorries - 1e-9


def test_queue_length_in_km_uses_spacing_and_lanes():
    p = HoldingPlan(lorry_spacing_m=20, overflow="roads", overflow_lanes=1, areas=[
        HoldingArea(name="m20", capacity_lorries=2100, length_km=21, lanes=2, serves=["x"])])
    km = area_km(p, np.array([[2100.0], [50.0]]))
    assert km[0, 0] == 21.0  # F1.14: 2,100 lorries on ~21 km of two lanes
    assert km[1, 0] == 1.0
