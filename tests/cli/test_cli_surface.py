"""The command line as a person meets it: 80-column tables, versions, schema, show,
outputs checked before any work, and user text never read as markup."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from straits import __version__
from straits.cli import app
from straits.cli.format import KM_PER_MILE
from straits.scenario import builtin_names, load_scenario, scenario_from_text
from tests.cli.columns import (
    assert_no_column_dropped,
    render,
    rendered_tables,
    terminal_width,
)

runner = CliRunner()
LONG_NAME = "a very long disruption name that has to fold onto several lines at eighty columns"


@pytest.fixture(scope="module")
def disrupted(tmp_path_factory) -> Path:
    """One day with a border slowdown under a long name: every table of ``run`` appears."""
    path = tmp_path_factory.mktemp("scenarios") / "disrupted.yaml"
    path.write_text(
        "extends: baseline\nname: disrupted\nhorizon: 1d\ndisruptions:\n"
        "  - {kind: border_slowdown, target: dover, stage: french_border, start: +2h,\n"
        f"     duration: 12h, added: 5min, name: {LONG_NAME}}}\n")
    return path


@pytest.mark.parametrize("width", [80, 60])
@pytest.mark.parametrize("everything", [False, True])
def test_run_drops_no_column(disrupted, width, everything):
    output = render(["run", str(disrupted), *(["--all"] if everything else [])], width)
    assert_no_column_dropped(output, width=width)
    disruptions = rendered_tables(output)[-1]
    assert disruptions.headers[-1] == "disruption"
    assert disruptions.column(3) == "".join(LONG_NAME.split())


def test_run_tables_have_their_headers(disrupted):
    output = render(["run", str(disrupted), "--all"])
    holding = ["area", "direction", "peak lorries", "peak length", "in use"]
    decisions = ["time", "area", "decision", "reason"]
    used = "Holding areas used" in output
    decided = "Holding decisions" in output
    assert_no_column_dropped(output, [["", "southbound", "northbound"],
                                      *([holding] if used else []),
                                      *([decisions] if decided else []),
                                      ["start", "lasted", "kind", "disruption"]])


def test_the_default_is_short_and_all_adds_rows(disrupted):
    short = render(["run", str(disrupted)], 200)
    full = render(["run", str(disrupted), "--all"], 200)
    assert "delay per lorry, longest" in full and "delay per lorry, longest" not in short
    assert "--all" in short and len(full.splitlines()) > len(short.splitlines())


def test_queue_lengths_in_km_with_miles_or_either(disrupted):
    summary = json.loads(runner.invoke(app, ["run", str(disrupted), "--json"]).stdout)
    km = summary["directions"]["southbound"]["queue_peak_km"]
    both = render(["run", str(disrupted)], 200)
    assert f"{km:,.1f} km ({km / KM_PER_MILE:,.1f} mi)" in both
    for name in ("miles", "imperial"):
        miles = render(["run", str(disrupted), "--units", name], 200)
        assert f"{km / KM_PER_MILE:,.1f} mi" in miles and " km" not in miles.split("Holding")[0]
    bad = runner.invoke(app, ["run", str(disrupted), "--units", "furlongs"])
    assert bad.exit_code == 2 and "--units: 'furlongs'" in bad.stderr


def test_version_and_python_m_straits():
    assert runner.invoke(app, ["--version"]).stdout.strip() == f"straits {__version__}"
    proc = subprocess.run([sys.executable, "-m", "straits", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"straits {__version__}"


def test_shell_completion_is_offered():
    result = runner.invoke(app, ["--help"])
    assert "--install-completion" in result.stdout and "--show-completion" in result.stdout


def test_schema_accepts_every_builtin_as_written_and_as_shown():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name in builtin_names():
        shown = runner.invoke(app, ["show", name, "--resolved"]).stdout
        validator.validate(yaml.safe_load(shown))
        commented = runner.invoke(app, ["show", name]).stdout
        validator.validate(yaml.safe_load(commented))


def test_schema_refuses_what_the_loader_refuses():
    validator = jsonschema.Draft202012Validator(json.loads(runner.invoke(app, ["schema"]).stdout))
    good = yaml.safe_load(runner.invoke(app, ["show", "baseline"]).stdout)
    for field, value in (("horizon", "2 weeks"), ("horizont", "1d"), ("start", "+2 weeks")):
        bad = {**good, field: value}
        assert list(validator.iter_errors(bad)), field


@pytest.mark.parametrize("name", builtin_names())
def test_show_keeps_the_source_comments_and_loads_the_same(name):
    text = runner.invoke(app, ["show", name]).stdout
    assert "# F1.1" in text or "F1.1" in text  # the shared parameters' citations
    assert "# assumption" in text or "assumption" in text
    assert scenario_from_text(text) == load_scenario(name)


def test_out_creates_missing_parents(tmp_path, disrupted):
    out = tmp_path / "a" / "b" / "run"
    result = runner.invoke(app, ["run", str(disrupted), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").is_file()


@pytest.mark.parametrize("case", ["under a file", "unwritable"])
def test_an_unwritable_out_is_refused_before_simulating(tmp_path, monkeypatch, disrupted, case):
    import tempfile

    import straits.cli.corridor as corridor

    def no_run(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(corridor, "simulate", no_run)
    if case == "under a file":
        (tmp_path / "file").write_text("x")
        out, message = tmp_path / "file" / "run", "is a file"
    else:
        def no_write(*args, **kwargs):
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(tempfile, "TemporaryFile", no_write)
        out, message = tmp_path / "run", "--out: cannot write in"
    result = runner.invoke(app, ["run", str(disrupted), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1


# --- user text is never markup -------------------------------------------------------------
MARKUP = st.sampled_from(["[/]", "[bold]", "[/bold]", "[red]x[/red]", "[link=x]", "[", "]",
                          "[[", "\\[", "[v2]", "[#ff0000]", ":smile:", "[b]"])
TEXT = st.lists(st.one_of(MARKUP, st.sampled_from(["plan", "strike", " ", "-", "_", "x"])),
                min_size=1, max_size=6).map("".join).filter(lambda t: t.strip() == t and t)
FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(text=TEXT)
@example(text="[/]")
@example(text="plan[v2]")
@example(text="[bold]")
def test_file_names_are_printed_as_given(tmp_path, text):
    missing = tmp_path / f"{text}.yaml"
    result = runner.invoke(app, ["check", str(missing)])
    assert result.exit_code == 2
    assert repr(str(missing)) in result.stderr and result.stderr.count("\n") == 1


@FAST
@given(text=TEXT)
@example(text="[/]")
def test_bad_values_are_quoted_as_given(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: baseline\nhorizon: {json.dumps(text)}\n")
    result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert repr(text) in result.stderr or text in result.stderr
    assert "Traceback" not in result.output


def test_the_name_pattern_in_an_error_keeps_its_brackets(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("extends: baseline\nname: Not A Name\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2 and "[a-z0-9]" in result.stderr


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXT)
@example(text="[/] strike")
@example(text="[bold]")
def test_disruption_names_are_printed_as_given(tmp_path, text):
    path = tmp_path / "named.yaml"
    path.write_text("extends: baseline\nhorizon: 6h\ndisruptions:\n"
                    "  - {kind: border_slowdown, target: dover, stage: french_border, "
                    f"start: +1h, duration: 1h, added: 1min, name: {json.dumps(text)}}}\n")
    with terminal_width(200):
        result = runner.invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    assert text in result.stdout


def test_scenarios_drops_no_column():
    output = render(["scenarios"], 80)
    assert_no_column_dropped(output, [["name", "period, disruptions and description"]])
    names = rendered_tables(output)[0].column(0)
    for name in builtin_names():
        assert name in names


def test_show_falls_back_to_the_resolved_yaml_when_ruamel_refuses(monkeypatch):
    from ruamel.yaml import YAMLError

    import straits.cli.source as source

    def refuse(reference):
        raise YAMLError("refused")

    monkeypatch.setattr(source, "_chain", refuse)
    result = runner.invoke(app, ["show", "baseline"])
    assert result.exit_code == 0, result.output
    assert "#" not in result.stdout
    assert scenario_from_text(result.stdout) == load_scenario("baseline")


@pytest.mark.parametrize("command", [
    ["ensemble", "{file}", "-n", "2"],
    ["sweep", "{file}", "--vary", "terminals.dover.stages.french_border.booths=6,8", "-n", "2"],
])
def test_experiment_tables_drop_no_column(tmp_path, command):
    path = tmp_path / "short.yaml"
    path.write_text("extends: baseline\nname: short\nhorizon: 3h\n")
    args = [a.format(file=path) for a in command]
    output = render([*args, "--workers", "1", "--store", str(tmp_path / "s.duckdb")], 80)
    assert_no_column_dropped(output)
