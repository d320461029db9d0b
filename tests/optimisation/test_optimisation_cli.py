"""``straits optimise``: bad studies are refused before any run, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from straits.cli import app
from tests.optimisation.helpers import toy_study_yaml

runner = CliRunner()
GOOD = toy_study_yaml(0.5).replace("kpi: toy.wait_minutes",
                                   "kpi: directions.southbound.delay_minutes.mean")

BAD_STUDIES = {
    "unknown path": (GOOD.replace("stages.check_in.booths", "stages.check_inn.booths"),
                     "variables[0].path", "check_inn"),
    "unknown KPI": (GOOD.replace("directions.southbound.delay_minutes.mean",
                                 "directions.southbound.dealy_minutes.mean"),
                    "constraints[0].kpi", "dealy_minutes"),
    "cost without units": (GOOD.replace("unit: booth, ", ""), "variables[0].cost.unit",
                           "unit"),
    "running cost without its period": (GOOD.replace(", running_per: hour", ""),
                                        "variables[0].cost.running_per", "hour or day"),
    "unknown statistic": (GOOD.replace("statistic: mean", "statistic: median"),
                          "constraints[0].statistic", "median"),
    "bounds the wrong way": (GOOD.replace("low: 1\n", "low: 30\n"), "variables[0].high",
                             "above low"),
    "unknown field": (GOOD + "budgett: {trials: 3}\n", "budgett", "unknown field"),
    "a text field": (GOOD.replace("stages.check_in.booths", "stages.check_in.name"),
                     "variables[0].path", "not a number"),
}


@pytest.mark.parametrize("case", sorted(BAD_STUDIES))
def test_bad_studies_exit_2_naming_the_field(tmp_path: Path, case: str) -> None:
    text, field, hint = BAD_STUDIES[case]
    path = tmp_path / "study.yaml"
    path.write_text(text)
    result = runner.invoke(app, ["optimise", str(path), "--out", str(tmp_path / "out"),
                                 "--store", str(tmp_path / "store.duckdb")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert field in lines[0] and hint in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "store.duckdb").exists()  # refused before any work


def test_unknown_study_name_exits_2() -> None:
    result = runner.invoke(app, ["optimise", "no-such-study"])
    assert result.exit_code == 2
    assert "calais-2015-measures" in result.stderr


@pytest.mark.slow
def test_a_small_study_runs_end_to_end_and_prints_json(tmp_path: Path) -> None:
    import json

    from tests.optimisation.test_optimisation_runner import STUDY

    (tmp_path / "short.yaml").write_text("extends: baseline\nname: short\nhorizon: 3h\n")
    (tmp_path / "study.yaml").write_text(STUDY.replace("trials: 6", "trials: 4"))
    result = runner.invoke(app, ["optimise", str(tmp_path / "study.yaml"), "--workers", "1",
                                 "--store", str(tmp_path / "s.duckdb"),
                                 "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["front"] and summary["do_nothing"]["plan"] == "do-nothing"
    for row in summary["front"]:
        assert row["out_of_sample"] in ("holds", "FAILS", "not re-run")
        plan = row["plan"].replace(" ", "-")
        assert (tmp_path / "out" / "plans" / f"{plan}.yaml").exists()
    assert (tmp_path / "out" / "report.html").exists()
