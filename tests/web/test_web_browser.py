"""The dashboard and the report in headless chromium (Debian's), as a user sees them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from straits.pipeline import simulate
from straits.report import render_report, run_from_results
from straits.scenario import load_scenario, scenario_from_mapping

RUN_TIMEOUT_MS = 60_000


def _plot_traces(page, element_id: str) -> int:
    """Traces plotly drew into a chart (0 if it was never drawn)."""
    return page.evaluate(f"() => (document.getElementById('{element_id}').data || []).length")


def _kpi(page, key: str) -> float:
    """A KPI cell's value: minutes from '47.3 min' or '28:45 h', km from '12.3 km (7.6 mi)'."""
    text = page.locator(f'[data-kpi="{key}"]').inner_text().replace(",", "")
    clock = re.match(r"^(-?\d+):(\d\d) h", text)
    if clock:
        return int(clock.group(1)) * 60 + int(clock.group(2))
    return float(re.match(r"^-?[\d.]+", text).group(0))


def _run(page, expected_run: str) -> None:
    page.click("#run-button")
    page.wait_for_selector(f'body[data-shown-run="{expected_run}"]', timeout=RUN_TIMEOUT_MS)


def test_dashboard_runs_a_scenario_changes_a_lever_and_compares(page, live_server):
    page.goto(live_server)
    page.wait_for_selector("#stage-table tbody tr")
    assert page.input_value("#scenario-select") == "baseline"  # the default choice
    page.fill("#horizon-days", "1")
    first = page.evaluate("() => fetch('/api/runs').then(r => r.json()).then(r => r.length)")
    _run(page, f"r{first + 1}")
    # the queue chart and the map are drawn, with data
    assert page.locator("#chart-queue_lorries .main-svg").count() > 0
    assert page.locator("#chart-map .main-svg").count() > 0
    assert _plot_traces(page, "chart-map") > 5
    assert page.evaluate("() => document.getElementById('chart-map').layout.sliders[0]"
                         ".steps.length") == 97
    assert page.evaluate("() => document.getElementById('chart-queue_lorries').data"
                         ".some(t => t.y.some(v => v > 0))")
    assert page.locator("#security-off").is_visible()
    before = _kpi(page, "southbound|delay per lorry, mean")

    # fewer French border booths at Dover: the mean delay southbound goes up
    page.fill('input[aria-label="dover french_border booths"]', "3")
    _run(page, f"r{first + 2}")
    after = _kpi(page, "southbound|delay per lorry, mean")
    assert after > 2 * before
    # queue lengths read in km with miles beside them; durations over 2 h as h:mm
    peak = page.locator('[data-kpi="southbound|peak queue length"]').inner_text()
    km, miles = map(float, re.match(r"^([\d.,]+) km \(([\d.,]+) mi\)", peak.replace(",", ""))
                    .groups())
    assert miles == pytest.approx(km / 1.609344, abs=0.06)
    longest = page.locator('[data-kpi="southbound|delay per lorry, longest"]').inner_text()
    assert re.match(r"^\d+:\d\d h$", longest), longest  # hours behind 3 booths
    assert page.locator("#runs tbody tr").count() == first + 2

    page.select_option("#compare-select", f"r{first + 1}")
    page.click("#compare-button")
    page.wait_for_selector("#compare-table td.worse")
    assert _plot_traces(page, "chart-compare-queue") >= 2
    assert page.errors == []


def test_a_run_can_be_stopped_from_its_row(page, live_server):
    page.goto(live_server)
    page.wait_for_selector("#stage-table tbody tr")
    page.fill("#horizon-days", "1")
    page.fill("#replications", "10")
    page.click("#run-button")
    row = page.locator("#runs tbody tr").first
    row.locator("button.cancel").click()
    page.wait_for_function("() => /^(stopped after \\d+ of 10|cancelled)$/.test("
                           "document.querySelector('#runs tbody tr').cells[2].textContent)",
                           timeout=RUN_TIMEOUT_MS)
    assert row.locator("button.cancel").count() == 0
    assert page.errors == []


def test_bad_input_is_shown_next_to_its_field(page, live_server, tmp_path):
    page.goto(live_server)
    page.wait_for_selector("#stage-table tbody tr")
    count_runs = "() => fetch('/api/runs').then(r => r.json()).then(r => r.length)"
    runs_before = page.evaluate(count_runs)
    # a lever out of range
    page.fill("#horizon-days", "400")
    page.click("#run-button")
    error = page.locator('.field-error[data-error-for="levers.horizon_days"]')
    error.wait_for()
    assert "366" in error.inner_text()
    # an invalid upload: the schema's field path and line, right after the file input
    bad = tmp_path / "bad.yaml"
    bad.write_text("extends: corridor-2015\nname: bad\nstart: 2015-06-08T00:00\nhorizon: 1d\n"
                   "terminals:\n  dover:\n    buffer_lorries: -5\n")
    page.set_input_files("#scenario-file", str(bad))
    error = page.locator('.field-error[data-error-for="file"]')
    error.wait_for()
    assert "terminals.dover.buffer_lorries" in error.inner_text()
    assert "line 7" in error.inner_text()
    assert page.evaluate("() => document.getElementById('scenario-file').nextElementSibling"
                         ".dataset.errorFor") == "file"
    assert "has-error" in page.get_attribute("#scenario-file", "class")
    assert page.evaluate(count_runs) == runs_before  # nothing was queued


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    data = load_scenario("calais-strike-2015").model_dump(mode="json")
    data["horizon"] = "2d"
    data["disruptions"] = data["disruptions"][:3]
    run = run_from_results([simulate(scenario_from_mapping(data), 1)])
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(run), encoding="utf-8")
    return path


def test_report_renders_offline_without_errors_or_requests(page, report_file):
    requested = []

    def block(route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            requested.append(url)
            route.abort()

    page.context.set_offline(True)
    page.route("**/*", block)
    page.goto(report_file.as_uri())
    page.wait_for_selector("#chart-throughput .main-svg")
    for chart in ("chart-map", "chart-queue-lorries", "chart-queue-km", "chart-delay",
                  "chart-throughput"):
        assert _plot_traces(page, chart) > 0, chart
    # the slider moves the map to another time
    title = page.evaluate("() => document.getElementById('chart-map').layout.title.text")
    page.locator("#chart-map .slider-rail-touch-rect").click(position={"x": 30, "y": 20})
    page.wait_for_timeout(300)
    moved = page.evaluate("() => document.getElementById('chart-map').layout.title.text")
    assert moved != title
    assert requested == []
    assert page.errors == []
