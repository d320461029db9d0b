"""The shipped calibration, on a small budget, reproduces the shipped corridor (slow)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from straits.calibration.spec import load_spec
from straits.cli import app

runner = CliRunner()
SMALL_BUDGET = 28  # the 24 prior draws and one batch of the search


@pytest.mark.slow
def test_shipped_calibration_accepts_the_shipped_corridor_values(tmp_path):
    result = runner.invoke(app, ["calibrate", "--trials", str(SMALL_BUDGET), "--workers", "2",
                                 "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["accepted"], "no candidate put every target in its band"
    for p in load_spec().parameters:
        low, high = data["accepted_ranges"][p.path]
        assert p.search_value(low) <= p.search_value(p.corridor_value) <= p.search_value(high), (
            f"{p.path}: shipped {p.corridor_value} outside the accepted {low} to {high}")
    assert all(f["passed"] for f in data["best"]["fits"].values())
