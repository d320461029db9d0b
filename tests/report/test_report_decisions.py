"""Holding decisions in the report: every logged call, set-up and stand-down is marked on
the timeline with its reason, and the map shows each area's state at the slider's time."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import unescape

import pytest

from straits.cli.corridor import write_outputs
from straits.pipeline import simulate
from straits.report import charts, render_report
from straits.report.corridor_map import map_figure
from straits.report.sources import load_out_folder, run_from_results
from straits.scenario import Scenario
from tests.conftest import corridor_mapping, scenario_with

AREA = "stack-phase-1"
# (hours after the start, decision, reason) that the plan below must log: a scheduled call
# at +6 h, usable after a 2 h set-up, stood down at the first decision time 4 h in force and
# 1 h below a level the queue never reaches
CALL_HOURS, SET_UP_HOURS, IN_FORCE_HOURS = 6, 2, 4
EXPECTED = [(CALL_HOURS, "called", "scheduled"),
            (CALL_HOURS + SET_UP_HOURS, "in force", "set-up done"),
            (CALL_HOURS + SET_UP_HOURS + IN_FORCE_HOURS, "stood down", "queue quiet")]


def plan(decided: bool) -> dict:
    """The shared Kent plan with every decision dropped, and (if ``decided``) one
    scheduled decision of our own on ``AREA``."""
    holding = corridor_mapping()["holding"]
    for direction in ("southbound", "northbound"):
        for area in holding[direction]["areas"]:
            area.pop("decision", None)
    if decided:
        area = next(a for a in holding["southbound"]["areas"] if a["name"] == AREA)
        area["decision"] = {"call_at": [f"+{CALL_HOURS}h"], "set_up": f"{SET_UP_HOURS}h",
                            "minimum_in_force": f"{IN_FORCE_HOURS}h",
                            "stand_down_below_lorries": 1_000_000, "stand_down_after": "1h"}
    holding["southbound"]["decision_interval"] = "15min"
    return holding


@pytest.fixture(scope="module")
def decided() -> Scenario:
    return scenario_with(horizon="1d", holding=plan(True))


@pytest.fixture(scope="module")
def decided_run(decided):
    return run_from_results([simulate(decided, 1)])


def expected_texts(start: datetime) -> list[tuple[str, str]]:
    """(ISO minute on the time axis, hover text) of each decision we scheduled."""
    out = []
    for hours, decision, reason in EXPECTED:
        moment = start + timedelta(hours=hours)
        out.append((moment.isoformat(timespec="minutes"),
                    f"{AREA} {decision}: {reason} ({moment:%a %d %b %Y %H:%M})"))
    return out


def marks(fig) -> list[tuple[str, str]]:
    return sorted((x, text) for t in fig.data if t.mode == "markers" and t.legendgroup
                  and t.legendgroup.startswith("decision") for x, text in zip(t.x, t.text,
                                                                                strict=True))


def test_the_plan_logs_the_decisions_we_scheduled(decided_run):
    log = [(e["time"], e["area"], e["decision"], e["reason"])
           for e in decided_run.summary["holding_decisions"]]
    start = decided_run.start
    assert log == [((start + timedelta(hours=h)).isoformat(timespec="minutes"), AREA, d, r)
                   for h, d, r in EXPECTED]


@pytest.mark.parametrize("unit", ["lorries", "km"])
def test_the_timeline_marks_each_decision_with_its_time_and_reason(decided_run, unit):
    fig = charts.queue_figure(decided_run, unit)
    assert marks(fig) == expected_texts(decided_run.start)
    southbound = {t.yaxis for t in fig.data if t.mode == "markers" and t.legendgroup
                  and t.legendgroup.startswith("decision")}
    assert southbound == {"y"}  # Kent's row only: the area is southbound


def test_the_map_lists_each_decision_and_shows_the_state_at_the_slider(decided_run):
    fig = map_figure(decided_run)
    outline = next(t for t in fig.data if t.name == f"{AREA} (decisions)")
    for _, text in expected_texts(decided_run.start):
        assert text in outline.hovertext
    slider = fig.layout.sliders[0]
    set_up_line, in_force_line = range(len(slider.steps[0].args[2]))[-2:]  # AREA's, last
    start = decided_run.start
    for hours, set_up_drawn, in_force_drawn in (
            (CALL_HOURS - 1, False, False),
            (CALL_HOURS + 1, True, False),
            (CALL_HOURS + SET_UP_HOURS + 1, False, True),
            (CALL_HOURS + SET_UP_HOURS + IN_FORCE_HOURS + 1, False, False)):
        restyle = step_at(slider, start + timedelta(hours=hours)).args[0]
        assert bool(restyle["x"][set_up_line]) == set_up_drawn
        assert bool(restyle["x"][in_force_line]) == in_force_drawn
        legend = {restyle["name"][i] for i in (set_up_line, in_force_line)
                  if restyle["x"][i]}  # plotly lists a trace only while it has points
        expected = {f"{AREA}: being set up"} if set_up_drawn else set()
        assert legend == expected | ({f"{AREA}: in force"} if in_force_drawn else set())
    called_at = start + timedelta(hours=CALL_HOURS)
    ready_at = called_at + timedelta(hours=SET_UP_HOURS)
    restyle = step_at(slider, ready_at + timedelta(hours=1)).args[0]
    assert restyle["hovertext"][in_force_line][0] == (
        f"{AREA}: in force since {ready_at:%a %d %b %Y %H:%M} (set-up done); "
        f"called {called_at:%a %d %b %Y %H:%M} (scheduled)")
    restyle = step_at(slider, called_at + timedelta(hours=1)).args[0]
    assert restyle["hovertext"][set_up_line][0] == (
        f"{AREA}: called since {called_at:%a %d %b %Y %H:%M} (scheduled)")


def step_at(slider, moment: datetime):
    return next(s for s in slider.steps if s.label == f"{moment:%a %d %b %Y %H:%M}")


def test_an_ensemble_map_counts_the_runs_with_the_area_in_force(decided):
    run = run_from_results([simulate(decided, seed) for seed in (1, 2)])
    fig = map_figure(run, at=run.start + timedelta(hours=CALL_HOURS + SET_UP_HOURS + 1))
    assert f"{AREA}: in force in 2 of 2 runs" in [t.name for t in fig.data]


def test_a_run_without_decisions_marks_none(decided):
    run = run_from_results([simulate(scenario_with(horizon="1d", holding=plan(False)), 1)])
    assert "holding_decisions" not in run.summary
    assert marks(charts.queue_figure(run)) == []
    fig = map_figure(run)
    assert not [t for t in fig.data if "decisions" in (t.name or "") or ":" in (t.name or "")]
    html = render_report(run)
    assert "No holding area of this scenario has a decision" in html
    assert "<details id='decisions'>" not in html


def test_the_page_and_an_out_folder_carry_the_decisions(decided, decided_run, tmp_path):
    html = render_report(decided_run)
    for _, text in expected_texts(decided_run.start):
        assert text in unescape(html)  # in the charts' data
    table = html.split("<details id='decisions'>")[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]  # after the header
    assert len(rows) == len(EXPECTED)
    for row, (hours, decision, reason) in zip(rows, EXPECTED, strict=True):
        moment = decided_run.start + timedelta(hours=hours)
        assert row == (f"<td>{moment:%a %d %b %Y %H:%M}</td><td>southbound</td><td>{AREA}</td>"
                       f"<td>{decision}</td><td>{reason}</td></tr>")
    write_outputs(tmp_path / "run", simulate(decided, 1), force=False)
    loaded = load_out_folder(tmp_path / "run")
    assert marks(charts.queue_figure(loaded)) == marks(charts.queue_figure(decided_run))
