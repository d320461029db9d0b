"""The shipped corridor geometry and the queue-along-a-road arithmetic."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from straits.report.corridor_map import corridor_geometry, cut_path, offset_path, path_km
from straits.scenario import builtin_names, load_scenario

DOVER_FOLKESTONE_KM = 14.0  # straight line, Eastern Docks to the Cheriton tunnel terminal


def test_every_builtin_holding_area_has_a_road_to_draw_on():
    areas = corridor_geometry()["areas"]
    missing = []
    for name in builtin_names():
        scenario = load_scenario(name)
        for plan in (scenario.holding.southbound, scenario.holding.northbound):
            missing += [(name, a) for a in [*(x.name for x in plan.areas), plan.overflow]
                        if a not in areas]
    assert missing == []


def test_places_named_in_the_issue_are_on_the_map():
    geometry = corridor_geometry()
    for place in ("Dover", "Folkestone", "Manston", "Calais", "Coquelles"):
        assert place in geometry["places"]
    for road in ("M20", "A20", "M26", "A16"):
        assert road in geometry["roads"]
    assert {"Kent coast", "French coast"} <= set(geometry["coasts"])


def test_distances_are_roughly_right():
    places = corridor_geometry()["places"]
    km = path_km([places["Dover"], places["Folkestone"]])[-1]
    assert abs(km - DOVER_FOLKESTONE_KM) < 3.0
    strait = path_km([places["Dover"], places["Calais"]])[-1]
    assert 38 < strait < 48  # Dover-Calais ~42 km


def test_area_paths_start_at_their_roads():
    """Each queue path runs along a drawn road (its points lie on some road or near it)."""
    geometry = corridor_geometry()
    road_points = np.array([p for line in geometry["roads"].values() for p in line])
    for name, area in geometry["areas"].items():
        head = np.array(area["path"][0])
        nearest = np.min(np.hypot(*(road_points - head).T))
        assert nearest < 0.05 or name == "manston", name


paths = st.lists(st.tuples(st.floats(0.0, 2.5), st.floats(50.5, 51.5)), min_size=2,
                 max_size=8).map(lambda pts: [list(p) for p in pts])


@given(paths, st.floats(0.0, 400.0))
def test_cut_path_has_the_asked_length(path, km):
    total = path_km(path)[-1]
    part = cut_path(path, km)
    drawn = path_km(part)[-1] if len(part) >= 2 else 0.0
    assert math.isclose(drawn, min(km, total), rel_tol=1e-6, abs_tol=1e-6)
    if part:
        assert part[0] == path[0]


def test_offset_path_moves_the_line_sideways_by_the_distance():
    path = [[1.0, 51.0], [1.1, 51.0]]  # due east
    shifted = offset_path(path, 1.5)
    north_km = (shifted[0][1] - path[0][1]) * 110.57
    assert math.isclose(north_km, 1.5, rel_tol=1e-6)  # left of eastbound is north
    assert math.isclose(path_km(shifted)[-1], path_km(path)[-1], rel_tol=1e-9)
