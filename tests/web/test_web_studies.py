"""Optimisation studies from the dashboard: launch, watch the front, cancel, bounded cost.

A toy study (Dover check-in booths on the baseline scenario, two hours) stands in for the
built-ins so a whole study runs in seconds on the real engine and results store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import straits.web.app as web_app
import straits.web.studies as web_studies
from straits.engine.budget import estimate_work
from straits.optimisation.spec import study_from_text
from straits.web import Settings, create_app
from straits.web.studies import AWAITING_RERUN, STUDY_FINISHED
from tests.web.conftest import poll_finished

TOY = """
name: toy-web
scenario: baseline
fixed: {horizon: 2h}
variables:
  - path: terminals.dover.stages.check_in.booths
    type: int
    low: 2
    high: 12
    cost: {unit: booth, capital_gbp: 100000}
objectives:
  - {kpi: plan.cost_gbp}
  - {kpi: directions.southbound.delay_minutes.mean}
constraints:
  - {kpi: directions.southbound.delay_minutes.mean, statistic: mean, max: 100000}
budget: {trials: 4, batch: 2, replications: 1, front_replications: 1,
         rerun_replications: 2, rerun_plans: 2, seed: 1}
"""
LOCAL = "http://127.0.0.1"


@contextmanager
def toy_dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                  **limits: Any) -> Iterator[TestClient]:
    """The dashboard with the toy study as its only built-in study."""
    monkeypatch.setattr(web_app, "builtin_studies", lambda: ["toy-web"])
    monkeypatch.setattr(web_app, "load_study", lambda name: study_from_text(TOY, name))
    settings = Settings(store=tmp_path / "store.duckdb", study_folder=tmp_path / "studies",
                        **{"max_study_trials": 6, "max_study_replications": 2, **limits})
    with TestClient(create_app(settings), base_url=LOCAL) as client:
        yield client


@pytest.fixture
def studies(tmp_path, monkeypatch) -> Iterator[TestClient]:
    with toy_dashboard(tmp_path, monkeypatch) as client:
        yield client


def wait_finished(client: TestClient, study_id: str, timeout: float = 60.0) -> dict:
    return poll_finished(client, f"/api/studies/{study_id}", STUDY_FINISHED, timeout)


def test_a_study_fills_its_front_then_reports_the_fresh_seed_check(studies, monkeypatch):
    snapshots: list[list[dict]] = []
    live = web_studies.live_front

    def recording(search):
        rows = live(search)
        snapshots.append(rows)
        return rows

    monkeypatch.setattr(web_studies, "live_front", recording)
    response = studies.post("/api/studies", json={"study": "toy-web", "trials": 4,
                                                  "replications": 1, "seed": 1})
    assert response.status_code == 202, response.text
    state = wait_finished(studies, response.json()["id"])
    assert state["status"] == "done", state
    assert state["done"] == state["total"] == 4
    # while searching, a plan is never shown as meeting the constraints
    assert len(snapshots) == 2 and all(snapshots)
    assert all(row["constraints"] == AWAITING_RERUN for rows in snapshots for row in rows)
    # done: each front plan says what the fresh-seed re-run found, the recommended holds
    front = state["front"]
    assert front and all(row["constraints"] in ("holds", "FAILS", "not re-run")
                         for row in front)
    assert state["x"] in front[0] and state["y"] in front[0]
    holding = [row["plan"] for row in front if row["constraints"] == "holds"]
    assert state["recommended"] in holding
    report = studies.get(state["report"])
    assert report.status_code == 200 and "toy-web" in report.text
    assert "attachment" in report.headers["content-disposition"]


@pytest.mark.parametrize(("body", "field"), [
    ({"study": "no-such-study"}, "study"),
    ({"study": "toy-web", "trials": 7}, "trials"),
    ({"study": "toy-web", "trials": 4, "replications": 3}, "replications"),
    ({"study": "toy-web", "trials": 0}, "trials"),
    ({"study": "toy-web", "budget": 3}, "budget"),
])
def test_bad_studies_are_refused_naming_the_field(studies, body, field):
    response = studies.post("/api/studies", json=body)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["field"] == field, errors
    assert studies.get("/api/studies").json() == []  # nothing was started


def test_a_study_whose_largest_run_breaks_the_work_budget_is_refused(tmp_path, monkeypatch):
    """The toy's search runs 1 replication per plan, its fresh-seed re-run 2: a budget
    that holds one replication of the toy scenario, not two, refuses the study."""
    toy = study_from_text(TOY, "toy-web")
    lorries = estimate_work(toy.base).lorries
    assert toy.study.budget.rerun_replications == 2
    with toy_dashboard(tmp_path, monkeypatch, max_lorry_passes=1.5 * lorries) as client:
        response = client.post("/api/studies", json={"study": "toy-web", "trials": 2,
                                                     "replications": 1})
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "replications" and "the budget is" in error["message"]
        assert client.get("/api/studies").json() == []  # nothing was started


def test_waiting_studies_are_capped(tmp_path, monkeypatch):
    release = threading.Event()
    live = web_studies.live_front

    def held(search):
        release.wait(30)
        return live(search)

    monkeypatch.setattr(web_studies, "live_front", held)
    body = {"study": "toy-web", "trials": 2}
    with toy_dashboard(tmp_path, monkeypatch, max_queued_studies=1) as client:
        first = client.post("/api/studies", json=body).json()["id"]
        poll_finished(client, f"/api/studies/{first}", ("running",))
        second = client.post("/api/studies", json=body)
        assert second.status_code == 202 and second.json()["status"] == "queued"
        third = client.post("/api/studies", json=body)
        assert third.status_code == 429 and "studies waiting already: 1" in third.text
        assert len(client.get("/api/studies").json()) == 2
        for study in (second.json()["id"], first):
            assert client.delete(f"/api/studies/{study}").status_code == 200
        release.set()
        assert wait_finished(client, first)["status"] == "cancelled"


def test_a_running_study_stops_after_its_batch_and_a_queued_one_at_once(studies,
                                                                      monkeypatch):
    cancelled = threading.Event()
    live = web_studies.live_front

    def held(search):
        cancelled.wait(30)  # the first batch ends only after the cancel was sent
        return live(search)

    monkeypatch.setattr(web_studies, "live_front", held)
    first = studies.post("/api/studies", json={"study": "toy-web", "trials": 4}).json()
    second = studies.post("/api/studies", json={"study": "toy-web", "trials": 4}).json()
    stopped = studies.delete(f"/api/studies/{second['id']}").json()
    assert stopped["status"] == "cancelled"
    assert studies.delete(f"/api/studies/{first['id']}").status_code == 200
    cancelled.set()
    state = wait_finished(studies, first["id"])
    assert state["status"] == "cancelled" and state["done"] < state["total"], state
    assert state["report"] is None
    assert studies.get(f"/api/studies/{first['id']}/report.html").status_code == 409
    assert studies.delete(f"/api/studies/{first['id']}").status_code == 409
    assert studies.get("/api/studies/s99").status_code == 404


def test_the_builtin_studies_are_listed(client):
    assert "calais-2015-measures" in client.get("/api/studies/builtin").json()


def test_the_page_launches_a_study_and_draws_its_front(tmp_path, monkeypatch, page):
    from tests.web.conftest import serving

    monkeypatch.setattr(web_app, "builtin_studies", lambda: ["toy-web"])
    monkeypatch.setattr(web_app, "load_study", lambda name: study_from_text(TOY, name))
    app = create_app(Settings(store=tmp_path / "store.duckdb",
                              study_folder=tmp_path / "studies"))
    with serving(app) as url:
        page.goto(url)
        page.wait_for_selector("#study-select option[value='toy-web']", state="attached")
        page.fill("#study-trials", "4")
        page.click("#study-button")
        page.wait_for_selector("#study-report:not([hidden])", timeout=60_000)
        assert "done, 4 of 4 plans tried" in page.inner_text("#study-status")
        points = page.evaluate("() => document.getElementById('chart-study').data[0].x.length")
        assert points == page.locator("#study-front tr").count() - 1 > 0
        assert page.errors == []
