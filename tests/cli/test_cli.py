"""The command line: the README's contract, bad input, atomic output."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from straits.cli import app

runner = CliRunner()
SHORT = "extends: baseline\nname: short\nhorizon: 1d\n"


@pytest.fixture
def short_file(tmp_path: Path) -> Path:
    path = tmp_path / "short.yaml"
    path.write_text(SHORT)
    return path


def _json_run(*args: str) -> dict:
    result = runner.invoke(app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_run_json_has_the_documented_keys(short_file):
    summary = _json_run(str(short_file), "--seed", "4")
    assert {"scenario", "seed", "horizon_hours", "directions", "holding", "cost_gbp"} <= set(
        summary
    )
    assert summary["seed"] == 4 and summary["horizon_hours"] == 24
    for direction in ("southbound", "northbound"):
        d = summary["directions"][direction]
        assert {"arrived", "crossed", "in_system_at_end", "delay_minutes", "queue_peak_lorries",
                "queue_peak_km", "lorry_hours_delayed"} <= set(d)
        assert set(d["delay_minutes"]) >= {"mean", "p50", "p95", "max"}
    for area in summary["holding"].values():
        assert {"peak_lorries", "hours_active"} <= set(area)


def test_same_seed_same_bytes_different_seed_differs(short_file):
    a = runner.invoke(app, ["run", str(short_file), "--seed", "9", "--json"]).stdout
    b = runner.invoke(app, ["run", str(short_file), "--seed", "9", "--json"]).stdout
    c = runner.invoke(app, ["run", str(short_file), "--seed", "10", "--json"]).stdout
    assert a == b
    assert json.loads(a)["directions"] != json.loads(c)["directions"]


def test_human_output_is_a_compact_table(short_file):
    result = runner.invoke(app, ["run", str(short_file)])
    assert result.exit_code == 0
    assert "southbound" in result.output and "Stack" in result.output


BEHAVING = ("extends: baseline\nname: behaving\nhorizon: 1d\nbehaviour: {enabled: true}\n"
            "disruptions:\n  - {kind: blockade, target: ferry, start: +2h, duration: 20h}\n")


def test_behaviour_kpis_in_json_and_in_an_80_column_table(tmp_path):
    path = tmp_path / "behaving.yaml"
    path.write_text(BEHAVING)
    summary = _json_run(str(path), "--seed", "2")
    south = summary["directions"]["southbound"]["behaviour"]
    assert {"planned", "postponed", "postponed_pending", "diverted", "diverted_by_where",
            "switched_route", "switched_to", "rejoined", "delay_with_postponement_minutes",
            "diversion_cost_gbp", "lorry_hours_postponed"} <= set(south)
    assert south["postponed"] > 0 and "diversion_cost_gbp" in summary
    result = runner.invoke(app, ["run", str(path), "--seed", "2"], terminal_width=80)
    assert result.exit_code == 0
    assert "held back" in result.output and "switched route" in result.output
    assert "southbound: switched to tunnel" in result.output
    assert "diverted to" not in result.output  # nobody held back long enough to divert
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_scenarios_lists_the_builtins():
    result = runner.invoke(app, ["scenarios"])
    assert result.exit_code == 0
    assert "baseline" in result.output and "calais-strike-2015" in result.output


def test_check_accepts_a_good_file(short_file):
    result = runner.invoke(app, ["check", str(short_file)])
    assert result.exit_code == 0 and "ok: short" in result.output


BAD_INPUTS = {
    "malformed YAML": ("extends: baseline\nhorizon: [1d\n", "malformed YAML"),
    "unknown field": ("extends: baseline\nhorizont: 1d\n", "horizont: unknown field"),
    "missing field": ("name: x\nhorizon: 1d\n", "start: missing required field"),
    "wrong unit": ("extends: baseline\nhorizon: 2 weeks\n", "horizon: expected a duration"),
    "negative capacity": (
        "extends: baseline\nterminals:\n  dover:\n    buffer_lorries: -1\n",
        "terminals.dover.buffer_lorries: Input should be greater than or equal to 1",
    ),
    "disruption outside the horizon": (
        "extends: baseline\ndisruptions:\n  - {kind: strike, target: dover, "
        "start: 2015-07-01T00:00, duration: 1d}\n",
        "disruptions[0].start: starts outside the horizon",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
@pytest.mark.parametrize("command", ["run", "check"])
def test_bad_scenario_files_exit_2_with_one_line(tmp_path, case, command):
    text, expected = BAD_INPUTS[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.output + result.stderr


def test_unknown_scenario_name_exits_2():
    result = runner.invoke(app, ["run", "atlantis"])
    assert result.exit_code == 2
    assert "unknown scenario 'atlantis'" in result.stderr
    assert "baseline" in result.stderr


BUDGET_COMMANDS = {
    "run": [],
    "ensemble": ["-n", "2"],
    "sweep": ["--vary", "demand.southbound.lorries_per_day=4000,5000", "-n", "1"],
    "sensitivity": ["--param", "demand.southbound.lorries_per_day=4000:5000"],
}


@pytest.mark.parametrize("command", [*BUDGET_COMMANDS, "validate", "optimise", "calibrate"])
def test_work_over_the_machine_budget_is_refused_before_any_simulation(
        tmp_path, short_file, monkeypatch, command):
    """The web's work estimate guards the command line too (against the machine's
    budget): one line naming the field, exit 2, nothing simulated and nothing written
    (`report` and `compare`: tests/report/test_report_cli.py)."""
    import straits.calibration.search
    import straits.experiments.ensemble
    import straits.experiments.tasks
    import straits.optimisation.study
    import straits.pipeline
    import straits.validation
    from straits.engine.budget import WorkBudget

    monkeypatch.setattr(WorkBudget, "for_machine", classmethod(
        lambda cls: WorkBudget(max_lorries=100.0)))

    def simulated(*args, **kwargs):
        raise AssertionError("simulated before the budget check")

    for module, name in ((straits.pipeline, "simulate"),
                         (straits.experiments.tasks, "simulate"),
                         (straits.experiments.ensemble, "run_experiment"),
                         (straits.validation, "run_scenario"),
                         (straits.optimisation.study, "run_study"),
                         (straits.calibration.search, "run_search")):
        monkeypatch.setattr(module, name, simulated)
    out = ["--out", str(tmp_path / "out")]
    if command == "validate":
        args = ["validate", "-n", "1"]
    elif command == "optimise":
        args = ["optimise", "calais-2015-measures", *out, "--store", str(tmp_path / "s.duckdb")]
    elif command == "calibrate":
        args = ["calibrate", *out]
    else:
        args = [command, str(short_file), *BUDGET_COMMANDS[command],
                *([] if command == "run" else ["--store", str(tmp_path / "s.duckdb")])]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "lorries_per_day" in lines[0] and "lorries per replication" in lines[0]
    assert "budget is 100" in lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert list(tmp_path.iterdir()) == [short_file]


def test_the_kpi_probe_is_a_valid_scenario():
    """The one-hour probe that checks --kpi names goes through the scenario model (a bare
    copy would keep disruptions the model refuses outside its horizon)."""
    from straits.cli.experiments import _probe
    from straits.scenario import load_scenario, scenario_from_mapping

    probe = _probe(load_scenario("calais-strike-2015"))
    assert probe.horizon == 60.0
    assert scenario_from_mapping(probe.model_dump(mode="json")) == probe


def test_out_writes_records_series_and_summary(tmp_path, short_file):
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(short_file), "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "lorries.parquet", "holding_timeseries.parquet",
            "departures.parquet", "booths.parquet", "scenario.yaml"} <= names
    assert json.loads((out / "summary.json").read_text()) == json.loads(result.stdout)
    import pyarrow.parquet as pq

    series = pq.read_table(out / "holding_timeseries.parquet")
    assert set(series.column("kind").to_pylist()) == {"holding_area", "overflow_road", "terminal"}
    steps = np.diff(series.column("minutes").to_numpy())
    assert np.isin(steps, [15.0, -1440.0]).all()  # every place, every 15 minutes of the day
    lorries = pq.read_table(out / "lorries.parquet")
    summary = json.loads(result.stdout)
    assert lorries.num_rows == sum(d["arrived"] for d in summary["directions"].values())


def test_out_refuses_a_non_empty_folder_without_force(tmp_path, short_file):
    out = tmp_path / "results"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["run", str(short_file), "--out", str(out)])
    assert result.exit_code == 2 and "--force" in result.stderr
    assert (out / "keep.txt").read_text() == "mine"
    result = runner.invoke(app, ["run", str(short_file), "--out", str(out), "--force"])
    assert result.exit_code == 0
    assert not (out / "keep.txt").exists()


def test_a_failure_while_writing_leaves_nothing(tmp_path, short_file, monkeypatch):
    import straits.pipeline

    def broken_tables(result):
        raise KeyboardInterrupt

    monkeypatch.setattr(straits.pipeline, "result_tables", broken_tables)
    out = tmp_path / "results"
    result = runner.invoke(app, ["run", str(short_file), "--out", str(out)])
    assert result.exit_code == 130
    assert "nothing was written" in result.stderr
    assert list(tmp_path.iterdir()) == [short_file]


def test_the_installed_command_exits_2_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: baseline\nhorizon: 3 fortnights\n")
    proc = subprocess.run([sys.executable, "-m", "straits.cli", "check", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1


DECIDED = """extends: baseline
name: decided
horizon: 2d
disruptions:
  - {kind: blockade, target: ferry, start: +8h, duration: 14h, capacity_fraction: 0}
facilities:
  - {name: checks, direction: southbound, share: 0.1, booths: 20,
     service_time: {distribution: deterministic, value: 5min}, capacity_lorries: 100}
"""


def test_holding_decisions_and_facilities_in_every_output(tmp_path):
    scenario = tmp_path / "decided.yaml"
    scenario.write_text(DECIDED)
    summary = _json_run(str(scenario), "--seed", "2")
    decisions = summary["holding_decisions"]
    assert [d["decision"] for d in decisions[:2]] == ["called", "in force"]
    assert {"time", "direction", "area", "reason"} <= set(decisions[0])
    assert summary["facilities"]["checks"]["lorries"] > 0
    text = runner.invoke(app, ["run", str(scenario), "--seed", "2"]).output
    assert "Holding decisions" in text and "set-up done" in text
    assert max(len(line) for line in text.splitlines()) <= 80
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(scenario), "--seed", "2", "--out", str(out)]
                         ).exit_code == 0
    import pyarrow.parquet as pq

    log = pq.read_table(out / "holding_decisions.parquet").to_pylist()
    assert [(d["area"], d["decision"]) for d in log] == [
        (d["area"], d["decision"]) for d in decisions]
    lorries = pq.read_table(out / "lorries.parquet")
    assert {"facility", "facility_start_minutes", "facility_end_minutes"} <= set(
        lorries.column_names)
