"""What a study leaves in ``--out``: the front table, the HTML report, one YAML per plan.

``front.csv``     every plan of the front, the references and do-nothing, one row each
``report.html``   an interactive chart (hover: the plan; click: its page) and the tables
``plans/plan-N.yaml``  each front plan as a full scenario (``straits run`` takes it)
``plans/plan-N.html``  a plan's page: its values, costs, every statistic, the re-run check
``study.json``    all of it, machine-readable
"""

from __future__ import annotations

import csv
import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import plotly.graph_objects as go

from straits.optimisation.measures import Evaluation
from straits.optimisation.study import StudyResult
from straits.scenario import scenario_to_yaml

_HARM_NOTE = ("Harm is an outcome of the security model's assumptions; read it with "
              "docs/security.md (Harm, and what drives it).")


def write_outputs(result: StudyResult, out: Path) -> dict[str, Any]:
    """Write every output; return the study summary (also ``study.json``)."""
    (out / "plans").mkdir(parents=True, exist_ok=True)
    summary = summarise(result)
    rows = summary["front"] + summary["references"] + [summary["do_nothing"]]
    _write_csv(out / "front.csv", rows)
    for e in result.found.front:
        scenario = result.search.plan(e.plan, e.values).scenario
        (out / "plans" / f"plan-{e.plan}.yaml").write_text(
            f"# plan {e.plan} of study {result.loaded.study.name} (straits optimise)\n"
            + scenario_to_yaml(scenario))
        (out / "plans" / f"plan-{e.plan}.html").write_text(_plan_page(result, e, summary))
    (out / "report.html").write_text(_report(result, summary))
    (out / "study.json").write_text(json.dumps(finite(summary), indent=2) + "\n")
    return summary


def summarise(result: StudyResult) -> dict[str, Any]:
    study = result.loaded.study
    reruns = {r.evaluation.plan: r for r in result.reruns}
    front = []
    for e in result.found.front:
        row = result.row(e)
        check = reruns.get(e.plan)
        row["rerun"] = ({"replications": check.evaluation.replications, "holds": check.holds,
                         "constraints": [c.as_dict() for c in check.checks],
                         "statistics": result.row(check.evaluation, result.fresh_do_nothing)}
                        if check else None)
        row["out_of_sample"] = ("not re-run" if check is None
                                else "holds" if check.holds else "FAILS")
        front.append(row)
    references = []
    for search_eval, fresh in result.references:
        row = result.row(search_eval)
        row["rerun"] = {"replications": fresh.evaluation.replications, "holds": fresh.holds,
                        "constraints": [c.as_dict() for c in fresh.checks],
                        "statistics": result.row(fresh.evaluation, result.fresh_do_nothing)}
        row["out_of_sample"] = "holds" if fresh.holds else "FAILS"
        references.append(row)
    recommended = result.recommended
    return {
        "study": study.name,
        "description": study.description,
        "scenario": result.loaded.base.name,
        "seed_key": result.found.seed_key,
        "trials": len(result.found.evaluations),
        "objectives": [o.label + f" ({o.direction})" for o in study.objectives],
        "constraints": [c.label for c in study.constraints],
        "notes": list(study.notes),
        "front": front,
        "references": references,
        "do_nothing": result.row(result.found.do_nothing),
        "recommended": None if recommended is None else recommended.evaluation.plan,
        "all_trials": [result.row(e) for e in result.found.evaluations],
    }


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    columns = [k for k in rows[0] if k != "rerun"] if rows else []
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(row.get(k)) for k in columns})


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return value


def finite(value: Any) -> Any:
    """The summary with NaN and infinities as null, numpy scalars as Python (valid JSON)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return None
    if isinstance(value, np.floating | np.integer):
        return value.item()
    return value


def _hover(row: dict[str, Any]) -> str:
    """The plan's values, then every objective, constraint and shown KPI (harm included)."""
    lines = [f"<b>{html.escape(str(row['plan']))}</b>"]
    lines += [f"{html.escape(k)}: {_cell(v)}" for k, v in row.items()
              if k not in ("plan", "rerun", "replications", "out_of_sample")]
    if row.get("out_of_sample"):
        lines.append(f"re-run on fresh seeds: {row['out_of_sample']}")
    return "<br>".join(lines)


def chart(result: StudyResult, summary: dict[str, Any]) -> go.Figure:
    """Every trial (grey), the front (blue), do-nothing and references; x, y = first two
    objectives (or objective vs cost when there is one)."""
    study = result.loaded.study
    labels = [m.label for m in study.objectives]
    x_label, y_label = (labels[0], labels[1]) if len(labels) > 1 else (
        "cost of measures £", labels[0])
    fig = go.Figure()

    def trace(rows: list[dict[str, Any]], name: str, marker: dict[str, Any],
              links: bool = False) -> None:
        if not rows:
            return
        fig.add_trace(go.Scatter(
            x=[r[x_label] for r in rows], y=[r[y_label] for r in rows], mode="markers",
            name=name, marker=marker, hovertext=[_hover(r) for r in rows],
            hoverinfo="text",
            customdata=[f"plans/{r['plan'].replace(' ', '-')}.html" if links else ""
                        for r in rows]))

    trace(summary["all_trials"], "all plans tried", {"color": "#bbbbbb", "size": 7})
    trace(summary["front"], "Pareto front", {"color": "#1f77b4", "size": 11}, links=True)
    trace([summary["do_nothing"]], "do-nothing", {"color": "black", "size": 12,
                                                  "symbol": "x"})
    trace(summary["references"], "as done", {"color": "#d62728", "size": 13,
                                             "symbol": "diamond"})
    fig.update_layout(xaxis_title=x_label, yaxis_title=y_label, template="plotly_white",
                      title=f"{study.name}: plans found (click a front plan for its page)")
    return fig


_CLICK = """<script>
document.querySelectorAll('.plotly-graph-div').forEach(function (div) {
  div.on('plotly_click', function (data) {
    var link = data.points[0].customdata; if (link) { window.location.href = link; }
  });
});
</script>"""


def _report(result: StudyResult, summary: dict[str, Any]) -> str:
    figure = chart(result, summary).to_html(full_html=False, include_plotlyjs=True)
    study = result.loaded.study
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in [*study.notes, _HARM_NOTE])
    recommended = summary["recommended"]
    verdict = (f"Recommended: plan {recommended} (best first objective among plans whose "
               "constraints still hold on fresh seeds)." if recommended is not None else
               "No chosen plan met every constraint on fresh seeds: none is recommended.")
    rows = summary["front"] + summary["references"] + [summary["do_nothing"]]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{study.name}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
            "border-bottom:1px solid #ddd;font-size:13px}.FAILS{color:#b00;font-weight:bold}"
            "</style></head><body>"
            f"<h1>{html.escape(study.name)}</h1><p>{html.escape(study.description)}</p>"
            f"<p><b>{html.escape(verdict)}</b></p>{figure}{_CLICK}"
            f"<h2>Front, references and do-nothing</h2>{_table(rows, links=True)}"
            f"<h2>What drives harm in this model</h2><ul>{notes}</ul></body></html>")


def _table(rows: list[dict[str, Any]], links: bool = False) -> str:
    if not rows:
        return "<p>none</p>"
    columns = [k for k in rows[0] if k != "rerun"]
    for row in rows:
        columns += [k for k in row if k not in columns and k != "rerun"]
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            text = html.escape(str(_cell(row.get(c, ""))))
            if c == "plan" and links and str(row["plan"]).startswith("plan "):
                text = f"<a href='plans/{row['plan'].replace(' ', '-')}.html'>{text}</a>"
            cls = " class='FAILS'" if row.get(c) == "FAILS" else ""
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _plan_page(result: StudyResult, e: Evaluation, summary: dict[str, Any]) -> str:
    row = next(r for r in summary["front"] if r["plan"] == f"plan {e.plan}")
    rerun = row["rerun"]
    checks = _table(rerun["constraints"]) if rerun else "<p>not re-run</p>"
    stats = [{"KPI": k, "mean": float(np.mean(v)), "p5": float(np.percentile(v, 5)),
              "p95": float(np.percentile(v, 95)), "replications": len(v)}
             for k, v in sorted(e.kpis.items())]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>plan {e.plan}</title>"
            "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;"
            "border-bottom:1px solid #ddd;font-size:13px}</style></head><body>"
            f"<p><a href='../report.html'>back to the study</a></p><h1>plan {e.plan}</h1>"
            f"<p>Scenario: <a href='plan-{e.plan}.yaml'>plan-{e.plan}.yaml</a> "
            "(run it with <code>straits run</code> or <code>straits report</code>)</p>"
            f"<h2>Plan, objectives, constraints (search seeds)</h2>{_table([row])}"
            f"<h2>Re-run on fresh seeds: {row['out_of_sample']}</h2>{checks}"
            f"<h2>KPIs (search seeds)</h2>{_table(stats)}"
            f"<p>{html.escape(_HARM_NOTE)}</p></body></html>")
