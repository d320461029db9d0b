"""The calibration worker: target measures come back through the task's hook and are
stored as KPI rows beside the run's own."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from straits.calibration.evaluation import (
    SPREAD_KPIS,
    TARGET_KPI,
    measure_targets,
    with_targets,
)
from tests.experiments.helpers import fake_outcome


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
