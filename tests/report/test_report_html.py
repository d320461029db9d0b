"""The report is one self-contained, deterministic HTML file with no external URL."""

from __future__ import annotations

import re

from plotly.offline import get_plotlyjs

from straits.report import render_compare, render_report, report_figures
from straits.report.html import PLOTLY_MARKER, SECURITY_OFF

URL = re.compile(r"https?://", re.IGNORECASE)
REMOTE_REFERENCE = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import\s)""", re.IGNORECASE)


def _ours(html: str) -> str:
    """The document without the inlined plotly.js bundle (whose code names URLs it
    never fetches unless a map-tile or geo trace asks for them)."""
    bundle = get_plotlyjs()
    assert html.count(bundle) == 1, "plotly.js must be inlined exactly once"
    return html.replace(bundle, "")


def test_report_is_self_contained(queued_run):
    """Our part of the page names no URL at all. The plotly.js bundle holds URLs for map
    tiles, attributions and its logo, used only by trace types and options this report
    does not use (checked below); the browser test (tests/web) loads the page with the
    network blocked and asserts that nothing is fetched and nothing fails."""
    html = render_report(queued_run)
    ours = _ours(html)
    assert URL.findall(ours) == []
    assert REMOTE_REFERENCE.findall(ours) == []
    assert html.count(PLOTLY_MARKER) == 1
    assert "<script src" not in html.lower() and "<link" not in html.lower()
    # only trace types that draw from the data in the page (no geo/tile traces that fetch)
    for fig in report_figures(queued_run).values():
        assert {trace.type for trace in fig.data} <= {"scatter", "bar", "funnel"}


def test_report_has_every_section_and_says_when_security_is_off(queued_run):
    html = render_report(queued_run)
    for div in ("chart-map", "chart-queue-lorries", "chart-queue-km", "chart-delay",
                "chart-throughput"):
        assert f'id="{div}"' in html
    assert SECURITY_OFF in html and 'id="chart-security"' not in html
    assert "Full scenario (YAML)" in html and "slow-border" in html


def test_report_is_the_same_bytes_each_time(queued_run):
    assert render_report(queued_run) == render_report(queued_run)


def test_ensemble_report_gives_ranges(ensemble):
    html = render_report(ensemble)
    assert "4 replications (seeds 1, 2, 3, 4)" in html
    assert "class='range'" in html


def test_comparison_highlights_changes(queued_run, strike_run):
    html = render_compare(queued_run, strike_run)
    _ours(html)
    assert URL.findall(_ours(html)) == []
    assert "class='better'" in html or "class='worse'" in html
    for div in ("chart-compare-queue", "chart-compare-delay", "chart-compare-throughput",
                "chart-map-a", "chart-map-b"):
        assert f'id="{div}"' in html
