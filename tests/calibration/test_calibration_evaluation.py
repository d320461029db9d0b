"""The calibration worker: target measures come back through the task's hook and are
stored as KPI rows beside the run's own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from straits.calibration.evaluation import (
    SPREAD_KPIS,
    TARGET_KPI,
    Evaluator,
    measure_targets,
    with_targets,
)
from straits.calibration.spec import load_spec
from straits.experiments.sweep import apply_overrides, read_path, scenario_mapping
from straits.scenario import load_scenario
from straits.validation.targets import TARGETS
from tests.experiments.helpers import fake_outcome

PASSPORT = "passengers.classes.car.stages.dover.tourist_french_border.service_time.mean"
BUFFER = "terminals.dover.buffer_lorries"
SPEC = f"""\
name: homed
parameters:
  - path: {BUFFER}
    low: 200
    high: 900
  - path: {PASSPORT}
    scenario: dover-summer-2023
    low: 3.75s
    high: 15s
targets: [summer-2023-peak-hour, easter-2023-coaches, checks-2min, own-peak-hour]
"""


def test_measure_targets_names_each_target():
    measured = measure_targets((("a", lambda run: 2), ("b", lambda run: run * 1.5)), 4.0)
    assert measured == {TARGET_KPI + "a": 2.0, TARGET_KPI + "b": 6.0}


def test_stored_result_holds_the_targets_the_spread_kpis_and_only_the_series_totals():
    spread = SPREAD_KPIS[1]
    plain = fake_outcome(1, {"x": 1.0, spread: 2.0}, level=3.0)
    stored = with_targets(replace(plain, measured={"target.a": 5.0}))
    assert stored.kpi_names == [spread, "target.a"]
    assert stored.kpi_values.tolist() == [2.0, 5.0]
    assert stored.series.places == ["total"]
    assert np.array_equal(stored.series.lorries, plain.series.lorries[[1]])


def test_a_value_homed_in_a_scenario_reaches_it_and_its_heirs_only(tmp_path):
    summer = scenario_mapping(load_scenario("dover-summer-2023"))
    own = apply_overrides({**summer, "name": "own-stamping"}, {PASSPORT: "9.9s"})
    peak = next(t for t in TARGETS if t.key == "summer-2023-peak-hour")
    catalogue = (*TARGETS, replace(peak, key="own-peak-hour", scenario="own-stamping"))
    path = tmp_path / "homed.yaml"
    path.write_text(SPEC)
    spec = load_spec(path, catalogue)
    evaluator = Evaluator(spec, None, None, {"own-stamping": own})  # type: ignore[arg-type]
    experiment = evaluator.experiment({BUFFER: 555, PASSPORT: "12.3s"}, 1)
    built = {p.scenario.name: scenario_mapping(p.scenario) for p in experiment.points}
    assert list(built) == ["dover-summer-2023", "dover-easter-2023", "dover-checks-2018",
                           "own-stamping"]
    assert read_path(built["dover-summer-2023"], PASSPORT) == "12.3s"  # its home
    assert read_path(built["dover-easter-2023"], PASSPORT) == "12.3s"  # restates the same
    assert read_path(built["own-stamping"], PASSPORT) == "9.9s"  # sets its own
    assert "passengers" not in built["dover-checks-2018"]  # lorries only: nothing added
