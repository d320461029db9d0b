"""Statistics, constraint violations, constrained non-domination and the cost model."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from straits.optimisation.measures import Evaluation, front_ranks, statistic, violations
from straits.optimisation.spec import Constraint, Measure, study_from_text
from tests.optimisation.helpers import BOOTHS, toy_study_yaml


def _plan(values: list[float], plan: int = 1) -> Evaluation:
    return Evaluation(plan, {}, {"k": np.array(values)}, {"plan.cost_gbp": 5.0})


def test_statistics_over_replications() -> None:
    plan, base = _plan([1.0, 2.0, 3.0, 10.0]), _plan([1.0, 1.0, 1.0, 1.0], 0)
    assert statistic(Measure(kpi="k"), plan, None) == 4.0
    assert statistic(Measure(kpi="k", statistic="p50"), plan, None) == 2.5
    assert statistic(Measure(kpi="k", statistic="share_at_most", threshold=3), plan, None) == 0.75
    assert statistic(Measure(kpi="k", statistic="share_at_least", threshold=3), plan,
                     None) == 0.5
    assert statistic(Measure(kpi="k", relative_to_do_nothing=True), plan, base) == 3.0
    assert statistic(Measure(kpi="plan.cost_gbp"), plan, None) == 5.0


def test_violations_sign_and_do_nothing_bound() -> None:
    plan, base = _plan([4.0, 6.0]), _plan([5.0, 5.0], 0)
    at_most_base = Constraint(kpi="k", max="do_nothing")
    assert violations([at_most_base], plan, base) == [0.0]
    assert violations([Constraint(kpi="k", max=4)], plan, base)[0] == pytest.approx(0.25)
    assert violations([Constraint(kpi="k", min=6)], plan, base)[0] == pytest.approx(1 / 6)
    assert violations([Constraint(kpi="k", min=1, max=9)], plan, base)[0] < 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(-1, 2)),
                min_size=1, max_size=12))
def test_front_is_exactly_the_feasible_non_dominated_points(rows) -> None:
    points = np.array([[a, b] for a, b, _ in rows], dtype=float)
    violation = np.array([[v] for _, _, v in rows], dtype=float)
    ranks = front_ranks(points, violation)
    feasible = [i for i, (_, _, v) in enumerate(rows) if v <= 0]
    expected = {i for i in feasible
                if not any(np.all(points[j] <= points[i]) and np.any(points[j] < points[i])
                           for j in feasible)}
    if feasible:
        assert {i for i in range(len(rows)) if ranks[i] == 0} == expected
    assert all(ranks[i] > ranks[j] for i in range(len(rows)) if rows[i][2] > 0
               for j in feasible)


def test_cost_model_charges_added_units_and_saves_running_costs() -> None:
    loaded = study_from_text(toy_study_yaml(0.5))
    base = loaded.defaults[BOOTHS]
    hours = loaded.base.horizon / 60.0
    more = loaded.costs({BOOTHS: base + 2})
    assert more["plan.capital_gbp"] == 2 * 100_000
    assert more["plan.running_gbp"] == pytest.approx(2 * 50 * hours)
    fewer = loaded.costs({BOOTHS: base - 1})
    assert fewer["plan.capital_gbp"] == 0
    assert fewer["plan.running_gbp"] == pytest.approx(-50 * hours)
    assert loaded.costs({}) == {"plan.capital_gbp": 0, "plan.running_gbp": 0, "plan.cost_gbp": 0}
