"""The dashboard's FastAPI app: JSON endpoints for scenarios, runs and results,
and the one static page that uses only those endpoints.

Safety: only requests for an allowed Host and, when they change something,
from this page's own origin are served; every answer carries a strict content
security policy. Request bodies and uploads are size-limited; every scenario
is read and validated in a worker process with a time and memory limit
(:mod:`straits.web.checking`), errors naming the field; ensemble size, horizon
and the estimated work of a run are capped by :class:`Settings`; runs wait in
a persisted queue with a single worker; and no part of a request is ever used
as a file path (built-ins are looked up by exact name, static files from a
fixed table).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import plotly
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from straits import __version__
from straits.engine.budget import WorkBudget, check_work
from straits.optimisation.spec import LoadedStudy, builtin_studies, load_study
from straits.report import RunData, render_compare, render_report
from straits.report.charts import (
    compare_delay_figure,
    compare_queue_figure,
    compare_throughput_figure,
)
from straits.report.kpi_table import change_class, kpi_rows
from straits.scenario import ScenarioError, builtin_names, load_scenario, scenario_to_yaml
from straits.web.checking import (
    Busy,
    Checker,
    RunCheck,
    Upload,
    run_scenario,
    scenario_info,
    upload_info,
)
from straits.web.jobs import FINISHED, Job, JobQueue, figures_json
from straits.web.levers import Levers
from straits.web.studies import StudyJob, StudyQueue
from straits.web.work_queue import JobT, Status, WorkQueue

StudyId = Annotated[str, PathParam(pattern=r"^s[0-9]{1,9}$", max_length=10)]
RunId = Annotated[str, PathParam(pattern=r"^r[0-9]{1,9}$", max_length=10)]
QueryRunId = Annotated[str, Query(pattern=r"^r[0-9]{1,9}$", max_length=10)]
_STATIC_TYPES = {"app.js": "text/javascript", "app.css": "text/css",
                 "plotly.min.js": "text/javascript"}


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


class Settings(BaseModel):
    """Server limits (set by ``straits serve`` options)."""

    model_config = ConfigDict(frozen=True)

    max_replications: int = Field(10, ge=1, le=1000)
    max_horizon_days: float = Field(62.0, gt=0, le=366)
    max_upload_bytes: int = Field(256 * 1024, ge=1024, le=10 * 1024 * 1024)
    max_queued_runs: int = Field(50, ge=1, le=10_000)
    keep_runs: int = Field(50, ge=1, le=10_000)
    max_retained_mb: int = Field(512, ge=1, le=1024**2, description=(
        "Memory for finished runs' results; the oldest are dropped first (still in the store)."))
    max_lorries: float = Field(3_000_000, gt=0, le=1e9, description=(
        "Work budget: expected lorries per replication (demand × horizon × demand shocks)."))
    max_lorry_passes: float = Field(60_000_000, gt=0, le=1e10, description=(
        "Work budget: lorries × engine passes × replications of one run."))
    check_seconds: float = Field(10.0, gt=0, le=600, description=(
        "Time limit for reading and checking one scenario."))
    check_workers: int = Field(2, ge=1, le=32)
    allowed_hosts: list[str] = Field(list(LOOPBACK_HOSTS), description=(
        "Host names this server answers to ('*': any); others are refused (DNS rebinding)."))
    store: Path | None = Field(None, description="Results store for runs; None: memory only.")
    max_study_trials: int = Field(48, ge=1, le=10_000, description=(
        "Most plans one optimisation study may try."))
    max_study_replications: int = Field(3, ge=1, le=1000, description=(
        "Most replications per plan in a study's search."))
    max_queued_studies: int = Field(5, ge=1, le=1000, description=(
        "Most studies waiting for the study worker."))
    study_folder: Path | None = Field(None, description=(
        "Where studies keep their outputs (None: straits-studies/ next to the store, or a "
        "temporary folder without one)."))

    def budget(self) -> WorkBudget:
        return WorkBudget(max_lorries=self.max_lorries, max_lorry_passes=self.max_lorry_passes)


# --- response and request models -------------------------------------------------------------

class FieldError(BaseModel):
    field: str
    message: str


class Errors(BaseModel):
    errors: list[FieldError]


class ScenarioSummary(BaseModel):
    name: str
    description: str
    start: str
    horizon_hours: float


class StageInfo(BaseModel):
    name: str
    booths: int
    check_minutes: float | None


class ScenarioInfo(ScenarioSummary):
    terminals: dict[str, list[StageInfo]]
    strike_targets: list[str]
    holding_plans: dict[str, str]
    security: dict[str, Any] | None
    hauliers_respond: bool = False  # the behaviour rule is on
    yaml: str


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(None, max_length=60, description="A built-in scenario name.",
                                 json_schema_extra={"enum": [*builtin_names(), None]})
    scenario_yaml: str | None = Field(None, description="Scenario YAML (instead of a name).")
    levers: Levers = Levers()
    replications: int = Field(1, ge=1, le=1000)
    seed: int = Field(1, ge=0, le=2**31 - 1)
    label: str | None = Field(None, max_length=80)


class StudyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    study: str = Field(max_length=60, description="A built-in study name "
                       "(GET /api/studies/builtin).")
    trials: int = Field(8, ge=1, le=100_000, description="Plans to try (capped by the server).")
    replications: int = Field(1, ge=1, le=10_000, description="Replications per plan in the "
                              "search (capped by the server).")
    seed: int = Field(0, ge=0, le=2**31 - 1)


class StudyState(BaseModel):
    id: str
    study: str
    status: Literal["queued", "running", "done", "failed", "cancelled"]  # never "stopped"
    done: int
    total: int
    replications: int
    seed: int
    elapsed_seconds: float
    error: str | None
    x: str
    y: str
    front: list[dict[str, Any]] = Field(description=(
        "Plans on the front so far; 'constraints' is 'awaiting re-run' until the plan was "
        "re-run on fresh seeds, then 'holds', 'FAILS' or 'not re-run'."))
    recommended: str | None
    report: str | None


class Kpi(BaseModel):
    section: str
    label: str
    unit: str
    value: float
    low: float
    high: float


class RunStatus(BaseModel):
    id: str
    label: str
    scenario: str
    status: Status
    done: int
    total: int
    ahead: int
    elapsed_seconds: float
    error: str | None
    security: bool
    experiment_id: str | None
    stored: str
    results_in_memory: bool
    kpis: list[Kpi] | None


class KpiChange(BaseModel):
    section: str
    label: str
    unit: str
    a: float
    b: float
    change: str


class Comparison(BaseModel):
    a: str
    b: str
    kpis: list[KpiChange]
    figures: dict[str, Any]


# --- the app -----------------------------------------------------------------------------------

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# the OpenAPI pages load Swagger UI and ReDoc from their CDN with an inline script
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
            "https://fastapi.tiangolo.com https://cdn.redoc.ly; font-src 'self' data: "
            "https://fonts.gstatic.com; worker-src blob:; frame-ancestors 'none'")
_DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")
_UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def create_app(settings: Settings | None = None) -> FastAPI:
    """The dashboard app with its own run queue; runs are kept in memory for the
    session and also saved to the results store when ``settings.store`` is set
    (the queue too: see :mod:`straits.web.jobs`)."""
    settings = settings or Settings()
    jobs = JobQueue(keep=settings.keep_runs, store=settings.store,
                    retained_bytes=settings.max_retained_mb * 1024**2)
    checker = Checker(settings.check_workers, settings.check_seconds)
    studies = StudyQueue(settings.store, settings.study_folder)
    static = _static_files()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        checker.start()
        yield
        checker.close()

    app = FastAPI(title="straits dashboard", version=__version__, lifespan=lifespan,
                  description="Run and compare Short Straits corridor scenarios.")
    app.state.jobs = jobs
    app.state.settings = settings
    app.state.checker = checker
    app.state.studies = studies
    Responses = dict[int | str, dict[str, Any]]  # OpenAPI documentation of error replies
    bad: Responses = {
        400: {"model": Errors, "description": "The body is not valid JSON or form data."},
           411: {"model": Errors, "description": "The body came without a Content-Length."},
           413: {"model": Errors, "description": "The body is larger than the upload limit."},
           422: {"model": Errors, "description": "Bad input: the field and how to fix it."},
           429: {"model": Errors, "description": "Too many requests waiting; try again."}}
    missing: Responses = {404: {"model": Errors, "description": "No such run or scenario."}}
    not_yet: Responses = {409: {"model": Errors, "description": "The run has not finished."},
               410: {"model": Errors, "description": "Results dropped from memory (in the "
                                                     "store)."}}
    html: Responses = {200: {"content": {"text/html": {"schema": {"type": "string"}}},
                  "description": "A self-contained HTML page (download)."}}
    yaml_file: Responses = {200: {"content": {"application/yaml": {"schema": {"type": "string"}}},
                       "description": "The scenario as YAML (download)."}}
    allowed_hosts = {h.lower().strip("[]") for h in settings.allowed_hosts}

    @app.middleware("http")
    async def guard(request: Request,
                    call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refusal = (_host_refusal(request, allowed_hosts) or _origin_refusal(request)
                   or _body_refusal(request, settings.max_upload_bytes))
        response = refusal or await call_next(request)
        response.headers["Content-Security-Policy"] = (
            DOCS_CSP if request.url.path in _DOCS_PATHS else CSP)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"errors": [
            {"field": _dotted(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()]})

    @app.exception_handler(ScenarioError)
    async def bad_scenario(_: Request, exc: ScenarioError) -> JSONResponse:
        return _errors(422, exc.field, exc.message + (f" (line {exc.line})" if exc.line else ""))

    @app.exception_handler(Busy)
    async def busy(_: Request, exc: Busy) -> JSONResponse:
        return _errors(429, "", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _errors(exc.status_code, "", str(exc.detail))
        response.headers.update(exc.headers or {})
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(static["index.html"])

    @app.get("/static/{name}", include_in_schema=False)
    def static_file(name: Literal["app.js", "app.css", "plotly.min.js"]) -> Response:
        return Response(static[name], media_type=_STATIC_TYPES[name],
                        headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/settings")
    def get_settings() -> dict[str, Any]:
        note = (f"runs are saved to the results store {settings.store} (see `straits results "
                "list`)" if settings.store else "runs are kept in memory for this session only")
        return {**settings.model_dump(mode="json"), "store_note": note, "version": __version__}

    @app.get("/api/scenarios")
    def list_scenarios() -> list[ScenarioSummary]:
        return [ScenarioSummary(**_builtin_info(n)) for n in builtin_names()]

    @app.get("/api/scenarios/{name}", responses=missing)
    def get_scenario(name: Annotated[str, PathParam(max_length=60)]) -> ScenarioInfo:
        if name not in builtin_names():
            raise HTTPException(404, f"no built-in scenario {name!r}; see /api/scenarios")
        return ScenarioInfo(**_builtin_info(name))

    @app.post("/api/scenarios/upload", responses=bad)
    async def upload_scenario(file: Annotated[UploadFile, File(description="Scenario YAML")]
                              ) -> ScenarioInfo:
        data = await file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise ScenarioError("file", f"the file is larger than "
                                        f"{settings.max_upload_bytes // 1024} KB")
        info = await checker.call("file", upload_info, Upload("file", _decode(data)))
        return ScenarioInfo(**info)

    @app.post("/api/runs", status_code=202, responses=bad)
    async def submit_run(request: RunRequest) -> RunStatus:
        if request.replications > settings.max_replications:
            raise ScenarioError("replications", f"this server runs at most "
                                f"{settings.max_replications} replications at a time")
        _check_queue_room(jobs, settings.max_queued_runs, "runs")
        check = _run_check(request, settings)
        scenario = await checker.call(check.field, run_scenario, check)
        _check_queue_room(jobs, settings.max_queued_runs, "runs")
        seeds = list(range(request.seed, request.seed + request.replications))
        job = await run_in_threadpool(jobs.submit, request.label or scenario.name, scenario,
                                      seeds)
        return _status(job, jobs)

    @app.get("/api/runs")
    def list_runs() -> list[RunStatus]:
        return [_status(j, jobs, with_kpis=False) for j in jobs.all()]

    @app.get("/api/runs/{run_id}", responses=missing)
    def get_run(run_id: RunId) -> RunStatus:
        return _status(_lookup(jobs, run_id, "run"), jobs)

    @app.delete("/api/runs/{run_id}", responses={
        **missing, 409: {"model": Errors, "description": "The run has finished already."}})
    def cancel_run(run_id: RunId) -> RunStatus:
        """Cancel a queued run, or stop a running one after its current replication."""
        return _status(_cancel(jobs, run_id, "run"), jobs)

    @app.get("/api/runs/{run_id}/figures", response_model=dict[str, Any],
             responses={**missing, **not_yet})
    def run_figures(run_id: RunId) -> Response:
        return Response(_finished(jobs, run_id).figures(), media_type="application/json")

    @app.get("/api/runs/{run_id}/report.html", responses={**html, **missing, **not_yet})
    def run_report(run_id: RunId) -> HTMLResponse:
        data = _finished_data(jobs, run_id)
        return HTMLResponse(render_report(data), headers=_download(f"{run_id}-report.html"))

    @app.get("/api/runs/{run_id}/scenario.yaml", responses={**yaml_file, **missing})
    def run_scenario_yaml(run_id: RunId) -> PlainTextResponse:
        job = _lookup(jobs, run_id, "run")
        return PlainTextResponse(scenario_to_yaml(job.scenario), media_type="application/yaml",
                                 headers=_download(f"{job.id}-{job.scenario.name}.yaml"))

    @app.get("/api/compare", responses={**missing, **not_yet})
    def compare(a: QueryRunId, b: QueryRunId) -> Comparison:
        run_a, run_b = _pair(jobs, a, b)
        rows_b = {(r.section, r.label): r for r in kpi_rows(run_b)}
        kpis = [KpiChange(section=r.section, label=r.label, unit=r.unit, a=r.mean,
                          b=rows_b[(r.section, r.label)].mean,
                          change=change_class(r, rows_b[(r.section, r.label)]))
                for r in kpi_rows(run_a) if (r.section, r.label) in rows_b]
        figures = figures_json({"queue": compare_queue_figure(run_a, run_b),
                                "delay": compare_delay_figure(run_a, run_b),
                                "throughput": compare_throughput_figure(run_a, run_b)})
        return Comparison(a=run_a.label, b=run_b.label, kpis=kpis, figures=figures)

    @app.get("/api/compare/report.html", responses={**html, **missing, **not_yet})
    def compare_report(a: QueryRunId, b: QueryRunId) -> HTMLResponse:
        run_a, run_b = _pair(jobs, a, b)
        return HTMLResponse(render_compare(run_a, run_b),
                            headers=_download(f"compare-{a}-{b}.html"))

    @app.get("/api/studies/builtin")
    def list_builtin_studies() -> list[str]:
        return builtin_studies()

    @app.post("/api/studies", status_code=202, responses=bad)
    async def submit_study(request: StudyRequest) -> StudyState:
        """Start a built-in optimisation study (one at a time, in a worker thread)."""
        _check_study(request, settings)
        _check_queue_room(studies, settings.max_queued_studies, "studies")
        loaded = await run_in_threadpool(load_study, request.study)
        await run_in_threadpool(_check_study_work, loaded, request.replications, settings)
        job = studies.submit(loaded, request.trials, request.replications, request.seed)
        return _study_state(job)

    @app.get("/api/studies")
    def list_studies() -> list[StudyState]:
        return [_study_state(j) for j in studies.all()]

    @app.get("/api/studies/{study_id}", responses=missing)
    def get_study(study_id: StudyId) -> StudyState:
        return _study_state(_lookup(studies, study_id, "study"))

    @app.delete("/api/studies/{study_id}", responses={
        **missing, 409: {"model": Errors, "description": "The study has finished already."}})
    def cancel_study(study_id: StudyId) -> StudyState:
        """Cancel a queued study, or stop a running one after its current batch."""
        return _study_state(_cancel(studies, study_id, "study"))

    @app.get("/api/studies/{study_id}/report.html", responses={**html, **missing, **not_yet})
    def study_report(study_id: StudyId) -> HTMLResponse:
        job = _lookup(studies, study_id, "study")
        if job.status != "done" or job.folder is None:
            raise HTTPException(409, f"study {study_id} is {job.status}; its report comes "
                                     "when it is done")
        text = (job.folder / "report.html").read_text("utf-8")
        return HTMLResponse(text, headers=_download(f"{job.id}-{job.name}-report.html"))

    return app


# --- request guards ----------------------------------------------------------------------------

def _host_refusal(request: Request, allowed: set[str]) -> JSONResponse | None:
    """Refuse a Host this server does not answer to: a DNS-rebinding page reaches us
    under its own name, never under 127.0.0.1 or localhost."""
    host = _hostname(request.headers.get("host", ""))
    if "*" in allowed or host in allowed:
        return None
    return _errors(400, "host", f"this server does not answer to host {host[:60]!r}; "
                                "open it as http://127.0.0.1 (or start the server with "
                                "--allow-host NAME)")


def _origin_refusal(request: Request) -> JSONResponse | None:
    """Refuse a request that changes something unless it comes from this page itself
    (a cross-site form post or fetch carries another Origin, or none and a
    ``Sec-Fetch-Site`` that says so); scripts without an Origin are let through."""
    if request.method not in _UNSAFE_METHODS:
        return None
    origin = request.headers.get("origin")
    if origin is None:
        if request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none"):
            return None
        return _errors(403, "origin", "cross-site request refused; use the dashboard's own page")
    own = request.headers.get("host", "").lower()
    parts = urlsplit(origin)
    if origin != "null" and parts.scheme in ("http", "https") and parts.netloc.lower() == own:
        return None
    return _errors(403, "origin", f"cross-site request from {origin[:60]!r} refused; use the "
                                  "dashboard's own page")


def _body_refusal(request: Request, max_upload_bytes: int) -> JSONResponse | None:
    length = request.headers.get("content-length")
    if length is None and request.method in ("POST", "PUT", "PATCH"):
        return _errors(411, "body", "send the body with a Content-Length header")
    if length is not None and (not length.isdigit()
                               or int(length) > max_upload_bytes + 64 * 1024):
        return _errors(413, "body", f"request too large; the limit is "
                                    f"{max_upload_bytes // 1024} KB")
    return None


def _hostname(host: str) -> str:
    """The name in a Host header, without the port ('[::1]:8000' → '::1')."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    name, _, port = host.rpartition(":")
    return name if name and port.isdigit() else host


# --- helpers -----------------------------------------------------------------------------------

def _static_files() -> dict[str, str]:
    folder = resources.files("straits.web") / "static"
    files = {name: (folder / name).read_text("utf-8") for name in ("index.html", "app.js",
                                                                    "app.css")}
    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    files["plotly.min.js"] = plotly_js.read_text("utf-8")
    return files


def _errors(status: int, field: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status,
                        content={"errors": [{"field": field, "message": message}]})


def _dotted(loc: Any) -> str:
    out = ""
    for part in [p for p in loc if p not in ("body", "query", "path")]:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@cache
def _builtin_info(name: str) -> dict[str, Any]:
    """A built-in's info (trusted, shipped files: read once, in the server)."""
    return scenario_info(load_scenario(name))


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("file", "the file is not UTF-8 text; upload a YAML file") from None


def _run_check(request: RunRequest, settings: Settings) -> RunCheck:
    if (request.scenario is None) == (request.scenario_yaml is None):
        raise ScenarioError("scenario", "give either a built-in scenario name or scenario_yaml")
    if request.scenario is not None and request.scenario not in builtin_names():
        raise ScenarioError("scenario", f"unknown scenario {request.scenario!r}; "
                            f"built-ins are {builtin_names()}")
    if request.scenario_yaml is not None and (len(request.scenario_yaml.encode())
                                              > settings.max_upload_bytes):
        raise ScenarioError("scenario_yaml", f"larger than "
                            f"{settings.max_upload_bytes // 1024} KB")
    field = "scenario" if request.scenario is not None else "scenario_yaml"
    return RunCheck(field, request.scenario, request.scenario_yaml, request.levers,
                    request.replications, settings.max_horizon_days, settings.budget())


def _check_queue_room(queue: WorkQueue[Any], limit: int, what: str) -> None:
    waiting = queue.waiting()
    if waiting >= limit:
        raise HTTPException(429, f"{what} waiting already: {waiting}, the most this server "
                                 "queues; try again later")


def _lookup(queue: WorkQueue[JobT], job_id: str, what: str) -> JobT:
    job = queue.get(job_id)
    if job is None:
        raise HTTPException(404, f"no {what} {job_id!r} in this session")
    return job


def _cancel(queue: WorkQueue[JobT], job_id: str, what: str) -> JobT:
    job = _lookup(queue, job_id, what)
    if not queue.cancel(job):
        raise HTTPException(409, f"{what} {job_id} is {job.status}; only a queued or running "
                                 f"{what} can be cancelled")
    return job


def _finished(jobs: JobQueue, run_id: str) -> Job:
    job = _lookup(jobs, run_id, "run")
    if job.dropped:
        where = (f"; they are in the results store as experiment {job.experiment_id} "
                 f"(`straits report {job.experiment_id}`)" if job.experiment_id else "")
        raise HTTPException(410, f"run {run_id}'s results were dropped from memory to make "
                                 f"room for newer runs{where}")
    if job.status not in FINISHED or job.data is None:
        raise HTTPException(409, f"run {run_id} is {job.status}; results come when it is done")
    return job


def _finished_data(jobs: JobQueue, run_id: str) -> RunData:
    data = _finished(jobs, run_id).data
    assert data is not None, "_finished checked it"
    return data


def _pair(jobs: JobQueue, a: str, b: str) -> tuple[RunData, RunData]:
    run_a, run_b = _finished_data(jobs, a), _finished_data(jobs, b)
    if run_a.label == run_b.label:
        run_a = replace(run_a, label=f"{run_a.label} ({a})")
        run_b = replace(run_b, label=f"{run_b.label} ({b})")
    return run_a, run_b


def _status(job: Job, jobs: JobQueue, with_kpis: bool = True) -> RunStatus:
    end = job.finished or datetime.now().timestamp()
    kpis = None
    rows = job.kpis or (kpi_rows(job.data) if job.data is not None else None)
    if with_kpis and rows is not None:
        kpis = [Kpi(section=r.section, label=r.label, unit=r.unit, value=r.mean, low=r.low,
                    high=r.high) for r in rows]
    security = rows is not None and any(r.section == "security" for r in rows)
    return RunStatus(id=job.id, label=job.label, scenario=job.scenario.name, status=job.status,
                     done=job.done, total=job.total, ahead=jobs.position(job),
                     elapsed_seconds=round(end - (job.started or end), 2), error=job.error,
                     security=security, experiment_id=job.experiment_id, stored=job.stored,
                     results_in_memory=job.data is not None, kpis=kpis)


def _download(filename: str) -> dict[str, str]:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


def _check_study(request: StudyRequest, settings: Settings) -> None:
    """A study's work is bounded like a run's: known study, capped trials and replications."""
    if request.study not in builtin_studies():
        raise ScenarioError("study", f"unknown study {request.study!r}; built-ins are "
                                     f"{builtin_studies()}")
    if request.trials > settings.max_study_trials:
        raise ScenarioError("trials", f"this server tries at most {settings.max_study_trials} "
                                      "plans per study; ask for fewer")
    if request.replications > settings.max_study_replications:
        raise ScenarioError("replications", f"this server runs at most "
                            f"{settings.max_study_replications} replications per plan in a "
                            "study; ask for fewer")


def _check_study_work(loaded: LoadedStudy, replications: int, settings: Settings) -> None:
    """Each plan is a run of the study's scenario (and each reference one of its own): the
    largest (search, front or fresh-seed re-run) must fit the work budget like a run."""
    for scenario in loaded.scenarios:
        check_work(scenario, loaded.study.budget.largest_run(replications), settings.budget())


def _study_state(job: StudyJob) -> StudyState:
    end = job.finished or datetime.now().timestamp()
    assert job.status != "stopped", "a study that is asked to stop ends cancelled"
    return StudyState(id=job.id, study=job.name, status=job.status, done=job.done,
                      total=job.trials, replications=job.replications, seed=job.seed,
                      elapsed_seconds=round(end - (job.started or end), 2), error=job.error,
                      x=job.axes[0], y=job.axes[1], front=job.front,
                      recommended=job.recommended,
                      report=(f"/api/studies/{job.id}/report.html" if job.status == "done"
                              else None))
