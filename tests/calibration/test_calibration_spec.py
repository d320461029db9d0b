"""Calibration specs: the shipped one loads; bad ones stop before any work, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from straits.calibration.spec import builtin_specs, inherited_paths, load_spec
from straits.cli import app
from straits.experiments.sweep import read_path, scenario_mapping
from straits.scenario import load_scenario
from straits.validation.targets import TARGETS

runner = CliRunner()
GOOD = """\
name: small
parameters:
  - path: terminals.dover.stages.french_border.booths
    low: 5
    high: 10
  - path: terminals.calais.stages.uk_border.service_time.mean
    low: 90s
    high: 150s
    prior: normal
    mean: 2min
    sd: 20s
targets: [checks-2min, checks-plus1]
weights: {checks-plus1: 2}
"""
PASSPORT = "passengers.classes.car.stages.dover.tourist_french_border.service_time.mean"
HOMED = f"""\
name: homed
parameters:
  - path: terminals.dover.buffer_lorries
    low: 200
    high: 900
  - path: {PASSPORT}
    scenario: dover-summer-2023
    low: 3.75s
    high: 15s
targets: [summer-2023-peak-hour, easter-2023-coaches]
replications: 3
"""


def test_shipped_spec_frees_the_hand_fitted_values_and_fits_every_target():
    spec = load_spec()
    assert "corridor-2015" in builtin_specs()
    paths = {p.path for p in spec.parameters}
    assert {"terminals.dover.stages.french_border.booths",
            "terminals.calais.stages.uk_border.booths",
            "terminals.dover.buffer_lorries"} <= paths
    assert [t.key for t in spec.targets] == [t.key for t in TARGETS]
    for p in spec.parameters:  # the shipped values lie inside the search space, at their homes
        assert p.low <= p.search_value(p.home_value) <= p.high
        assert read_path(scenario_mapping(load_scenario(p.home)), p.path) == p.home_value
    homes = {p.path: p.home for p in spec.parameters}
    assert homes.pop(PASSPORT) == "dover-summer-2023"  # the per-passport time is free
    assert set(homes.values()) == {"corridor-2015"}
    assert list(spec.home_texts) == ["corridor-2015", "dover-summer-2023"]


def test_spec_reads_durations_priors_targets_and_weights(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(GOOD)
    spec = load_spec(path)
    booths, mean = spec.parameters
    assert (booths.kind, booths.low, booths.high) == ("integer", 5, 10)
    assert (mean.kind, mean.low, mean.high, mean.mean, mean.sd) == ("duration", 1.5, 2.5, 2.0,
                                                                     pytest.approx(1 / 3))
    assert mean.scenario_value(1.75) == "105s"
    assert mean.text("105s") == "105s" and mean.text("5415s") == "1.5h"  # tables: hours
    assert booths.text(7) == "7"
    assert mean.from_unit(0.5) == pytest.approx(2.0)  # symmetric bounds: the median
    assert [t.key for t in spec.targets] == ["checks-2min", "checks-plus1"]
    assert spec.weights == {"checks-2min": 1.0, "checks-plus1": 2.0}


@pytest.mark.parametrize(("change", "field", "hint"), [
    (("terminals.dover.stages.french_border.booths", "terminals.dovr.buffer_lorries"),
     "parameters[0].path", "valid choices: dover"),
    (("    low: 5\n    high: 10", "    low: 10\n    high: 5"), "parameters[0].low",
     "must be below"),
    (("checks-plus1]", "checks-plus9]"), "targets[1]", "unknown target 'checks-plus9'"),
    (("    low: 90s", "    low: 1.5"), "parameters[1].low", "give '90s' or '3min'"),
    (("{checks-plus1: 2}", "{rwcs-peak-queue: 2}"), "weights.rwcs-peak-queue",
     "not one of the spec's targets"),
    (("    sd: 20s\n", ""), "parameters[1].prior", "needs mean and sd"),
    (("replications", "replicates"), "replicates", "Extra inputs"),
    (("replications: 3\n", "replications: 3\nsampler: cma\n"), "sampler",
     "'tpe', 'cmaes', 'prior' or 'smc'"),
])
def test_bad_spec_exits_2_naming_the_field(tmp_path: Path, change, field, hint):
    path = tmp_path / "bad.yaml"
    text = GOOD + "replications: 3\n"
    assert change[0] in text
    path.write_text(text.replace(change[0], change[1], 1))
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{path}: {field}:" in result.stderr and hint in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # refused before any work


def test_a_value_may_live_in_a_scenario_named_by_the_parameter(tmp_path: Path):
    path = tmp_path / "homed.yaml"
    path.write_text(HOMED)
    buffer, passport = load_spec(path).parameters
    assert (buffer.home, passport.home) == ("corridor-2015", "dover-summer-2023")
    assert passport.kind == "duration" and (passport.low, passport.high) == (0.0625, 0.25)
    assert passport.home_value == read_path(
        scenario_mapping(load_scenario("dover-summer-2023")), PASSPORT)


@pytest.mark.parametrize(("change", "field", "hint"), [
    (("scenario: dover-summer-2023", "scenario: dover-summer-2032"),
     "parameters[1].scenario", "dover-summer-2032"),
    ((PASSPORT, PASSPORT.replace("tourist_french_border", "french_border")),
     "parameters[1].path", "no item 'french_border'"),
    (("  - path: terminals.dover.buffer_lorries\n", "  - path: terminals.dover.buffer_lorries\n"
                                                    "    scenario: dover-summer-2023\n"),
     "parameters[0].path", "is not written in dover-summer-2023's file (a default, or "
                           "inherited)"),
    (("scenario: dover-summer-2023", "scenario: baseline"), "parameters[1].path",
     "no field 'passengers'"),
])
def test_bad_home_scenario_or_path_exits_2_naming_the_field(tmp_path: Path, change, field,
                                                           hint):
    path = tmp_path / "bad.yaml"
    assert change[0] in HOMED
    path.write_text(HOMED.replace(change[0], change[1], 1))
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{path}: {field}:" in result.stderr and hint in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # refused before any work


def test_bad_sampler_flag_exits_2_naming_it(tmp_path: Path):
    result = runner.invoke(app, ["calibrate", "--sampler", "cma-es", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert "--sampler: 'cma-es' is not a sampler; choose one of tpe, cmaes, prior" in result.stderr
    assert not (tmp_path / "o").exists()


def test_unknown_builtin_spec_exits_2():
    result = runner.invoke(app, ["calibrate", "corridor-1999"])
    assert result.exit_code == 2
    assert "unknown calibration spec 'corridor-1999'" in result.stderr


def test_the_spec_in_docs_is_valid(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "docs" / "calibration.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "docs.yaml"
    path.write_text(example)
    spec = load_spec(path)
    assert spec.trials == 120 and spec.weights == {"strike-stack-days": 1.0, "checks-2min": 2.0,
                                                   "summer-2023-peak-hour": 1.0}
    assert [p.home for p in spec.parameters] == ["corridor-2015"] * 2 + ["dover-summer-2023"]


@pytest.mark.parametrize("rule_on", [True, False])
def test_a_scenario_inherits_the_corridor_values_it_has_unless_it_sets_or_lacks_them(rule_on):
    mapping = {"behaviour": {"enabled": rule_on, "booked_share": 0.9},
               "terminals": {"dover": {"buffer_lorries": 400, "booths": 3}}}
    corridor = {"behaviour.booked_share": 0.9, "terminals.dover.buffer_lorries": 400,
                "terminals.dover.booths": 7, "holding.southbound.areas.stack.call": 250}
    expected = ["terminals.dover.buffer_lorries"]  # booths: its own; holding: not there
    if rule_on:  # the rule's values matter only where the rule runs
        expected.insert(0, "behaviour.booked_share")
    assert inherited_paths(mapping, corridor) == expected
