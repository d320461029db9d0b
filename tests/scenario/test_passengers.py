"""Passenger classes and calendars in the scenario: factors as declared, bad input refused."""

from datetime import date, datetime

import numpy as np
import pytest
from typer.testing import CliRunner

from straits.cli.app import app
from straits.engine.demand import calendar_factors
from straits.scenario.calendars import day_factor
from straits.scenario.passengers import Calendar, Holiday
from straits.scenario.schema import Scenario

runner = CliRunner()


def test_the_calendar_reproduces_its_declared_factors():
    months = [1.0 + k / 10 for k in range(12)]
    calendar = Calendar(
        months={"car": months},
        holidays=[Holiday(first=date(2023, 7, 21), last=date(2023, 7, 23),
                          factors={"car": 2.0})],
        overrides={date(2023, 7, 22): {"car": 0.25}})
    assert day_factor(calendar, "car", date(2023, 3, 5)) == months[2]
    assert day_factor(calendar, "car", date(2023, 7, 21)) == months[6] * 2.0
    assert day_factor(calendar, "car", date(2023, 7, 22)) == 0.25  # override wins
    assert day_factor(calendar, "hgv", date(2023, 7, 21)) == 1.0  # no months, no holiday


def test_interval_factors_follow_the_dates_of_a_run():
    calendar = Calendar(overrides={date(2023, 7, 29): {"car": 3.0}})

    class Run:  # what calendar_factors reads of a scenario
        start = datetime(2023, 7, 28, 12, 0)

    Run.calendar = calendar  # type: ignore[attr-defined]
    edges = np.arange(0.0, 3 * 1440 + 1, 60.0)
    factors = calendar_factors(Run, "car", edges)  # type: ignore[arg-type]
    day = (edges[:-1] + 12 * 60) // 1440
    assert np.all(factors[day == 1] == 3.0) and np.all(factors[day != 1] == 1.0)


def test_builtin_calendar_knows_the_2023_easter_holidays():
    easter = Calendar(builtin="england")
    before = day_factor(easter, "coach", date(2023, 3, 30))
    assert day_factor(easter, "coach", date(2023, 3, 31)) == pytest.approx(before * 2.0)


def _write(tmp_path, body: str):
    path = tmp_path / "bad.yaml"
    path.write_text("extends: dover-summer-2023\nname: bad\n" + body)
    return path


@pytest.mark.parametrize(("body", "field"), [
    ("calendar: {builtin: narnia}\n", "calendar.builtin"),
    ("routes:\n  ferry:\n    fleet:\n      - {vessels: 6, lorries_per_sailing: 170, "
     "lane_metres: 1000}\n", "lane_metres"),
    ("passengers:\n  classes:\n    coach:\n      stages:\n        dover:\n"
     "          - {name: coach_french_border, booths: 0, per_person: true, service_time: "
     "{distribution: deterministic, value: 20s}}\n", "booths"),
    ("passengers:\n  classes:\n    car:\n      stages:\n        dover:\n"
     "          - {name: passport, shared_with_hgv: true}\n", "passport"),
    ("terminals:\n  dover: {passenger_lane_metres: 0}\n", "passenger_lane_metres"),
    ("passengers:\n  classes:\n    coach:\n      stages:\n        dover:\n"
     "          - {name: coach_french_border, booths: 3, service_time: "
     "{distribution: deterministic, value: 20s}, vehicle_overhead: "
     "{distribution: deterministic, value: 30s}}\n", "stages.dover"),
    ("behaviour: {enabled: true}\n", "behaviour.enabled"),
])
def test_bad_passenger_input_exits_2_naming_the_field(tmp_path, body, field):
    result = runner.invoke(app, ["run", str(_write(tmp_path, body))])
    assert result.exit_code == 2, result.output
    assert field in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_lorry_only_scenario_has_no_class_section():
    fields = Scenario.model_fields
    assert fields["passengers"].default is None and fields["calendar"].default is None
