"""The comparison table: each target's published figure against the ensemble."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from straits.experiments.statistics import describe
from straits.validation.scenario_runs import ScenarioRuns
from straits.validation.targets import Target


@dataclass(frozen=True)
class Row:
    key: str
    scenario: str
    quantity: str
    unit: str
    published: str
    facts: str
    source: str
    replications: int
    model_mean: float
    model_low: float  # 95% confidence interval of the mean
    model_high: float
    band_low: float
    band_high: float
    tolerance: str
    passed: bool


def compare(targets: tuple[Target, ...], runs: dict[str, ScenarioRuns]) -> list[Row]:
    """One row per target whose scenario was run: pass when the mean is in the band
    (the 95% t-interval of the experiments' statistics; the mean twice when N = 1)."""
    rows = []
    for t in targets:
        if t.scenario not in runs:
            continue
        values = runs[t.scenario].values[t.key]
        s = describe(t.key, values)
        mean = s.mean
        low, high = s.ci95_low, s.ci95_high
        if low is None or high is None:  # one replication: no interval
            low = high = mean
        band_low, band_high = t.band
        rows.append(Row(
            key=t.key, scenario=t.scenario, quantity=t.quantity, unit=t.unit,
            published=t.published_text, facts=t.facts, source=t.source,
            replications=int(values.shape[0]), model_mean=mean, model_low=low, model_high=high,
            band_low=band_low, band_high=band_high,
            tolerance=f"±{t.tolerance:.0%} ({t.why_tolerance})", passed=t.passes(mean),
        ))
    return rows


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def rows_to_json(rows: list[Row], meta: dict[str, Any]) -> str:
    """The table as JSON: every row with its numbers, plus how it was run."""
    return json.dumps({**meta, "all_passed": all(r.passed for r in rows),
                       "targets": [asdict(r) for r in rows]}, indent=2) + "\n"


def rows_to_markdown(rows: list[Row]) -> str:
    """The table as Markdown, for docs/validation.md and reports."""
    lines = [
        "| target | scenario | quantity | published | model mean [95% CI] | tolerance | pass band "
        "| result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.key} | `{r.scenario}` | {r.quantity} ({r.unit}) | {r.published} ({r.facts}) "
            f"| {_fmt(r.model_mean)} [{_fmt(r.model_low)}, {_fmt(r.model_high)}] "
            f"| {r.tolerance.split(' (')[0]} | {_fmt(r.band_low)}–{_fmt(r.band_high)} "
            f"| {'pass' if r.passed else '**FAIL**'} |"
        )
    return "\n".join(lines) + "\n"
