"""The experiment commands: JSON contracts, the results commands, and bad input exiting 2."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from straits.cli import app

runner = CliRunner()
SHORT = "extends: baseline\nname: short\nhorizon: 1d\n"
BOOTHS = "terminals.dover.stages.french_border.booths"


@pytest.fixture
def short_file(tmp_path: Path) -> str:
    path = tmp_path / "short.yaml"
    path.write_text(SHORT)
    return str(path)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return str(tmp_path / "results.duckdb")


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_ensemble_json_reports_mean_ci_and_percentiles(short_file, store):
    code, out, err = invoke("ensemble", short_file, "-n", "3", "--workers", "1", "--store",
                            store, "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["replications"] == 3 and data["run"]["replications_run"] == 3
    delay = data["kpis"]["directions.southbound.delay_minutes.mean"]
    assert set(delay) >= {"n", "mean", "std", "ci95_low", "ci95_high", "p5", "p50", "p95"}
    assert delay["n"] == 3 and delay["ci95_low"] < delay["mean"] < delay["ci95_high"]
    bands = pq.read_table(data["bands_file"]).to_pylist()
    total = [r for r in bands if r["place"] == "total" and r["direction"] == "southbound"]
    assert len(total) == 24 * 4 + 1
    assert all(r["lorries_p5"] <= r["lorries_p50"] <= r["lorries_p95"] for r in total)
    # the same command again runs nothing and reports the same numbers
    code, again, _ = invoke("ensemble", short_file, "-n", "3", "--workers", "1", "--store",
                            store, "--json")
    assert json.loads(again)["run"]["replications_run"] == 0
    assert json.loads(again)["kpis"] == data["kpis"]


def test_results_list_show_and_export(short_file, store, tmp_path):
    code, out, err = invoke("ensemble", short_file, "-n", "2", "--workers", "1", "--store",
                            store, "--json")
    assert code == 0, err
    experiment = json.loads(out)["experiment_id"]
    code, out, _ = invoke("results", "list", "--store", store, "--json")
    assert code == 0 and json.loads(out)[0]["experiment_id"] == experiment
    assert json.loads(out)[0]["done"] == 2
    code, out, _ = invoke("results", "show", experiment, "--store", store, "--kpi", "cost_gbp",
                          "--json")
    assert code == 0 and list(json.loads(out)["points"][0]["kpis"]) == ["cost_gbp"]
    for what, suffix in (("kpis", "csv"), ("runs", "parquet"), ("statistics", "csv"),
                         ("bands", "parquet"), ("timeseries", "parquet")):
        target = tmp_path / f"{what}.{suffix}"
        code, _, err = invoke("results", "export", experiment, "--store", store, "--what", what,
                              "--out", str(target))
        assert code == 0, err
        assert target.stat().st_size > 0
    csv_path = tmp_path / "kpis.csv"
    rows = duckdb.connect().execute(f"SELECT count(*) FROM '{csv_path}'").fetchone()[0]
    assert rows == 2 * len(json.loads(invoke("results", "show", experiment, "--store", store,
                                             "--json")[1])["points"][0]["kpis"])


def test_sweep_json_has_a_row_per_point(short_file, store):
    code, out, err = invoke("sweep", short_file, "--vary", f"{BOOTHS}=5,10", "-n", "1",
                            "--workers", "1", "--store", store, "--json",
                            "--kpi", "directions.southbound.delay_minutes.mean")
    assert code == 0, err
    points = json.loads(out)["points"]
    assert [p["parameters"] for p in points] == [{BOOTHS: 5}, {BOOTHS: 10}]
    delays = [p["kpis"]["directions.southbound.delay_minutes.mean"]["mean"] for p in points]
    assert delays[0] > delays[1]


def test_sensitivity_json_ranks_parameters(short_file, store):
    code, out, err = invoke("sensitivity", short_file, "--param",
                            "demand.southbound.lorries_per_day=4000:8000", "--param",
                            "cost.delay_gbp_per_lorry_hour=20:80", "--samples", "2",
                            "--workers", "1", "--store", store, "--json",
                            "--kpi", "directions.southbound.delay_minutes.mean")
    assert code == 0, err
    ranking = json.loads(out)["rankings"]["directions.southbound.delay_minutes.mean"]
    assert [r["parameter"] for r in ranking] == ["demand.southbound.lorries_per_day",
                                                 "cost.delay_gbp_per_lorry_hour"]


@pytest.mark.parametrize(("args", "expected"), [
    (["sweep", "--vary", "terminals.dovr.buffer_lorries=5,6"],
     ["terminals.dovr.buffer_lorries", "dover, dover-dunkirk, folkestone, calais, coquelles"]),
    (["sweep", "--vary", "terminals.dover.stages.passport.booths=5"],
     ["terminals.dover.stages.passport.booths", "uk_exit, french_border, check_in"]),
    (["sweep", "--vary", f"{BOOTHS}=5,-2"], [BOOTHS.rsplit(".", 2)[0], "greater than or equal"]),
    (["sweep", "--vary", f"{BOOTHS}=five"], ["booths", "five"]),
    (["sweep", "--vary", BOOTHS], ["--vary", "PATH=VALUE"]),
    (["sweep", "--vary", f"{BOOTHS}=4:8"], [BOOTHS, "--design lhs"]),
    (["sweep", "--vary", f"{BOOTHS}=4:8", "--design", "lhs"], ["--samples"]),
    (["sweep", "--vary", f"{BOOTHS}=4,8", "--design", "cube"], ["--design", "grid or lhs"]),
    (["sensitivity", "--param", f"{BOOTHS}=4,8"], [BOOTHS, "lo:hi"]),
    (["sensitivity", "--param", f"{BOOTHS}=4:8", "--method", "sobol", "--samples", "6"],
     ["power of 2"]),
    (["sensitivity", "--param", f"{BOOTHS}=4:8", "--method", "fast"], ["morris or sobol"]),
    (["ensemble", "--kpi", "directions.southbound.delay"], ["--kpi", "unknown KPI"]),
    (["ensemble", "--dask", "remote"], ["--dask", "--dask-scheduler"]),
    (["ensemble", "--dask-scheduler", "localhost"], ["tcp://HOST:PORT"]),
    (["ensemble", "--set", "horizon=-1d"], ["horizon"]),
])
def test_bad_input_exits_2_naming_the_problem(short_file, store, args, expected):
    command, *rest = args
    code, out, err = invoke(command, short_file, "--store", store, "-n", "1", "--workers", "1",
                            *rest)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    flat = " ".join(err.split())
    for text in expected:
        assert text in flat, flat


def test_results_on_a_missing_store_or_experiment_exit_2(tmp_path, short_file, store):
    code, _, err = invoke("results", "list", "--store", str(tmp_path / "none.duckdb"))
    assert code == 2 and "no results store" in err
    invoke("ensemble", short_file, "-n", "1", "--workers", "1", "--store", store)
    code, _, err = invoke("results", "show", "ens-nothere", "--store", store)
    assert code == 2 and "no experiment 'ens-nothere'" in err


def _ensemble(short_file: str, store: str, replications: int = 2) -> str:
    code, out, err = invoke("ensemble", short_file, "-n", str(replications), "--workers", "1",
                            "--store", store, "--json")
    assert code == 0, err
    return json.loads(out)["experiment_id"]


def _export(store: str, experiment: str, what: str, target: Path) -> tuple[int, str]:
    code, _, err = invoke("results", "export", experiment, "--store", store, "--what", what,
                          "--out", str(target))
    return code, err


def test_a_moved_store_reads_its_own_files(short_file, tmp_path):
    import shutil

    first = tmp_path / "a" / "r.duckdb"
    experiment = _ensemble(short_file, str(first))
    assert _export(str(first), experiment, "timeseries", tmp_path / "before.parquet")[0] == 0
    moved = tmp_path / "b" / "copy.duckdb"
    moved.parent.mkdir()
    shutil.copy(first, moved)
    shutil.copytree(tmp_path / "a" / "r-files", tmp_path / "b" / "copy-files")
    for series in (tmp_path / "a" / "r-files" / "timeseries").glob("*/*.parquet"):
        series.write_bytes(b"not parquet")  # the original's files: a copy must never read them
    code, err = _export(str(moved), experiment, "timeseries", tmp_path / "after.parquet")
    assert code == 0, err
    assert pq.read_table(tmp_path / "after.parquet").equals(
        pq.read_table(tmp_path / "before.parquet"))
    code, out, err = invoke("results", "sql", "SELECT count(*) AS n FROM timeseries",
                            "--experiment", experiment, "--store", str(moved), "--format", "json")
    assert code == 0, err
    assert json.loads(out)[0]["n"] == pq.read_table(tmp_path / "after.parquet").num_rows


def test_a_damaged_series_file_is_one_line_exit_2(short_file, store, tmp_path):
    experiment = _ensemble(short_file, store)
    series = next((tmp_path / "results-files" / "timeseries").glob("*/*.parquet"))
    series.write_bytes(series.read_bytes()[:100])
    for what in ("bands", "timeseries"):
        code, err = _export(store, experiment, what, tmp_path / f"{what}.parquet")
        assert code == 2, err
        assert err.count("\n") == 1 and "Traceback" not in err and "damaged" in err
    code, _, err = invoke("results", "sql", "SELECT count(*) FROM timeseries", "--store", store)
    assert code == 2 and err.count("\n") == 1 and "damaged" in err
    assert invoke("results", "list", "--store", store)[0] == 0  # the rest stays readable
    assert _export(store, experiment, "kpis", tmp_path / "kpis.csv")[0] == 0


def test_results_sql_is_read_only_and_scoped_to_an_experiment(short_file, store):
    one = _ensemble(short_file, store, 2)
    _ensemble(short_file, store, 3)
    count = "SELECT count(DISTINCT replication) AS n FROM runs"
    code, out, err = invoke("results", "sql", count, "--store", store, "--format", "json")
    assert code == 0, err and json.loads(out) == [{"n": 3}]
    code, out, err = invoke("results", "sql", count, "--experiment", one, "--store", store,
                            "--format", "csv")
    assert code == 0, err
    assert out.splitlines() == ['"n"', "2"]
    code, _, err = invoke("results", "sql", "DELETE FROM runs", "--store", store)
    assert code == 2 and "read-only" in err and err.count("\n") == 1
    code, _, err = invoke("results", "sql", "SELECT nonsense FROM runs", "--store", store)
    assert code == 2 and "QUERY" in err


def test_sweep_target_marks_the_first_point_that_meets_it(short_file, store):
    args = ("sweep", short_file, "--vary", f"{BOOTHS}=4,6,12", "-n", "2", "--workers", "1",
            "--store", store, "--json")
    code, out, err = invoke(*args)
    assert code == 0, err
    delay = "directions.southbound.delay_minutes.mean"
    means = [p["kpis"][delay]["mean"] for p in json.loads(out)["points"]]
    assert means[0] > means[1] > means[2]
    threshold = (means[0] + means[1]) / 2  # met by points 1 and 2, not 0
    code, out, err = invoke(*args, "--target", f"southbound.delay_minutes.mean<{threshold}")
    assert code == 0, err
    target = json.loads(out)["target"]
    assert target["kpis"] == [delay] and target["points_meeting"] == [1, 2]
    assert target["cheapest_point"] == 1
    code, out, err = invoke(*args, "--stat", "p95", "--target", "delay_minutes.mean<0")
    assert code == 0, err
    target = json.loads(out)["target"]
    assert target["stat"] == "p95" and target["cheapest_point"] is None
    assert len(target["kpis"]) == 2  # both directions


@pytest.mark.parametrize(("args", "expected"), [
    (["--vary", f"{BOOTHS}=,,"], ["no values"]),
    (["--vary", f"{BOOTHS}={','.join(map(str, range(1, 31)))}",
      "--vary", f"terminals.dover.stages.check_in.booths={','.join(map(str, range(1, 31)))}",
      "--vary", f"terminals.dover.stages.uk_exit.booths={','.join(map(str, range(1, 31)))}"],
     ["27,000 points", "30 × 30 × 30", "10,000"]),
    (["--vary", f"{BOOTHS}=4:8", "--design", "lhs", "--samples", "20000"], ["20,000 points"]),
    (["--vary", f"{BOOTHS}=4,8", "--stat", "median"], ["--stat", "mean, p50, p95"]),
    (["--vary", f"{BOOTHS}=4,8", "--target", "queue_peak_km<<10"], ["--target", "e.g."]),
    (["--vary", f"{BOOTHS}=4,8", "--target", "no_such_kpi<10"], ["--target", "no KPI"]),
])
def test_sweep_plans_are_refused_before_running(short_file, store, args, expected, monkeypatch):
    import straits.experiments.ensemble

    monkeypatch.setattr(straits.experiments.ensemble, "run_experiment", _refuse)
    code, out, err = invoke("sweep", short_file, "--store", store, "-n", "1", "--workers", "1",
                            *args)
    assert code == 2, (out, err)
    assert err.count("\n") == 1 and "Traceback" not in err
    flat = " ".join(err.split())
    for text in expected:
        assert text in flat, flat


def _refuse(*args, **kwargs):
    raise AssertionError("ran before refusing the plan")


def _whole_at_80(out: str) -> None:
    """No line over 80 columns, and no table cropped at the right edge."""
    for line in out.splitlines():
        assert len(line) <= 80, line
        if line[:1] in "┏┃┡│└":
            assert line[-1] in "┓┃┩│┘", line


def test_tables_fold_at_80_columns_and_drop_nothing(short_file, store, monkeypatch):
    from straits.cli.app import console

    monkeypatch.setattr(console, "width", 80)
    code, out, err = invoke("ensemble", short_file, "-n", "2", "--workers", "1", "--store", store)
    assert code == 0, err
    _whole_at_80(out)
    for header in ("KPI", "mean ± 95% CI", "p5", "p50", "p95"):
        assert header in out
    assert "…" not in out
    assert "southbound.queue_peak_km" in _first_column(out)
    code, out, err = invoke("sweep", short_file, "--vary", f"{BOOTHS}=6,12", "-n", "2",
                            "--workers", "1", "--store", store, "--target", "queue_peak_km<10")
    assert code == 0, err
    _whole_at_80(out)
    assert "…" not in out
    assert "✓ first" in out and "the cheapest (first) is point" in out
    assert " km" in out and "mi)" in out


def _first_column(out: str) -> str:
    """The text of a rich table's first column, folded lines joined."""
    return "".join(line.split("│")[1].strip() for line in out.splitlines()
                   if line.startswith("│"))


@pytest.mark.parametrize("text", ["[/]", "[bold]x[/]", "plan[v2].yaml"])
def test_query_results_are_printed_as_written(short_file, store, text):
    _ensemble(short_file, store, 1)
    code, out, err = invoke("results", "sql", f"SELECT '{text}' AS \"{text}\"", "--store", store)
    assert code == 0, err
    assert out.count(text) == 2  # the header and the cell, never read as markup


@pytest.mark.parametrize("where", ["under_a_file", "a_folder", "a_text_file"])
def test_an_unusable_store_is_one_line_before_any_run(short_file, tmp_path, where, monkeypatch):
    import straits.experiments.ensemble

    monkeypatch.setattr(straits.experiments.ensemble, "run_experiment", _refuse)
    (tmp_path / "plain.txt").write_text("not a database")
    (tmp_path / "folder.duckdb").mkdir()
    store = {"under_a_file": tmp_path / "plain.txt" / "r.duckdb",
             "a_folder": tmp_path / "folder.duckdb", "a_text_file": tmp_path / "plain.txt"}[where]
    for command in (["ensemble", short_file, "-n", "1", "--workers", "1"], ["results", "list"]):
        code, out, err = invoke(*command, "--store", str(store))
        assert code == 2, (out, err)
        assert err.count("\n") == 1 and "Traceback" not in err and "store" in err


def test_export_to_an_unwritable_place_is_refused_before_reading(short_file, store, tmp_path):
    experiment = _ensemble(short_file, store, 1)
    (tmp_path / "plain.txt").write_text("x")
    code, err = _export(store, experiment, "kpis", tmp_path / "plain.txt" / "kpis.csv")
    assert code == 2 and "--out: cannot write in" in err
    code, err = _export(store, experiment, "kpis", tmp_path / "new" / "deeper" / "kpis.csv")
    assert code == 0, err
    assert (tmp_path / "new" / "deeper" / "kpis.csv").stat().st_size > 0


def test_ensemble_table_shows_the_headline_kpis_unless_all(short_file, store):
    code, out, err = invoke("ensemble", short_file, "-n", "2", "--workers", "1", "--store", store)
    assert code == 0, err
    shown = _first_column(out)
    assert "southbound.delay_minutes.mean" in shown and "holding." not in shown
    code, out, err = invoke("ensemble", short_file, "-n", "2", "--workers", "1", "--store", store,
                            "--all")
    assert code == 0, err
    assert "holding." in _first_column(out)
