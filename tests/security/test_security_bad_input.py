"""Bad security parameters: one line naming the field, exit 2 — never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from straits.cli import app
from straits.scenario import ScenarioError, scenario_from_text
from tests.security.security_helpers import autumn_security, merge

runner = CliRunner()


def _write(tmp_path: Path, security: dict, **top) -> Path:
    doc = {"extends": "corridor-2015", "name": "bad-security", "start": "2015-06-08T00:00",
           "horizon": "2d", "security": security, **top}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


CASES = [
    ({"controls": {"search_share": 1.5}}, "security.controls.search_share"),
    ({"population": {"initial_people": -10}}, "security.population.initial_people"),
    ({"population": {"arrivals_per_day": -1}}, "security.population.arrivals_per_day"),
    ({"controls": {"technologies": {"x_ray_goggles": {"detection_probability": 0.5,
                                                      "time_cost": "1min"}}}},
     "security.controls.technologies"),
    ({"controls": {"technologies": {"dogs": {"detection_probability": -0.1,
                                             "time_cost": "30s"}}}},
     "security.controls.technologies.dogs.detection_probability"),
    ({"harm": {"death_probability": {"tunnel": 2}}}, "security.harm.death_probability.tunnel"),
    ({"sites": {"tunnel": {"fence_quality": 1.2}}}, "security.sites.tunnel.fence_quality"),
    ({"attempts": {"per_person_per_day": {"boats": 1.0}}},
     "security.attempts.per_person_per_day"),
    ({"returns": {"share_of_detected": 1.01}}, "security.returns.share_of_detected"),
    ({"changes": [{"start": "2015-06-09T00:00", "set": {"controls": {"search_share": 7}}}]},
     "security.changes[0].set.controls.search_share"),
]


@pytest.mark.parametrize(("override", "field"), CASES)
def test_bad_value_exits_2_naming_the_field(tmp_path: Path, override: dict, field: str) -> None:
    path = _write(tmp_path, merge(autumn_security(), override))
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert "Traceback" not in result.output


REFERENCE_CASES = [
    ({"changes": [{"start": "2015-07-01T00:00", "set": {}}]}, "security.changes[0].start"),
    ({"controls": {"terminals": ["calais", "boulogne"]}}, "security.controls.terminals"),
    ({"controls": {"stage": "passport"}}, "security.controls.stage"),
    ({"coupling": {"tunnel_route": "ferry"}}, "security.coupling.tunnel_route"),
    ({"report_periods": [{"name": "later", "start": "2016-01-01T00:00",
                          "end": "2016-01-02T00:00"}]}, "security.report_periods[0]"),
    ({"attempts": {"per_person_per_day": {"tunnel": 10000.0}}},
     "security.attempts.per_person_per_day"),
]


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize(("override", "field"), REFERENCE_CASES)
def test_references_checked_by_check_and_run_alike(tmp_path: Path, override: dict, field: str,
                                                   command: str) -> None:
    path = _write(tmp_path, merge(autumn_security(), override))
    result = runner.invoke(app, [command, str(path)])
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("override", "field"), REFERENCE_CASES)
def test_references_refused_when_the_text_is_read(override: dict, field: str) -> None:
    """The path of web uploads and sweeps: the scenario model itself refuses."""
    doc = {"extends": "corridor-2015", "name": "bad-security", "start": "2015-06-08T00:00",
           "horizon": "2d", "security": merge(autumn_security(), override)}
    with pytest.raises(ScenarioError) as refused:
        scenario_from_text(yaml.safe_dump(doc, sort_keys=False))
    assert refused.value.field.startswith(field)


def test_missing_site_is_named(tmp_path: Path) -> None:
    security = autumn_security()
    del security["sites"]["port"]
    result = runner.invoke(app, ["check", str(_write(tmp_path, security))])
    assert result.exit_code == 2
    assert "security.sites" in result.output and "port" in result.output


def test_a_change_naming_a_missing_stage_is_named() -> None:
    security = merge(autumn_security(), {"changes": [
        {"start": "2015-06-09T00:00", "set": {"controls": {"stage": "passport"}}}]})
    doc = {"extends": "corridor-2015", "name": "bad-security", "start": "2015-06-08T00:00",
           "horizon": "2d", "security": security}
    with pytest.raises(ScenarioError, match=r"security\.changes\[0\]\.set\.controls\.stage"):
        scenario_from_text(yaml.safe_dump(doc, sort_keys=False))


def test_a_security_run_needs_a_whole_hour() -> None:
    doc = {"extends": "corridor-2015", "name": "bad-security", "start": "2015-06-08T00:00",
           "horizon": "30min", "security": autumn_security()}
    with pytest.raises(ScenarioError, match="horizon"):
        scenario_from_text(yaml.safe_dump(doc, sort_keys=False))
