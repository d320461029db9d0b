"""Runs reach the report the same way whether kept in memory or in an --out folder."""

from __future__ import annotations

import numpy as np
import pyarrow.compute as pc
import pytest

from straits.cli.corridor import write_outputs
from straits.experiments.ensemble import ensemble, run_experiment
from straits.experiments.executors import InlineExecutor
from straits.experiments.store import ResultsStore
from straits.pipeline import simulate
from straits.report import render_report
from straits.report.kpi_table import kpi_rows
from straits.report.sources import SourceError, load_out_folder, load_run, run_from_results


def test_out_folder_gives_the_same_run_as_memory(tmp_path, slow_border):
    result = simulate(slow_border, 7)
    write_outputs(tmp_path / "run", result, force=False)
    loaded = load_out_folder(tmp_path / "run")
    direct = run_from_results([result])
    assert loaded.summary == direct.summary
    assert loaded.scenario == direct.scenario
    for column in ("minutes", "direction", "place", "kind", "lorries", "km"):
        a = loaded.replications[0].holding[column].to_numpy(zero_copy_only=False)
        b = direct.replications[0].holding[column].to_numpy(zero_copy_only=False)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), column
    memory = direct.replications[0].delays_minutes
    for name, delays in loaded.replications[0].delays_minutes.items():
        assert np.allclose(np.sort(delays), np.sort(memory[name]), atol=1e-3)
    assert loaded.label == "run"


def test_the_delay_chart_counts_the_lorries_the_delay_kpis_count(slow_border):
    """Lorries still waiting at the horizon are in the report's delays as in the
    headline KPIs (one computation), so histogram and KPI table agree."""
    result = simulate(slow_border, 7)
    kpis = result.summary["directions"]["southbound"]["delay_minutes"]
    assert kpis["censored_lorries"] > 0  # the run must end with lorries waiting
    delays = run_from_results([result]).replications[0].delays_minutes["southbound"]
    assert delays.size == (result.summary["directions"]["southbound"]["crossed"]
                           + kpis["censored_lorries"])
    assert delays.mean() == pytest.approx(kpis["mean"], abs=0.05)
    assert np.percentile(delays, 95) == pytest.approx(kpis["p95"], abs=0.05)
    rows = {row.label: row for row in kpi_rows(run_from_results([result]))
            if row.section == "southbound"}
    assert rows["delays censored at the horizon (still waiting)"].values == (
        kpis["censored_lorries"],)


def test_a_folder_that_is_not_a_run_is_refused_with_the_fix(tmp_path):
    (tmp_path / "summary.json").write_text("{}")
    with pytest.raises(SourceError, match=r"missing scenario\.yaml, holding_timeseries\.parquet"):
        load_out_folder(tmp_path)


def test_a_scenario_name_is_run_now_with_one_replication_per_seed(tmp_path):
    path = tmp_path / "one-day.yaml"
    path.write_text("extends: corridor-2015\nname: one-day\nstart: 2015-06-08T00:00\n"
                    "horizon: 6h\n")
    run = load_run(str(path), seeds=[3, 4])
    assert [r.summary["seed"] for r in run.replications] == [3, 4]
    assert run.is_ensemble and run.label == "one-day"


def test_an_ensemble_in_the_results_store_reports_like_the_runs_it_holds(tmp_path, slow_border):
    store_path = tmp_path / "results.duckdb"
    experiment = ensemble(slow_border, 2)
    with ResultsStore(store_path) as store:
        run_experiment(experiment, store, InlineExecutor())
    run = load_run(experiment.experiment_id, store=store_path)
    assert len(run.replications) == 2 and run.scenario == slow_border
    seeds = [r.summary["seed"] for r in run.replications]
    direct = run_from_results([simulate(slow_border, seed) for seed in seeds])
    stored_kpis = {(r.section, r.label): r.values for r in kpi_rows(run)}
    memory_kpis = {(r.section, r.label): r.values for r in kpi_rows(direct)}
    assert stored_kpis == memory_kpis and len(stored_kpis) > 50
    assert "keeps no decision log" in render_report(run)  # the store keeps none
    for stored, memory in zip(run.replications, direct.replications, strict=True):
        assert stored.delays_minutes is None and stored.departures is None
        queue = stored.holding.filter(pc.equal(stored.holding["kind"], "holding_area"))
        expected = memory.holding.filter(pc.equal(memory.holding["kind"], "holding_area"))
        assert np.allclose(queue["lorries"].to_numpy(), expected["lorries"].to_numpy(), atol=1e-3)
