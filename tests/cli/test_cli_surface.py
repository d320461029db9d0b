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

import straits.cli
from straits import __version__
from straits.cli import app
from straits.cli.format import KM_PER_MILE, count_text
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


def test_all_shows_how_many_delays_are_censored_at_the_horizon(disrupted):
    summary = json.loads(runner.invoke(app, ["run", str(disrupted), "--json"]).stdout)
    censored = summary["directions"]["southbound"]["delay_minutes"]["censored_lorries"]
    full = render(["run", str(disrupted), "--all"], 200)
    row = next(line for line in full.splitlines() if "censored" in line)
    assert count_text(censored) in row.split("│")[2]


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

    import straits.pipeline

    def no_run(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(straits.pipeline, "simulate", no_run)
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


STYLE_TAGS = ("[/]", "[bold", "[green", "[red", "[yellow", "[dim")


def test_no_command_writes_a_style_tag_in_its_text():
    """The consoles print text as given, so a ``[bold]…[/]`` in a string would reach the
    user literally: style goes through ``styled()`` or ``rich.text.Text``."""
    import ast

    cli = Path(straits.cli.__file__).parent
    found = [f"{path.name}:{node.lineno}: {node.value!r}"
             for path in sorted(cli.glob("*.py"))
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Constant) and isinstance(node.value, str)
             and any(tag in node.value for tag in STYLE_TAGS) and not node.value.startswith(
                 '"""') and '``' not in node.value]
    assert not found, found


def test_the_experiment_footer_prints_its_store_path_as_given(tmp_path, disrupted):
    store = tmp_path / "runs[/]" / "store[bold].duckdb"
    output = render(["ensemble", str(disrupted), "-n", "1", "--workers", "1", "--store",
                     str(store)], 400)
    footer = next(line for line in output.splitlines() if line.startswith("experiment "))
    assert footer.endswith(f"store {store}") and "[bold]" not in footer.split("store")[0]


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


@pytest.fixture
def served(monkeypatch) -> dict:
    """``straits serve`` up to the point of listening: the settings and address it uses."""
    import uvicorn

    import straits.web

    seen: dict = {}
    monkeypatch.setattr(straits.web, "create_app", lambda settings: seen.setdefault(
        "settings", settings))
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **_: seen.update(host=host))
    return seen


def test_serve_allows_the_hosts_and_memory_it_is_given(served):
    result = runner.invoke(app, ["serve", "--allow-host", "straits.example.org",
                                 "--allow-host", "192.168.1.20", "--max-retained-mb", "64",
                                 "--memory-only"])
    assert result.exit_code == 0, result.output
    settings = served["settings"]
    assert settings.allowed_hosts == ["127.0.0.1", "localhost", "::1", "straits.example.org",
                                      "192.168.1.20"]
    assert settings.max_retained_mb == 64


def test_serve_on_every_address_says_how_to_allow_hosts(served):
    result = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--memory-only"])
    assert result.exit_code == 0, result.output
    assert "--allow-host NAME" in result.output and "warning:" in result.output
    allowed = runner.invoke(app, ["serve", "--host", "0.0.0.0", "--allow-host", "*",
                                  "--memory-only"])
    assert "warning:" in allowed.output and "--allow-host NAME" not in allowed.output


@pytest.mark.parametrize("name", ["http://straits.example.org", "host:8000", "a/b", ""])
def test_serve_refuses_a_host_that_is_not_a_name(served, name):
    result = runner.invoke(app, ["serve", "--allow-host", name, "--memory-only"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--allow-host" in result.stderr
    assert "settings" not in served
