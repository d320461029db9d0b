"""`straits report` and `straits compare`: files written, bad input is one line and exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from straits.cli import app
from straits.cli.corridor import write_outputs
from straits.pipeline import simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def out_folder(tmp_path_factory, slow_border):
    folder = tmp_path_factory.mktemp("runs") / "slow"
    write_outputs(folder, simulate(slow_border, 1), force=False)
    return folder


def test_report_from_an_out_folder(tmp_path, out_folder):
    target = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(out_folder), "-o", str(target),
                                 "--at", "2015-06-08T18:00"])
    assert result.exit_code == 0, result.output
    html = target.read_text()
    assert "slow-border" in html and "Corridor map at Mon 08 Jun 2015 18:00" in html


def test_compare_two_runs(tmp_path, out_folder):
    scenario = tmp_path / "short.yaml"
    scenario.write_text("extends: corridor-2015\nname: short\nstart: 2015-06-08T00:00\n"
                        "horizon: 1d\n")
    target = tmp_path / "diff.html"
    result = runner.invoke(app, ["compare", str(scenario), str(out_folder), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "short against slow" in target.read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["report", "no-such-scenario", "-o", "{tmp}/r.html"], "unknown scenario"),
    (["report", "{out}", "-o", "{out}/summary.json/r.html"], "is a file"),
    (["report", "{out}", "-o", "{tmp}/r.html", "--at", "tomorrow"], "--at: 'tomorrow'"),
    (["report", "{out}", "-o", "{tmp}/r.html", "--at", "2016-01-01T00:00"], "outside the run"),
    (["report", "{tmp}", "-o", "{tmp}/r.html"], "is not a run folder"),
    (["report", "ens-0123456789ab", "--store", "{tmp}/none.duckdb", "-o", "{tmp}/r.html"],
     "no results store"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, out_folder, args, message):
    args = [a.format(tmp=tmp_path, out=out_folder) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.html").exists()


def test_existing_report_is_kept_without_force(tmp_path, out_folder):
    target = tmp_path / "r.html"
    target.write_text("keep me")
    result = runner.invoke(app, ["report", str(out_folder), "-o", str(target)])
    assert result.exit_code == 2 and "--force" in result.output
    assert target.read_text() == "keep me"
    assert runner.invoke(app, ["report", str(out_folder), "-o", str(target),
                               "--force"]).exit_code == 0
    assert target.read_text().startswith("<!DOCTYPE html>")


def test_output_folders_are_created(tmp_path, out_folder):
    target = tmp_path / "new" / "deeper" / "r.html"
    result = runner.invoke(app, ["report", str(out_folder), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("<!DOCTYPE html>")


def test_an_unwritable_output_is_refused_before_any_run(tmp_path, monkeypatch):
    import tempfile

    import straits.report.sources

    def no_write(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    def no_run(*args, **kwargs):
        raise AssertionError("ran before checking the output")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_write)
    monkeypatch.setattr(straits.report.sources, "load_run", no_run)
    for args in (["report", "baseline", "-o", str(tmp_path / "r.html")],
                 ["compare", "baseline", "baseline", "-o", str(tmp_path / "d.html")]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "--output: cannot write in" in result.stderr
        assert "Permission denied" in result.stderr


SHORT = "extends: corridor-2015\nname: {name}\nstart: 2015-06-08T00:00\nhorizon: 1d\n"


@pytest.mark.parametrize("command", ["report", "compare"])
def test_work_over_the_machine_budget_is_refused_before_any_simulation(tmp_path, monkeypatch,
                                                                         command):
    """A scenario run now is checked against the machine's work budget like `straits run`:
    with compare, B over the budget is refused before A (within it) runs."""
    import straits.report.sources
    from straits.engine.budget import WorkBudget, estimate_work
    from straits.scenario import load_scenario

    light, heavy = tmp_path / "light.yaml", tmp_path / "heavy.yaml"
    light.write_text(SHORT.format(name="light"))
    heavy.write_text(SHORT.format(name="heavy")
                     + "demand:\n  southbound: {lorries_per_day: 60000}\n")
    limit = 2 * estimate_work(load_scenario(str(light))).lorries
    assert estimate_work(load_scenario(str(heavy))).lorries > limit
    monkeypatch.setattr(WorkBudget, "for_machine", classmethod(
        lambda cls: WorkBudget(max_lorries=limit)))

    def simulated(*args, **kwargs):
        raise AssertionError("simulated before the budget check")

    monkeypatch.setattr(straits.report.sources, "simulate", simulated)
    target = tmp_path / "out.html"
    runs = [str(heavy)] if command == "report" else [str(light), str(heavy)]
    result = runner.invoke(app, [command, *runs, "-o", str(target)])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "demand.southbound.lorries_per_day" in lines[0] and "budget is" in lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert sorted(tmp_path.iterdir()) == sorted([heavy, light])  # nothing written
