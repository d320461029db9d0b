"""The security time series close the camp's balance from the files alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml
from typer.testing import CliRunner

from straits.cli import app
from tests.security.security_helpers import summer_levers

OUT_OF_CAMP = ("departures", "reached_uk_undetected", "detected_on_arrival_uk", "died",
               "returned_from_france")


def _balance_error(table) -> np.ndarray:
    column = {name: np.asarray(table[name], dtype=np.int64) for name in table.column_names
              if name != "time"}
    expected = column["population"] + column["arrivals"] - sum(column[k] for k in OUT_OF_CAMP)
    return column["population_end"] - expected


def test_hourly_and_daily_files_close_the_balance(tmp_path: Path) -> None:
    security = summer_levers()
    security["returns"] = {"share_of_detected": 0.5}  # returns from France and from the UK
    doc = {"extends": "corridor-2015", "name": "balance", "start": "2015-06-08T00:00",
           "horizon": "2d", "security": security}
    path = tmp_path / "balance.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    hourly = pq.read_table(out / "security_hourly.parquet")
    daily = pq.read_table(out / "security_daily.parquet")
    returned_uk = np.asarray(hourly["returned_from_uk"])
    assert returned_uk.sum() > 0, "the test exercises returns from the UK"
    assert np.all(returned_uk <= np.asarray(hourly["detected_on_arrival_uk"]))
    assert not np.any(_balance_error(hourly))
    assert not np.any(_balance_error(daily))
    population = np.asarray(hourly["population"])
    np.testing.assert_array_equal(population[1:], np.asarray(hourly["population_end"])[:-1])
