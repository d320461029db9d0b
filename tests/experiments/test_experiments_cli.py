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
