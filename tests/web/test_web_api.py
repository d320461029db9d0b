"""The JSON API: scenarios, runs in the background queue, results, and its safety rules."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from straits.report import render_report
from straits.report.kpi_table import kpi_rows
from straits.report.sources import load_from_store
from straits.scenario import load_scenario
from straits.web import Settings, create_app
from tests.web.conftest import LOCAL

ONE_DAY = {"horizon_days": 1}


def test_scenarios_are_listed_and_described(client):
    names = [s["name"] for s in client.get("/api/scenarios").json()]
    assert "baseline" in names and "calais-strike-2015" in names
    info = client.get("/api/scenarios/baseline").json()
    stage = load_scenario("baseline").terminals["dover"].stages[1]
    assert info["terminals"]["dover"][1] == {"name": stage.name, "booths": stage.booths,
                                             "check_minutes": stage.service_time.mean}
    assert info["security"] is None
    assert "corridor-2015" in info["holding_plans"] and "rwcs-2021" in info["holding_plans"]
    assert client.get("/api/scenarios/calais-autumn-2015").json()["security"]["search_share"]


def test_a_run_goes_through_the_queue_to_results(client, wait_done):
    response = client.post("/api/runs", json={"scenario": "baseline", "levers": ONE_DAY,
                                              "replications": 2, "seed": 5})
    assert response.status_code == 202
    run = wait_done(client, response.json()["id"])
    assert run["status"] == "done" and run["done"] == run["total"] == 2
    kpis = {(k["section"], k["label"]): k for k in run["kpis"]}
    assert kpis[("southbound", "lorries arrived")]["low"] <= \
        kpis[("southbound", "lorries arrived")]["value"]
    figures = client.get(f"/api/runs/{run['id']}/figures").json()
    assert {"map", "queue_lorries", "queue_km", "delay", "throughput"} <= set(figures)
    assert "security" not in figures
    report = client.get(f"/api/runs/{run['id']}/report.html")
    assert report.status_code == 200 and "attachment" in report.headers["content-disposition"]
    assert "2 replications (seeds 5, 6)" in report.text
    yaml_text = client.get(f"/api/runs/{run['id']}/scenario.yaml").text
    assert "horizon: 1d" in yaml_text


def test_levers_change_the_run_and_comparison_says_which_way(client, wait_done):
    base = client.post("/api/runs", json={"scenario": "baseline", "levers": ONE_DAY}).json()
    slow = client.post("/api/runs", json={"scenario": "baseline", "levers": {
        **ONE_DAY, "stages": [{"terminal": "dover", "stage": "french_border", "booths": 3,
                               "check_minutes": 2.5}]}}).json()
    wait_done(client, base["id"]), wait_done(client, slow["id"])
    comparison = client.get(f"/api/compare?a={base['id']}&b={slow['id']}").json()
    delay = next(k for k in comparison["kpis"]
                 if k["section"] == "southbound" and k["label"] == "delay per lorry, mean")
    assert delay["b"] > 2 * delay["a"] and delay["change"] == "worse"
    assert set(comparison["figures"]) == {"queue", "delay", "throughput"}
    assert client.get(f"/api/compare/report.html?a={base['id']}&b={slow['id']}").status_code \
        == 200


def test_strike_and_holding_plan_levers(client, wait_done):
    run = client.post("/api/runs", json={"scenario": "baseline", "levers": {
        **ONE_DAY, "holding_plan": "rwcs-2021",
        "strikes": [{"target": "ferry", "start": "2015-06-08T06:00", "duration_hours": 12,
                     "capacity_fraction": 0.0}]}}).json()
    done = wait_done(client, run["id"])
    assert done["status"] == "done"
    yaml_text = client.get(f"/api/runs/{run['id']}/scenario.yaml").text
    assert "brock-m20-j8-9" in yaml_text and "strike at ferry (dashboard)" in yaml_text
    kpis = {(k["section"], k["label"]): k["value"] for k in done["kpis"]}
    assert kpis[("corridor", "Operation Stack/Brock in use (h)")] > 0


def test_security_levers_reach_the_security_model(client, wait_done):
    levers = {**ONE_DAY, "security": {"police": {"tunnel": 0, "port": 0, "lorries": 0},
                                      "search_share": 0.0}}
    strict = client.post("/api/runs", json={"scenario": "calais-autumn-2015",
                                            "levers": ONE_DAY}).json()
    lax = client.post("/api/runs", json={"scenario": "calais-autumn-2015",
                                         "levers": levers}).json()
    undetected = []
    for run in (strict, lax):
        done = wait_done(client, run["id"])
        assert done["security"]
        kpis = {(k["section"], k["label"]): k["value"] for k in done["kpis"]}
        undetected.append(kpis[("security", "outcomes · reached uk undetected")])
    assert undetected[1] > undetected[0]
    assert "security" in client.get(f"/api/runs/{lax['id']}/figures").json()
    refused = client.post("/api/runs", json={"scenario": "baseline", "levers": levers})
    assert refused.json()["errors"][0]["field"] == "levers.security"


@pytest.mark.parametrize(("body", "field", "text"), [
    ({"scenario": "baseline", "replications": 4}, "replications", "at most 3"),
    ({"scenario": "baseline"}, "levers.horizon_days", "at most 3 days"),
    ({"scenario": "nope", "levers": ONE_DAY}, "scenario", "unknown scenario"),
    ({"levers": ONE_DAY}, "scenario", "either a built-in"),
    ({"scenario": "baseline", "levers": {**ONE_DAY, "stages": [
        {"terminal": "dover", "stage": "x", "booths": 3}]}}, "levers.stages[0].stage",
     "no stage 'x'"),
    ({"scenario": "baseline", "levers": {**ONE_DAY, "stages": [
        {"terminal": "dover", "stage": "check_in", "booths": -1}]}},
     "levers.stages[0].booths", "greater than or equal to 0"),
    ({"scenario": "baseline", "levers": {**ONE_DAY, "strikes": [
        {"target": "dover", "start": "2015-07-01T00:00", "duration_hours": 5}]}},
     "levers.strikes[0].start", "outside the horizon"),
    ({"scenario": "baseline", "levers": {**ONE_DAY, "holding_plan": "baseline-x"}},
     "levers.holding_plan", "unknown plan"),
    ({"scenario_yaml": "name: [", "levers": ONE_DAY}, "scenario_yaml", "malformed YAML"),
])
def test_bad_input_names_the_field(client, body, field, text):
    response = client.post("/api/runs", json=body)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == field and text in error["message"]
    assert client.get("/api/runs").json() == []  # nothing queued


def test_uploads_are_validated_limited_and_never_read_files(client):
    good = b"extends: corridor-2015\nname: up\nstart: 2015-06-08T00:00\nhorizon: 1d\n"
    info = client.post("/api/scenarios/upload", files={"file": ("a.yaml", good)}).json()
    assert info["name"] == "up" and "buffer_lorries" in info["yaml"]
    run = client.post("/api/runs", json={"scenario_yaml": good.decode()})
    assert run.status_code == 202 and run.json()["scenario"] == "up"
    bad = good + b"terminals:\n  dover:\n    buffer_lorries: 0\n"
    error = client.post("/api/scenarios/upload", files={"file": ("a.yaml", bad)}).json()
    assert error["errors"][0]["field"] == "file"
    assert error["errors"][0]["message"].startswith("terminals.dover.buffer_lorries:")
    for parent in (b"../../../../etc/hostname", b"/etc/hostname", b"./x.yaml"):
        refused = client.post("/api/scenarios/upload",
                              files={"file": ("a.yaml", b"extends: " + parent + b"\n")})
        assert refused.status_code == 422 and "not a built-in" in refused.text
    big = client.post("/api/scenarios/upload", files={"file": ("a.yaml", b"#" * 5000)})
    assert big.status_code == 422 and "larger than 4 KB" in big.text
    binary = client.post("/api/scenarios/upload", files={"file": ("a.yaml", b"\xff\xfe\x00")})
    assert "not UTF-8" in binary.text
    huge = client.post("/api/runs", content=b"{" + b" " * 200_000 + b"}",
                       headers={"content-type": "application/json"})
    assert huge.status_code == 413
    chunked = client.post("/api/runs", content=iter([b"{}"]),
                          headers={"content-type": "application/json"})
    assert chunked.status_code == 411  # no Content-Length: the size cannot be checked first


@pytest.mark.parametrize("path", [
    "/static/../app.py", "/static/index.html", "/static/%2e%2e%2fapp.py",
    "/api/scenarios/..%2f..%2fpyproject", "/api/scenarios/corridor-2015x",
    "/api/runs/..%2f..%2fetc/figures", "/api/runs/r999", "/api/runs/r999/report.html",
])
def test_no_request_path_reaches_the_filesystem(client, path):
    response = client.get(path)
    assert response.status_code in (404, 422)
    assert "errors" in response.json()


def test_the_page_and_its_local_plotly_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and '<script src="/static/plotly.min.js">' in page.text
    assert "http" not in page.text.replace("http-equiv", "")
    plotly_js = client.get("/static/plotly.min.js")
    assert plotly_js.status_code == 200 and len(plotly_js.content) > 1_000_000


def test_concurrent_runs_are_queued_in_order_and_none_is_lost(client, wait_done):
    ids = [client.post("/api/runs", json={"scenario": "baseline", "seed": seed,
                                          "levers": {"horizon_days": 0.25}}).json()["id"]
           for seed in range(6)]
    statuses = [wait_done(client, run_id) for run_id in ids]
    assert [s["status"] for s in statuses] == ["done"] * 6
    listed = [r["id"] for r in client.get("/api/runs").json()]
    assert listed == ids
    jobs = client.app.state.jobs
    started = [jobs.get(i).started for i in ids]
    assert started == sorted(started)  # one worker, first come first served


def test_runs_are_saved_to_the_results_store_and_reported_from_it(tmp_path, wait_done):
    store = tmp_path / "results.duckdb"
    with TestClient(create_app(Settings(store=store, max_horizon_days=1, check_workers=1)),
                    base_url=LOCAL) as client:
        run = client.post("/api/runs", json={"scenario": "baseline", "seed": 3,
                                             "replications": 2, "levers": ONE_DAY}).json()
        done = wait_done(client, run["id"])
    assert done["experiment_id"] and done["experiment_id"] in done["stored"]
    stored = load_from_store(store, done["experiment_id"])
    assert [r.summary["seed"] for r in stored.replications] == [3, 4]
    memory = {(k["section"], k["label"]): k["value"] for k in done["kpis"]}
    for row in kpi_rows(stored):
        assert abs(row.mean - memory[(row.section, row.label)]) < 1e-6, row.label
    assert "per-lorry delays were not stored" in render_report(stored)


# --- the guard: hosts, origins, headers, budgets, failures ------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "[::2]:8000"])
def test_a_host_this_server_does_not_answer_to_is_refused(client, host):
    """DNS rebinding: a page of evil.example that resolves to 127.0.0.1 still says its name."""
    response = client.get("/api/settings", headers={"host": host})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "host"
    assert client.post("/api/runs", json={"scenario": "baseline"},
                       headers={"host": host}).status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost", "[::1]:8000"])
def test_the_local_host_names_are_served(client, host):
    assert client.get("/api/settings", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"}, {"origin": "null"},
    {"origin": "http://127.0.0.1:9999"},  # another local port is another site
    {"sec-fetch-site": "cross-site"},  # a browser's cross-site request without Origin
])
def test_cross_site_posts_are_refused_before_anything_is_done(client, headers):
    run = client.post("/api/runs", json={"scenario": "baseline", "levers": ONE_DAY},
                      headers=headers)
    assert run.status_code == 403 and run.json()["errors"][0]["field"] == "origin"
    form = client.post("/api/scenarios/upload", headers=headers,
                       files={"file": ("a.yaml", b"extends: baseline\nname: x\n")})
    assert form.status_code == 403
    assert client.delete("/api/runs/r1", headers=headers).status_code == 403
    assert client.get("/api/runs").json() == []


def test_same_origin_and_script_posts_are_served(client):
    same = client.post("/api/runs", json={"scenario": "baseline", "levers": ONE_DAY},
                       headers={"origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"})
    assert same.status_code == 202
    script = client.post("/api/runs", json={"scenario": "baseline", "levers": ONE_DAY})
    assert script.status_code == 202


@pytest.mark.parametrize("path", ["/", "/api/settings", "/api/runs/r999", "/static/app.js"])
def test_every_answer_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self';" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    refused = client.get(path, headers={"host": "evil.example"}).headers
    assert refused["x-frame-options"] == "DENY"


def test_a_run_over_the_work_budget_is_refused_with_its_figure():
    """One replication, 62 days, a small file: within every older limit, yet gigabytes."""
    heavy = ("extends: baseline\nname: heavy\nhorizon: 62d\ndemand:\n"
             "  southbound: {lorries_per_day: 200000}\n  northbound: {lorries_per_day: 200000}\n")
    with TestClient(create_app(Settings(check_workers=1)), base_url=LOCAL) as client:
        response = client.post("/api/runs", json={"scenario_yaml": heavy})
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert error["field"] == "scenario_yaml"
        assert error["message"].startswith("demand.")
        assert "lorries per replication" in error["message"] and "3,000,000" in error["message"]
        assert client.get("/api/runs").json() == []


def test_a_failed_run_says_why_in_one_short_line(client, wait_done, monkeypatch):
    def broken(scenario, seed):
        raise RuntimeError("Traceback (most recent call last):\n  File '/secret/path.py'\n"
                           + "x" * 5000)

    monkeypatch.setattr("straits.web.jobs.simulate", broken)
    run = client.post("/api/runs", json={"scenario": "baseline", "levers": ONE_DAY}).json()
    failed = wait_done(client, run["id"])
    assert failed["status"] == "failed"
    assert failed["error"] == ("the simulation failed (RuntimeError); the server log has the "
                               "details")
    assert client.get(f"/api/runs/{run['id']}/figures").status_code == 409
