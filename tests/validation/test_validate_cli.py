"""``straits validate``: the table, --out, exit codes and bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import straits.validation
from straits.cli import app
from straits.validation import TARGETS
from straits.validation.targets import Target
from tests.cli.columns import assert_no_column_dropped, render

runner = CliRunner()


def test_validate_runs_every_target_and_passes(tmp_path):
    out = tmp_path / "validation"
    result = runner.invoke(app, ["validate", "--replications", "2", "--json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout[result.stdout.index("{"):])
    assert table["all_passed"] and table["replications"] == 2
    assert [r["key"] for r in table["targets"]] == [t.key for t in TARGETS]
    for name in ("validation.json", "validation.md", "calais-strike-2015.html",
                 "dover-checks-2018.html", "rwcs-2021.html", "plotly.min.js"):
        assert (out / name).is_file(), name
    html = (out / "rwcs-2021.html").read_text()
    assert 'src="plotly.min.js"' in html and "cdn" not in html.lower()
    assert json.loads((out / "validation.json").read_text())["targets"] == table["targets"]


def test_validate_exits_1_when_a_target_fails(monkeypatch):
    impossible = Target(
        key="impossible", scenario="dover-checks-2018", quantity="q", unit="miles",
        measure=lambda result: 10.0, published_low=1000, published_high=1000,
        published_text="1000", facts="F5.1", source="test", tolerance=0.0, why_tolerance="test",
    )
    monkeypatch.setattr(straits.validation, "TARGETS", (impossible,))
    result = runner.invoke(app, ["validate", "-n", "1", "--only", "dover-checks-2018"])
    assert result.exit_code == 1
    assert "FAIL" in result.stdout
    assert "validation failed: impossible" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--only", "nowhere"], "--only: unknown validation scenario 'nowhere'"),
    (["--replications", "0"], "--replications"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = runner.invoke(app, ["validate", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_out_with_files_needs_force(tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    result = runner.invoke(app, ["validate", "-n", "1", "--only", "dover-checks-2018",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--force" in result.output
    assert (tmp_path / "keep.txt").exists()


def test_the_table_drops_no_column_at_80_columns():
    output = render(["validate", "--replications", "2", "--only", "dover-checks-2018"], 80)
    assert_no_column_dropped(output, [["target", "quantity", "published", "model mean [95% CI]",
                                       "tolerance → pass band", "result"]], width=80)
    assert "pass" in output or "FAIL" in output


@pytest.mark.slow
def test_full_validation_run_passes():
    """The run docs/validation.md reports: 20 replications of every scenario."""
    result = runner.invoke(app, ["validate", "--replications", "20", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{"):])["all_passed"]


def _no_simulation(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(straits.validation, "run_scenario", refuse)


def test_an_unwritable_out_is_refused_before_simulating(tmp_path, monkeypatch):
    _no_simulation(monkeypatch)
    (tmp_path / "plain").write_text("a file, not a folder")
    result = runner.invoke(app, ["validate", "-n", "1", "--only", "dover-checks-2018",
                                 "--out", str(tmp_path / "plain" / "validation")])
    assert result.exit_code == 2
    assert "--out: cannot write in" in result.stderr and result.stderr.count("\n") == 1


def test_out_creates_missing_parent_folders(tmp_path):
    out = tmp_path / "new" / "deeper" / "validation"
    result = runner.invoke(app, ["validate", "-n", "1", "--only", "dover-checks-2018",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "validation.json").is_file()
    assert not list(out.parent.glob(".*"))  # no staging folder left behind


def test_the_table_reads_at_80_columns(monkeypatch):
    from straits.cli.app import console

    monkeypatch.setattr(console, "width", 80)
    result = runner.invoke(app, ["validate", "-n", "2", "--only", "dover-checks-2018"])
    assert result.exit_code == 0, result.output
    for line in result.stdout.splitlines():
        assert len(line) <= 80, line
        if line[:1] in "┏┃┡│└":
            assert line[-1] in "┓┃┩│┘", line
    for header in ("target", "quantity", "published", "model mean", "tolerance", "result"):
        assert header in result.stdout
