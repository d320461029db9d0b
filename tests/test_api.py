"""The Python API: doctests, tables, figures, the same numbers as the command line,
and the documented example script."""

from __future__ import annotations

import doctest
import json
import runpy
import time
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from typer.testing import CliRunner

import straits
import straits.api
from straits.cli import app
from straits.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BOOTHS = "terminals.dover.stages.french_border.booths"


@pytest.fixture(scope="module")
def short():
    return straits.override(straits.load("baseline"), {"horizon": "6h"})


@pytest.fixture(scope="module")
def short_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("api") / "short.yaml"
    path.write_text("extends: baseline\nname: short\nhorizon: 6h\n")
    return path


def test_doctests():
    result = doctest.testmod(straits.api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0


def test_the_package_lists_its_api():
    assert {"load", "override", "run", "ensemble", "sweep", "Run", "Scenario"} <= set(dir(straits))
    with pytest.raises(AttributeError):
        straits.no_such_thing  # noqa: B018


def test_override_uses_the_set_mechanism(short):
    changed = straits.override(short, {BOOTHS: 3, "horizon": "2h"})
    assert changed.terminals["dover"].stages[1].booths == 3 and changed.horizon == 120
    with pytest.raises(ScenarioError, match="valid choices"):
        straits.override(short, {"terminals.dover.stages.no_such_stage.booths": 3})


def test_a_run_matches_the_command_line(short, short_file):
    result = straits.run(short_file, seed=3)
    cli = json.loads(CliRunner().invoke(app, ["run", str(short_file), "--seed", "3",
                                              "--json"]).stdout)
    assert json.loads(json.dumps(result.kpis)) == cli
    lorries = result.lorries
    assert isinstance(lorries, pd.DataFrame)
    assert len(lorries) == sum(d["arrived"] for d in result.kpis["directions"].values())
    crossed = lorries["departure_minutes"].notna().sum()
    assert crossed == sum(d["crossed"] for d in result.kpis["directions"].values())
    assert {"minutes", "place", "lorries", "km"} <= set(result.timeseries.columns)
    assert {"capacity", "load"} <= set(result.departures.columns)


def test_figures_and_report(short, tmp_path):
    result = straits.run(short)
    figures = result.figures()
    assert {"map", "queue_lorries", "delay", "throughput"} <= set(figures)
    assert all(isinstance(f, go.Figure) for f in figures.values())
    target = result.report(tmp_path / "new" / "r.html")
    assert target.read_text().startswith("<!DOCTYPE html>")


def test_ensemble_is_the_command_lines_ensemble(short_file, tmp_path):
    table = straits.ensemble(short_file, replications=3)
    store = tmp_path / "s.duckdb"
    cli = json.loads(CliRunner().invoke(app, ["ensemble", str(short_file), "-n", "3", "--store",
                                              str(store), "--workers", "1", "--json"]).stdout)
    assert set(table["kpi"]) == set(cli["kpis"])
    for row in table.itertuples():
        assert row.n == 3
        assert row.mean == pytest.approx(cli["kpis"][row.kpi]["mean"], rel=1e-12, abs=1e-12)


def test_sweep_is_tidy_with_a_column_per_path(short):
    table = straits.sweep(short, {BOOTHS: [2, 9]}, replications=2)
    assert set(table[BOOTHS]) == {2, 9}
    assert (table.groupby(BOOTHS)["kpi"].nunique() == table["kpi"].nunique()).all()
    delay = table[table["kpi"] == "directions.southbound.delay_minutes.mean"].set_index(BOOTHS)
    assert delay.loc[2, "mean"] > delay.loc[9, "mean"]  # 2 booths against 9 at the border


def test_the_example_script_runs_in_under_a_minute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    began = time.perf_counter()
    runpy.run_path(str(ROOT / "docs" / "examples" / "quickstart.py"), run_name="__main__")
    assert time.perf_counter() - began < 60
    assert (tmp_path / "queue.html").stat().st_size > 1000


@pytest.mark.parametrize("page", ["README.md", "docs/api.md"])
def test_python_examples_in_the_docs_run(page, tmp_path, monkeypatch):
    """Every ```python block of the page runs as written (in a scratch folder)."""
    import re

    blocks = re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(), re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("plotly.graph_objects.Figure.show", lambda self, *a, **k: None)
    for block in blocks:
        exec(compile(block, page, "exec"), {"__name__": "__docs__"})
