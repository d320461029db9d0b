"""The search on a toy problem with a known answer, and the out-of-sample check."""

from __future__ import annotations

from pathlib import Path

import pytest

from straits.optimisation.search import study_seed_key
from straits.optimisation.spec import study_from_text
from straits.optimisation.study import run_study
from tests.optimisation.helpers import BOOTHS, ToyEvaluator, erlang_c_wait_minutes, toy_study_yaml

TARGET_MINUTES = 0.5


def cheapest_feasible_booths(target: float) -> int:
    return next(c for c in range(1, 100) if erlang_c_wait_minutes(c) <= target)


def test_finds_the_cheapest_booth_count_that_meets_an_erlang_c_wait_target(tmp_path: Path):
    loaded = study_from_text(toy_study_yaml(TARGET_MINUTES))
    result = run_study(loaded, ToyEvaluator(), tmp_path)
    expected = cheapest_feasible_booths(TARGET_MINUTES)
    assert expected == 11  # the theory: 10 booths wait 0.82 min, 11 wait 0.33 min
    assert [e.values[BOOTHS] for e in result.found.front] == [expected]
    best = result.found.front[0]
    assert best.replications == loaded.study.budget.front_replications
    assert best.kpis["toy.wait_minutes"].mean() == pytest.approx(
        erlang_c_wait_minutes(expected), rel=0.25)
    assert result.recommended is not None and result.recommended.holds


def test_a_plan_that_fails_on_fresh_seeds_is_never_reported_as_met(tmp_path: Path):
    loaded = study_from_text(toy_study_yaml(TARGET_MINUTES))
    key = study_seed_key(loaded, loaded.study.budget.seed)
    result = run_study(loaded, ToyEvaluator(search_key=key, fresh_penalty_minutes=10.0),
                       tmp_path)
    assert result.found.front  # feasible on the search's seeds ...
    assert result.reruns and not any(r.holds for r in result.reruns)  # ... not on fresh ones
    assert all(not c.met for r in result.reruns for c in r.checks)
    assert result.recommended is None


def test_a_killed_study_resumes_to_the_same_front(tmp_path: Path):
    loaded = study_from_text(toy_study_yaml(TARGET_MINUTES, trials=18))
    whole = run_study(loaded, ToyEvaluator(), tmp_path / "whole")

    class Killed(ToyEvaluator):
        def evaluate(self, plans, replications, seed_key, kpis):
            if len(self.calls) == 3:  # do-nothing, batch 1, its near-front top-up, then die
                raise KeyboardInterrupt
            return super().evaluate(plans, replications, seed_key, kpis)

    with pytest.raises(KeyboardInterrupt):
        run_study(loaded, Killed(), tmp_path / "killed")
    resumed_evaluator = ToyEvaluator()
    resumed = run_study(loaded, resumed_evaluator, tmp_path / "killed")
    assert ([(e.plan, e.values) for e in resumed.found.evaluations]
            == [(e.plan, e.values) for e in whole.found.evaluations])
    assert [e.values for e in resumed.found.front] == [e.values for e in whole.found.front]


def test_outputs_table_chart_and_plan_scenarios(tmp_path: Path):
    from straits.optimisation.outputs import write_outputs
    from straits.scenario import load_scenario

    loaded = study_from_text(toy_study_yaml(TARGET_MINUTES, trials=12))
    result = run_study(loaded, ToyEvaluator(), tmp_path)
    summary = write_outputs(result, tmp_path)
    front = result.found.front
    assert (tmp_path / "front.csv").read_text().count("\n") == 1 + len(front) + 1  # do-nothing
    page = (tmp_path / "report.html").read_text()
    assert "plotly_click" in page and f"plans/plan-{front[0].plan}.html" in page
    plan_yaml = tmp_path / "plans" / f"plan-{front[0].plan}.yaml"
    scenario = load_scenario(plan_yaml)
    booths = {s.name: s.booths for s in scenario.terminals["dover"].stages}["check_in"]
    assert booths == front[0].values[BOOTHS]
    assert summary["front"][0]["out_of_sample"] in ("holds", "FAILS")
