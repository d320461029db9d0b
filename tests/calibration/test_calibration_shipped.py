"""The shipped calibration, on a small budget, reproduces the hand-fitted corridor (slow).

The three values docs/validation.md fitted by hand, one target at a time, must lie in
the ranges the joint calibration accepts. (The spread of Dover's border times is freed
as well; it was an assumption, not a fit, and the targets pin it only weakly.)
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from straits.calibration.spec import load_spec
from straits.cli import app

runner = CliRunner()
SMALL_BUDGET = 28  # the 24 prior draws and one batch of the search
HAND_FITTED = ("terminals.dover.stages.french_border.booths",
               "terminals.calais.stages.uk_border.booths", "terminals.dover.buffer_lorries")


@pytest.mark.slow
def test_shipped_calibration_accepts_the_hand_fitted_corridor_values(tmp_path):
    result = runner.invoke(app, ["calibrate", "--trials", str(SMALL_BUDGET), "--workers", "2",
                                 "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["accepted"], "no candidate put every target in its band"
    for p in (p for p in load_spec().parameters if p.path in HAND_FITTED):
        low, high = data["accepted_ranges"][p.path]
        assert p.search_value(low) <= p.search_value(p.corridor_value) <= p.search_value(high), (
            f"{p.path}: shipped {p.corridor_value} outside the accepted {low} to {high}")
    assert all(f["passed"] for f in data["best"]["fits"].values())
