"""Calibration of the built-ins against facts F4 (targets and tolerances: docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from straits.cli import app
from straits.pipeline import simulate
from straits.scenario import load_scenario

SEEDS = (1, 2, 3)
runner = CliRunner()


@pytest.fixture(scope="module")
def summer() -> list[dict]:
    scenario = load_scenario("calais-summer-2015")
    return [simulate(scenario, s).summary for s in SEEDS]


@pytest.fixture(scope="module")
def autumn() -> list[dict]:
    scenario = load_scenario("calais-autumn-2015")
    return [simulate(scenario, s).summary for s in SEEDS]


def _period(summaries: list[dict], name: str, pick) -> np.ndarray:
    return np.array([pick(s["security"]["periods"][name]) for s in summaries], dtype=float)


def _tunnel_per_night(period: dict) -> float:
    return period["attempts"]["by_target"]["tunnel"]["total"] / (period["hours"] / 24)


@pytest.mark.slow
def test_summer_late_july_tunnel_attempts_of_order_2000_a_night(summer) -> None:
    nightly = _period(summer, "late-july-nights", _tunnel_per_night)  # F4.2
    assert np.all((nightly >= 750) & (nightly <= 2500)), nightly


@pytest.mark.slow
def test_summer_eurotunnel_interceptions_january_to_july(summer) -> None:
    count = _period(summer, "jan-to-jul-29", lambda p: p["eurotunnel_interceptions"])  # F4.2
    assert np.all((count >= 0.75 * 37_000) & (count <= 1.25 * 37_000)), count


@pytest.mark.slow
def test_summer_mid_august_tunnel_attempts_fall(summer) -> None:
    nightly = _period(summer, "mid-august-nights", _tunnel_per_night)  # F4.2: 100-200
    assert np.all((nightly >= 50) & (nightly <= 400)), nightly


@pytest.mark.slow
def test_summer_detections_consistent_with_home_office_figures(summer) -> None:
    six_weeks = _period(summer, "six-weeks-june-july", lambda p: p["uk_border_detections"])
    assert np.all((six_weeks >= 0.8 * 8_000) & (six_weeks <= 2 * 8_000)), six_weeks  # F4.3
    per_day = _period(summer, "jan-to-jul-29",
                      lambda p: p["uk_border_detections"] / (p["hours"] / 24))
    assert np.all((per_day >= 70) & (per_day <= 160)), per_day  # F4.3: 39,000 a year ≈ 107/day


@pytest.mark.slow
def test_summer_deaths_of_the_order_reported(summer) -> None:
    june_july = _period(summer, "jun-1-to-jul-29", lambda p: p["harm"]["deaths"]["total"])
    to_august = _period(summer, "jun-1-to-aug-20", lambda p: p["harm"]["deaths"]["total"])
    assert np.all((june_july >= 3) & (june_july <= 18)), june_july  # F4.4: 8-9
    assert 5 <= june_july.mean() <= 13, june_july
    assert 7 <= to_august.mean() <= 20, to_august  # F4.4: at least 10 by 20 August


@pytest.mark.slow
def test_summer_population_and_suspensions(summer) -> None:
    late_july = _period(summer, "late-july-nights", lambda p: p["population"]["peak"])
    assert np.all((late_july >= 2_500) & (late_july <= 5_000)), late_july  # F4.1
    for s in summer:
        sec = s["security"]
        assert sec["coupling"]["converged"], sec["coupling"]
        assert sec["tunnel"]["suspension_hours"] >= 5  # F4.6: repeatedly suspended
        assert s["stack_or_brock"]["days_active"] >= 20  # F3.2: the strike still drives Stack


@pytest.mark.slow
def test_autumn_near_zero_intrusions_and_shuttles_restored(autumn) -> None:
    for s in autumn:
        sec = s["security"]
        days = s["horizon_hours"] / 24
        assert sec["tunnel"]["intrusions"] / days <= 5  # F4.2: "virtually zero"
        assert sec["tunnel"]["intrusions_per_night_max"] <= 15
        assert sec["tunnel"]["suspension_hours"] <= 2
        for direction in ("southbound", "northbound"):
            tunnel = s["directions"][direction]["routes"]["tunnel"]
            assert tunnel["crossed"] >= 0.99 * tunnel["arrived"]
            # F4.6: ~6,800 trucks a day both ways; capacity is back to the full timetable
            assert tunnel["capacity_lorries"] / days >= 0.99 * 6 * 32 * 24
        assert sum(s["directions"][d]["routes"]["tunnel"]["capacity_lorries"]
                   for d in ("southbound", "northbound")) / days >= 6_800


def test_cli_prints_the_security_object_and_writes_series(tmp_path: Path) -> None:
    out = tmp_path / "autumn"
    result = runner.invoke(app, ["run", "calais-autumn-2015", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    security = json.loads(result.output)["security"]
    for key in ("population", "attempts", "outcomes", "detections_by_layer", "people_reaching_uk",
                "tunnel", "harm", "cost_of_measures_gbp", "coupling"):
        assert key in security
    assert security["harm"]["deaths"]["total"] == security["outcomes"]["died"]
    hourly = pq.read_table(out / "security_hourly.parquet")
    assert hourly.num_rows == load_scenario("calais-autumn-2015").horizon / 60  # one row an hour
    assert (out / "security_daily.parquet").is_file()
    saved = json.loads((out / "summary.json").read_text())
    assert saved["security"] == security
