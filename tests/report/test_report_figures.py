"""Charts that do not mislead: the total queue against the headline peak, a one-day
throughput axis, comparisons across different horizons, a map whose labels keep apart."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from straits.cli import app
from straits.cli.corridor import write_outputs
from straits.pipeline import simulate
from straits.report import charts, render_compare
from straits.report.corridor_map import (
    SCALE_KM,
    boxes_overlap,
    corridor_geometry,
    map_figure,
    path_km,
    place_labels,
)
from straits.report.html import comparison_warnings
from straits.report.series import run_series
from straits.report.sources import run_from_results


def _values(trace) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in trace.y], dtype=float)


@pytest.mark.parametrize("unit", ["lorries", "km"])
def test_total_queue_line_is_the_sum_of_places_under_the_headline_peak(queued_run, unit):
    fig = charts.queue_figure(queued_run, unit)
    totals = [t for t in fig.data if t.name == charts.TOTAL_NAME]
    peaks = [t for t in fig.data if t.name == charts.PEAK_NAME]
    assert totals and len(totals) == len(peaks)
    series = run_series(queued_run)
    for total, peak in zip(totals, peaks, strict=True):
        direction = "southbound" if total.yaxis == "y" else "northbound"
        places = [p.lorries if unit == "lorries" else p.km for p in series.queues(direction)]
        expected = np.nansum([np.nanmean(v, axis=0) for v in places], axis=0)
        assert np.allclose(_values(total), expected, atol=1e-3)
        kpi = queued_run.summary["directions"][direction][charts._PEAK_KPI[unit]]
        assert list(peak.y) == pytest.approx([kpi, kpi], abs=1e-3)
        step = 1.0 if unit == "lorries" else 0.05  # one lorry's length or count of slack
        assert np.nanmax(_values(total)) <= kpi + step


def test_one_day_throughput_axis_spans_the_day_with_visible_bars(queued_run):
    fig = charts.throughput_figure(queued_run)
    start = queued_run.start
    assert tuple(fig.layout.xaxis.range) == (start.isoformat(),
                                             (start + timedelta(days=1)).isoformat())
    bars = [t for t in fig.data if t.type == "bar"]
    by_axis: dict[str, list] = {}
    for bar in bars:
        by_axis.setdefault(bar.xaxis, []).append(bar)
    for group in by_axis.values():
        spans = sorted((b.offset, b.offset + b.width) for b in group)
        assert all(a[1] <= b[0] + 1e-6 for a, b in itertools.pairwise(spans))
        assert spans[-1][1] - spans[0][0] == pytest.approx(0.8 * charts.MS_PER_DAY)


def test_daily_peaks_are_the_days_maxima_of_the_total(strike_run):
    peaks = charts.daily_peak_queue(strike_run)
    series = run_series(strike_run)
    total = np.nansum([np.nanmean(p.lorries, axis=0) for p in series.queues()], axis=0)
    assert peaks.shape == (2,)
    assert peaks.max() == pytest.approx(total.max())
    first_day = series.minutes < 1440
    assert peaks[0] == pytest.approx(total[first_day].max())


def test_comparing_different_horizons_warns_and_goes_relative(queued_run, strike_run):
    warnings = comparison_warnings(queued_run, strike_run)
    assert any("horizons differ (A 1 days, B 2 days)" in w for w in warnings)
    assert comparison_warnings(queued_run, queued_run) == []
    assert charts.relative_axis(queued_run, strike_run)  # they start on different days
    fig = charts.compare_queue_figure(queued_run, strike_run)
    assert all(isinstance(x, float) for t in fig.data for x in t.x[:3])
    assert max(max(t.x) for t in fig.data) == pytest.approx(2.0)
    calendar = charts.compare_queue_figure(queued_run, strike_run, relative=False)
    assert isinstance(calendar.data[0].x[0], str)
    html = render_compare(queued_run, strike_run)
    assert "the horizons differ" in html and "days since the start" in html
    assert "chart-compare-daily" in html


def test_compare_cli_prints_the_warning(tmp_path, queued_run, strike_run, slow_border):
    folder = tmp_path / "one-day"
    write_outputs(folder, simulate(slow_border, 1), force=False)
    other = tmp_path / "two.yaml"
    other.write_text("extends: baseline\nname: two-days\nhorizon: 2d\n")
    target = tmp_path / "diff.html"
    result = CliRunner().invoke(app, ["compare", str(folder), str(other), "-o", str(target),
                                      "--axis", "relative"])
    assert result.exit_code == 0, result.output
    assert "warning: the horizons differ (A 1 days, B 2 days)" in result.stderr
    assert "days since the start" in target.read_text()
    bad = CliRunner().invoke(app, ["compare", str(folder), str(other), "--axis", "sideways"])
    assert bad.exit_code == 2 and "--axis: 'sideways'" in bad.stderr


def test_map_labels_do_not_overlap_and_avoid_the_towns():
    geometry = corridor_geometry()
    labels = place_labels(geometry)
    assert {label.text for label in labels} == set(geometry["places"]) | set(geometry["roads"])
    boxes = [label.box() for label in labels]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            assert not boxes_overlap(a, boxes[j]), (labels[i].text, labels[j].text)
    for label in labels[len(geometry["places"]):]:  # road names clear of every town marker
        left, bottom, right, top = label.box()
        for lon, lat in geometry["places"].values():
            assert not (left <= lon <= right and bottom <= lat <= top), label.text


def test_the_scale_bar_is_to_scale(queued_run):
    fig = map_figure(queued_run)
    bars = [s for s in fig.layout.shapes if s.type == "line" and s.y0 == s.y1]
    assert len(bars) == 2
    lengths = sorted(path_km([[b.x0, b.y0], [b.x1, b.y1]])[-1] for b in bars)
    assert lengths == pytest.approx([SCALE_KM, SCALE_KM * 1.609344], rel=1e-6)
    texts = {a.text for a in fig.layout.annotations}
    assert {f"{SCALE_KM:g} km", f"{SCALE_KM:g} miles"} <= texts


def test_one_replication_figures_still_build_from_an_ensemble(ensemble):
    fig = charts.compare_daily_figure(ensemble, run_from_results([simulate(
        ensemble.scenario, 9)]))
    assert len([t for t in fig.data if t.type == "bar"]) == 4
    assert isinstance(datetime.fromisoformat(ensemble.summary["start"]), datetime)
