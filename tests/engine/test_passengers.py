"""Vehicle classes in the event loop: shared roads, mixed decks, untouched lorries."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.engine import run_replication
from straits.engine.event_loop import ClassInput, run_direction
from straits.scenario import load_scenario
from straits.scenario.loading import scenario_from_text
from tests.engine.test_event_loop import single_terminal


def two_class_input(arrivals, classes, units, lorry_service, car_service, departures, capacity,
                    accepts, buffer=10**9):
    """One terminal: lorries (class 0) through stage 0, cars (class 1) through stage 1."""
    n = arrivals.shape[0]
    services = np.column_stack([lorry_service, car_service])
    d = single_terminal(arrivals, services, [1, 1], departures, capacity, buffer=buffer)
    return d._replace(classes=ClassInput(
        vehicle_class=np.asarray(classes, dtype=np.int64),
        units=np.asarray(units, dtype=np.int64),
        fixed_terminal=np.zeros(n, dtype=np.int64),
        path_offset=np.array([0, 1], dtype=np.int64),
        path_length=np.array([1, 1], dtype=np.int64),
        path_stage=np.array([0, 1], dtype=np.int64),
        departure_accepts=np.asarray(accepts, dtype=np.int64),
        buffer_units=np.array([buffer, buffer], dtype=np.int64)))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(1, 30)), min_size=1, max_size=60),
       st.lists(st.integers(0, 80), min_size=1, max_size=20))
def test_a_deck_is_never_exceeded(vehicles, decks):
    classes = [c for c, _ in vehicles]
    units = [u for _, u in vehicles]
    n = len(vehicles)
    arrivals = np.arange(n, dtype=float)
    departures = np.arange(1, len(decks) + 1) * 10.0
    d = two_class_input(arrivals, classes, units, np.full(n, 0.5), np.full(n, 0.5),
                        departures, decks, np.full(len(decks), 3))
    out = run_direction(d)
    assert np.all(out.departure_load <= np.asarray(decks))
    boarded = out.departure_index >= 0
    load = np.bincount(out.departure_index[boarded], weights=np.asarray(units)[boarded],
                       minlength=len(decks))
    assert np.array_equal(load, out.departure_load)


def test_a_shared_road_lets_vehicles_through_the_gate_in_arrival_order():
    # little room inside for each class: the road queue holds everyone, lorries and cars
    # in one FIFO whatever their own booths' speed; a car that finds its lanes full
    # holds the lorries behind it
    rng = np.random.default_rng(3)
    n = 400
    arrivals = np.sort(rng.uniform(0, 100, n))
    classes = rng.integers(0, 2, n)
    units = np.where(classes == 0, 18, 6)
    d = two_class_input(arrivals, classes, units, rng.exponential(3.0, n),
                        rng.exponential(0.5, n), np.arange(1, 400) * 5.0,
                        np.full(399, 60), np.full(399, 3), buffer=36)
    d = d._replace(horizon_minutes=150.0)
    out = run_direction(d)
    entered = ~np.isnan(out.gate_entry_minutes)
    assert 0 < entered.sum() < n  # the road queue held some back
    assert np.all(np.diff(out.gate_entry_minutes[entered]) >= 0)
    # those still outside (if any) are the latest to arrive
    assert np.array_equal(entered, np.arange(n) < entered.sum())


def test_separate_shuttles_take_only_their_classes():
    n = 40
    classes = np.arange(n) % 2
    d = two_class_input(np.arange(n, dtype=float), classes, np.ones(n, dtype=np.int64),
                        np.full(n, 0.1), np.full(n, 0.1), [50.0, 60.0], [100, 100], [1, 2])
    out = run_direction(d)
    assert np.all(out.departure_index[classes == 0] == 0)
    assert np.all(out.departure_index[classes == 1] == 1)


SEPARATE = """
extends: corridor-2015
name: cars-apart
horizon: 1d
route_choice: {rule: shares, shares: {ferry: 1.0, tunnel: 0.0}, captive_share: 1.0}
routes:
  tunnel: {passenger_departures_per_hour: 4, passenger_shuttle_lane_metres: 700}
terminals:
  folkestone: {passenger_lane_metres: 3000}
passengers:
  hgv_lane_metres: 18
  classes:
    car:
      lane_metres: 6
      people_per_vehicle: {values: [2, 4], weights: [1, 1]}
      southbound:
        vehicles_per_day: 3000
        hour_of_day: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        day_of_week: [1, 1, 1, 1, 1, 1, 1]
        shares: {ferry: 0.0, tunnel: 1.0, ferry-dunkirk: 0.0}
      stages:
        folkestone:
          - name: tourist_check_in
            booths: 4
            service_time: {distribution: deterministic, value: 30s}
"""


def test_a_class_sharing_nothing_leaves_the_lorries_bit_identical():
    # cars only on Le Shuttle's passenger shuttles, lorries only on the ferry
    with_cars = scenario_from_text(SEPARATE)
    alone = with_cars.model_copy(update={"passengers": None})
    a = run_replication(with_cars, seed=5).directions
    b = run_replication(alone, seed=5).directions
    assert a["southbound"].classes["car"].crossed.sum() > 0
    for direction in a:
        for field in ("arrival_minutes", "terminal", "gate_entry_minutes", "stage_end_minutes",
                      "departure_index", "departure_load", "exit_minutes"):
            x, y = getattr(a[direction], field), getattr(b[direction], field)
            assert np.array_equal(x, y, equal_nan=True), (direction, field)


def test_people_and_vehicles_are_conserved():
    records = run_replication(load_scenario("dover-summer-2023"), seed=2)
    for dr in records.directions.values():
        for cr in dr.classes.values():
            inside = ~np.isnan(cr.gate_entry_minutes)
            assert np.all(cr.crossed <= inside)
            assert np.all(cr.departure_minutes[cr.crossed] >= cr.gate_entry_minutes[cr.crossed])
            assert cr.people.shape == cr.arrival_minutes.shape and cr.people.min() >= 1


def test_a_per_person_stage_adds_each_persons_time_to_the_vehicles_own():
    from straits.engine.passengers import _step_service
    from straits.scenario.passengers import ClassStage

    step = ClassStage(name="passports", booths=1, per_person=True,
                      service_time={"distribution": "deterministic", "value": "10s"},
                      vehicle_overhead={"distribution": "deterministic", "value": "30s"})
    people = np.array([1, 4, 50])
    minutes = _step_service(None, "dover", step, people, np.random.default_rng(1))  # type: ignore[arg-type]
    assert np.allclose(minutes * 60, 30 + 10 * people)


def test_alternate_release_with_cars_keeps_rates_and_every_vehicle():
    """A shared ``alternate`` Stack holds lorries only: with cars on the same roads each
    terminal's lorries still leave at most at its rate, and every car is accounted for."""
    from straits.scenario.loading import scenario_from_mapping
    from tests.engine.invariants import check_records
    from tests.engine.test_alternate_release import alternating, releases_while_in_force

    rates = {"dover": 120.0, "dover-dunkirk": 60.0, "folkestone": 90.0}
    data = alternating(rates).model_dump(mode="json", exclude_none=True)
    data["terminals"]["dover"]["passenger_lane_metres"] = 600
    data["passengers"] = {"hgv_lane_metres": 18, "classes": {"car": {
        "lane_metres": 6, "people_per_vehicle": {"values": [2, 4], "weights": [1, 1]},
        "southbound": {"vehicles_per_day": 400, "hour_of_day": [1] * 24,
                       "day_of_week": [1] * 7,
                       "shares": {"ferry": 1.0, "tunnel": 0.0, "ferry-dunkirk": 0.0}},
        "stages": {"dover": [{"name": "tourist_border", "booths": 4,
                              "service_time": {"distribution": "deterministic",
                                               "value": "60s"}}]}}}}
    scenario = scenario_from_mapping(data)
    records = run_replication(scenario, seed=3)
    check_records(records, scenario)
    dr = records.directions["southbound"]
    counted = releases_while_in_force(dr)
    assert counted.any()
    for name, rate in rates.items():
        times = np.sort(dr.released_minutes[(dr.terminal == dr.layout.terminals.index(name))
                                            & counted])
        assert np.all(np.diff(times) >= 60.0 / rate - 1e-9), name
    cars = dr.classes["car"]
    assert cars.arrival_minutes.size > 0 and cars.crossed.sum() > 0
    inside = ~np.isnan(cars.gate_entry_minutes)
    assert np.all(cars.crossed <= inside)
    assert np.all(cars.departure_minutes[cars.crossed] >= cars.gate_entry_minutes[cars.crossed])
