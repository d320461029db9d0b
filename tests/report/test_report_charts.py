"""Charts and the map show what the records say: checked against the KPI summary."""

from __future__ import annotations

import numpy as np
import pytest

from straits.metrics.timeseries import STEP_MINUTES
from straits.pipeline import simulate
from straits.report import charts
from straits.report.corridor_map import corridor_geometry, map_figure, path_km
from straits.report.kpi_table import KpiRow, change_class, kpi_rows
from straits.report.series import run_series
from straits.report.sources import run_from_results


def test_throughput_bars_add_up_to_the_lorries_that_crossed(queued_run):
    fig = charts.throughput_figure(queued_run)
    summary = queued_run.summary
    bars = [t for t in fig.data if t.type == "bar"]
    routes = summary["directions"]["southbound"]["routes"]
    assert len(bars) == 2 * len(routes)  # every route in two directions
    for bar in bars:
        route = bar.name.split(":")[0]
        direction = "southbound" if bar.yaxis == "y" else "northbound"
        assert round(sum(bar.y)) == summary["directions"][direction]["routes"][route]["crossed"]


def test_delay_histogram_counts_the_lorries_the_delay_kpis_count(queued_run):
    """Every lorry that crossed and every one still waiting at the horizon (censored)."""
    fig = charts.delay_figure(queued_run)
    for trace, direction in zip(fig.data, ("southbound", "northbound"), strict=True):
        assert trace.name.startswith(direction)
        kpis = queued_run.summary["directions"][direction]
        counted = kpis["crossed"] + kpis["delay_minutes"]["censored_lorries"]
        assert round(sum(trace.y)) == counted


def test_queue_chart_draws_each_used_place_and_the_peak_matches_the_summary(queued_run):
    fig = charts.queue_figure(queued_run, "lorries")
    lines = {t.name.split(" ")[0]: t for t in fig.data
             if t.name.split(" ")[0] not in ("inside", "total", "peak") and t.mode == "lines"}
    used = {k for k, v in queued_run.summary["holding"].items() if v["hours_active"] > 0}
    assert set(lines) == used and used
    for name in used:
        peak_15min = max(v for v in lines[name].y if v is not None)
        assert peak_15min <= queued_run.summary["holding"][name]["peak_lorries"] + 0.5
        assert peak_15min > 0


def test_ensemble_band_brackets_the_mean(ensemble):
    fig = charts.queue_figure(ensemble, "lorries")
    traces = [t for t in fig.data if t.mode == "lines"
              and (t.name or "").split(" ")[0] not in ("inside", "total", "peak")]
    assert len(traces) % 3 == 0
    for high, low, mean in zip(traces[::3], traces[1::3], traces[2::3], strict=True):
        y = [np.array([np.nan if v is None else v for v in t.y]) for t in (high, low, mean)]
        assert np.all(y[1] <= y[2] + 1e-9) and np.all(y[2] <= y[0] + 1e-9)
        assert low.fill == "tonexty"


def test_disruption_windows_are_shaded_on_every_time_chart(strike_run):
    windows = strike_run.summary["disruptions"]
    assert windows
    for fig in (charts.queue_figure(strike_run), charts.throughput_figure(strike_run)):
        rects = [s for s in fig.layout.shapes if s.type == "rect"]
        assert len(rects) == 2 * len(windows)  # one per window per subplot
        assert {(r.x0, r.x1) for r in rects} == {(w["start"], w["end"]) for w in windows}


def test_map_draws_each_area_in_proportion_to_how_full_it_is(queued_run):
    fig = map_figure(queued_run)
    geometry = corridor_geometry()["areas"]
    series = run_series(queued_run)
    assert len(fig.layout.sliders[0].steps) == series.minutes.shape[0]  # every 15 min a step
    k = fig.layout.sliders[0].active
    capacity = {a.name: a.capacity_lorries for a in queued_run.scenario.holding.southbound.areas}
    checked = 0
    for place in series.queues("southbound"):
        if place.place not in capacity:
            continue
        trace = next(t for t in fig.data if t.name == place.place)
        drawn = path_km(list(zip(trace.x, trace.y, strict=True)))[-1] if trace.x else 0.0
        full = path_km(geometry[place.place]["path"])[-1]
        share = min(place.lorries[0, k] / capacity[place.place], 1.0)
        assert abs(drawn - full * share) < 1e-6
        checked += share > 0
    assert checked >= 1


def test_map_slider_moves_through_time_and_lists_areas_it_cannot_draw(queued_run):
    fig = map_figure(queued_run)
    steps = fig.layout.sliders[0].steps
    horizon = queued_run.scenario.horizon
    assert len(steps) == horizon // STEP_MINUTES + 1  # every 15 minutes, both ends
    assert all(s.method == "update" for s in steps)
    assert not [a for a in fig.layout.annotations if "not on the map" in a.text]


def test_security_funnel_starts_with_attempts_that_end_in_one_outcome_each(short):
    run = run_from_results([simulate(short("calais-autumn-2015", 2.0), 1)])
    security = run.summary["security"]
    fig = charts.security_figure(run)
    funnel = next(t for t in fig.data if t.type == "funnel")
    assert funnel.y[0] == "attempts" and funnel.x[0] == security["attempts"]["total"]
    assert list(funnel.x) == sorted(funnel.x, reverse=True)  # each layer only removes
    # what gets past every layer is exactly the people who reached the UK undetected
    assert funnel.x[-1] == security["outcomes"]["reached_uk_undetected"]
    removed = sum(security["outcomes"][k] for k, _ in charts.SECURITY_LAYERS)
    assert funnel.x[0] - removed == funnel.x[-1]
    assert charts.security_figure(run_from_results([simulate(short("baseline"), 1)])) is None


def test_ensemble_kpis_keep_every_replication(ensemble):
    rows = kpi_rows(ensemble)
    assert rows and all(len(r.values) == 4 for r in rows)
    assert all(r.low <= r.mean <= r.high for r in rows)


def test_what_hauliers_did_is_in_the_kpi_table(strike_run):
    rows = {(r.section, r.label): r for r in kpi_rows(strike_run)}
    summary = strike_run.replications[0].summary
    behaviour = summary["directions"]["southbound"]["behaviour"]
    assert rows[("hauliers (southbound)", "loads held back")].mean == behaviour["postponed"]
    assert rows[("hauliers (southbound)", "diverted out of the Short Straits")].mean == \
        behaviour["diverted"]
    assert rows[("corridor", "cost of diversions to hauliers")].mean == \
        summary["diversion_cost_gbp"]


def test_change_is_better_or_worse_by_the_kpi_direction():
    def row(value, better):
        return KpiRow("s", "k", "", better, (value,))

    assert change_class(row(100, "lower"), row(80, "lower")) == "better"
    assert change_class(row(100, "lower"), row(120, "lower")) == "worse"
    assert change_class(row(100, "higher"), row(120, "higher")) == "better"
    assert change_class(row(100, None), row(120, None)) == "changed"
    assert change_class(row(100, "lower"), row(103, "lower")) == ""


def test_passenger_classes_are_in_the_kpi_table_and_on_the_map():
    from straits.report.corridor_map import map_figure
    from straits.report.sources import simulate_run
    from straits.scenario import load_scenario, scenario_from_mapping

    data = load_scenario("dover-summer-2023").model_dump(mode="json", exclude_none=True)
    data["horizon"] = "12h"
    data["terminals"]["dover"]["passenger_lane_metres"] = 600  # cars back out onto the road
    run = simulate_run(scenario_from_mapping(data), [1])
    cars = run.summary["classes"]["southbound"]["car"]
    rows = {(r.section, r.label): r for r in kpi_rows(run)}
    assert rows[("cars (southbound)", "passenger-hours of delay")].mean == pytest.approx(
        cars["passenger_hours_delayed"])
    km = cars["queue_peak_km"]["dover"]
    assert km > 0 and rows[("cars (southbound)", "peak queue on the road to dover")].mean == km
    hover = next(t for t in map_figure(run).data if t.name == "inside the terminals").hovertext
    assert any(text.startswith("dover:") and f"cars: peak queue {km:.1f} km" in text
               for text in hover)
