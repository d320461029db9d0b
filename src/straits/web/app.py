"""The dashboard's FastAPI app: JSON endpoints for scenarios, runs and results,
and the one static page that uses only those endpoints.

Safety: request bodies and uploads are size-limited, every scenario is
validated by the scenario schema (errors name the field), ensemble size and
horizon are capped by :class:`Settings`, runs wait in a queue with a single
worker, and no part of a request is ever used as a file path (built-ins are
looked up by exact name, static files from a fixed table).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import plotly
import yaml
from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from straits import __version__
from straits.report import RunData, render_compare, render_report
from straits.report.charts import (
    compare_delay_figure,
    compare_queue_figure,
    compare_throughput_figure,
)
from straits.report.kpis import change_class, kpi_rows
from straits.scenario import (
    Scenario,
    ScenarioError,
    builtin_names,
    load_scenario,
    scenario_from_text,
    scenario_to_yaml,
)
from straits.web.jobs import Job, JobQueue, figures_json
from straits.web.levers import (
    Levers,
    apply_levers,
    holding_plan_descriptions,
    security_lever_values,
)

RunId = Annotated[str, PathParam(pattern=r"^r[0-9]{1,9}$", max_length=10)]
QueryRunId = Annotated[str, Query(pattern=r"^r[0-9]{1,9}$", max_length=10)]
_STATIC_TYPES = {"app.js": "text/javascript", "app.css": "text/css",
                 "plotly.min.js": "text/javascript"}


class Settings(BaseModel):
    """Server limits (set by ``straits serve`` options)."""

    model_config = ConfigDict(frozen=True)

    max_replications: int = Field(10, ge=1, le=1000)
    max_horizon_days: float = Field(62.0, gt=0, le=366)
    max_upload_bytes: int = Field(256 * 1024, ge=1024, le=10 * 1024 * 1024)
    max_queued_runs: int = Field(50, ge=1, le=10_000)
    keep_runs: int = Field(50, ge=1, le=10_000)
    store: Path | None = Field(None, description="Results store for runs; None: memory only.")


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
    status: Literal["queued", "running", "done", "failed"]
    done: int
    total: int
    ahead: int
    elapsed_seconds: float
    error: str | None
    security: bool
    experiment_id: str | None
    stored: str
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

def create_app(settings: Settings | None = None) -> FastAPI:
    """The dashboard app with its own run queue; runs are kept in memory for the
    session and also saved to the results store when ``settings.store`` is set."""
    settings = settings or Settings()
    jobs = JobQueue(keep=settings.keep_runs, store=settings.store)
    static = _static_files()
    app = FastAPI(title="straits dashboard", version=__version__,
                  description="Run and compare Short Straits corridor scenarios.")
    app.state.jobs = jobs
    app.state.settings = settings
    bad = {400: {"model": Errors, "description": "The body is not valid JSON or form data."},
           411: {"model": Errors, "description": "The body came without a Content-Length."},
           413: {"model": Errors, "description": "The body is larger than the upload limit."},
           422: {"model": Errors, "description": "Bad input: the field and how to fix it."}}
    missing = {404: {"model": Errors, "description": "No such run or scenario."}}
    not_yet = {409: {"model": Errors, "description": "The run has not finished."}}
    html = {200: {"content": {"text/html": {"schema": {"type": "string"}}},
                  "description": "A self-contained HTML page (download)."}}
    yaml_file = {200: {"content": {"application/yaml": {"schema": {"type": "string"}}},
                       "description": "The scenario as YAML (download)."}}

    @app.middleware("http")
    async def limit_body(request: Request,
                         call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is None and request.method in ("POST", "PUT", "PATCH"):
            return _errors(411, "body", "send the body with a Content-Length header")
        if length is not None and (not length.isdigit()
                                   or int(length) > settings.max_upload_bytes + 64 * 1024):
            return _errors(413, "body", f"request too large; the limit is "
                                        f"{settings.max_upload_bytes // 1024} KB")
        return await call_next(request)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"errors": [
            {"field": _dotted(e["loc"]), "message": e["msg"].removeprefix("Value error, ")}
            for e in exc.errors()]})

    @app.exception_handler(ScenarioError)
    async def bad_scenario(_: Request, exc: ScenarioError) -> JSONResponse:
        return _errors(422, exc.field, exc.message + (f" (line {exc.line})" if exc.line else ""))

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
        return [ScenarioSummary(**_summary(load_scenario(n))) for n in builtin_names()]

    @app.get("/api/scenarios/{name}", responses=missing)
    def get_scenario(name: Annotated[str, PathParam(max_length=60)]) -> ScenarioInfo:
        return _info(_builtin(name))

    @app.post("/api/scenarios/upload", responses=bad)
    async def upload_scenario(file: Annotated[UploadFile, File(description="Scenario YAML")]
                              ) -> ScenarioInfo:
        data = await file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise ScenarioError("file", f"the file is larger than "
                                        f"{settings.max_upload_bytes // 1024} KB")
        return _info(_from_text(_decode(data), "file"))

    @app.post("/api/runs", status_code=202, responses={**bad, 429: {"model": Errors}})
    def submit_run(request: RunRequest) -> RunStatus:
        if request.replications > settings.max_replications:
            raise ScenarioError("replications", f"this server runs at most "
                                f"{settings.max_replications} replications at a time")
        scenario = apply_levers(_requested(request, settings), request.levers)
        limit = settings.max_horizon_days * 1440.0
        if scenario.horizon > limit + 1e-9:
            raise ScenarioError("levers.horizon_days", f"the horizon is "
                                f"{scenario.horizon / 1440:g} days; this server runs at most "
                                f"{settings.max_horizon_days:g} days, shorten it")
        waiting = sum(1 for j in jobs.all() if j.status == "queued")
        if waiting >= settings.max_queued_runs:
            raise HTTPException(429, f"{waiting} runs are waiting already; try again later")
        seeds = list(range(request.seed, request.seed + request.replications))
        job = jobs.submit(request.label or scenario.name, scenario, seeds)
        return _status(job, jobs)

    @app.get("/api/runs")
    def list_runs() -> list[RunStatus]:
        return [_status(j, jobs, with_kpis=False) for j in jobs.all()]

    @app.get("/api/runs/{run_id}", responses=missing)
    def get_run(run_id: RunId) -> RunStatus:
        return _status(_job(jobs, run_id), jobs)

    @app.get("/api/runs/{run_id}/figures", responses={**missing, **not_yet})
    def run_figures(run_id: RunId) -> dict[str, Any]:
        return _finished(jobs, run_id).figures()

    @app.get("/api/runs/{run_id}/report.html", responses={**html, **missing, **not_yet})
    def run_report(run_id: RunId) -> HTMLResponse:
        job = _finished(jobs, run_id)
        return HTMLResponse(render_report(job.data), headers=_download(f"{job.id}-report.html"))

    @app.get("/api/runs/{run_id}/scenario.yaml", responses={**yaml_file, **missing})
    def run_scenario(run_id: RunId) -> PlainTextResponse:
        job = _job(jobs, run_id)
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

    return app


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


def _builtin(name: str) -> Scenario:
    if name not in builtin_names():
        raise HTTPException(404, f"no built-in scenario {name!r}; see /api/scenarios")
    return load_scenario(name)


def _from_text(text: str, field: str) -> Scenario:
    """Validate uploaded YAML; ``extends`` may only name a shipped scenario, never a path."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        document = None  # scenario_from_text reports it with the line
    if isinstance(document, dict) and "extends" in document:
        parent = document["extends"]
        if not isinstance(parent, str) or parent not in _extendable():
            raise ScenarioError(field, f"extends: {parent!r} is not a built-in; an upload may "
                                f"extend only one of {sorted(_extendable())}")
    try:
        return scenario_from_text(text, source=field)
    except ScenarioError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        raise ScenarioError(field, message, line=exc.line) from None


def _extendable() -> set[str]:
    """Built-in names an upload may extend (the shared bases too)."""
    folder = resources.files("straits.scenario") / "builtin"
    return {p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")}


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError("file", "the file is not UTF-8 text; upload a YAML file") from None


def _requested(request: RunRequest, settings: Settings) -> Scenario:
    if (request.scenario is None) == (request.scenario_yaml is None):
        raise ScenarioError("scenario", "give either a built-in scenario name or scenario_yaml")
    if request.scenario is not None:
        if request.scenario not in builtin_names():
            raise ScenarioError("scenario", f"unknown scenario {request.scenario!r}; "
                                f"built-ins are {builtin_names()}")
        return load_scenario(request.scenario)
    if len(request.scenario_yaml.encode()) > settings.max_upload_bytes:
        raise ScenarioError("scenario_yaml", f"larger than "
                            f"{settings.max_upload_bytes // 1024} KB")
    return _from_text(request.scenario_yaml, "scenario_yaml")


def _summary(sc: Scenario) -> dict[str, Any]:
    return {"name": sc.name, "description": sc.description,
            "start": sc.start.isoformat(timespec="minutes"), "horizon_hours": sc.horizon / 60.0}


def _info(sc: Scenario) -> ScenarioInfo:
    terminals = {
        name: [StageInfo(name=s.name, booths=s.booths, check_minutes=_mean_minutes(s))
               for s in terminal.stages]
        for name, terminal in sc.terminals.items()}
    return ScenarioInfo(**_summary(sc), terminals=terminals,
                        strike_targets=sorted(set(sc.terminals) | set(sc.routes)),
                        holding_plans=holding_plan_descriptions(),
                        security=security_lever_values(sc), hauliers_respond=sc.behaviour_on,
                        yaml=scenario_to_yaml(sc))


def _mean_minutes(stage: Any) -> float:
    return round(stage.service_time.mean_minutes, 4)


def _job(jobs: JobQueue, run_id: str) -> Job:
    job = jobs.get(run_id)
    if job is None:
        raise HTTPException(404, f"no run {run_id!r} in this session")
    return job


def _finished(jobs: JobQueue, run_id: str) -> Job:
    job = _job(jobs, run_id)
    if job.status != "done" or job.data is None:
        raise HTTPException(409, f"run {run_id} is {job.status}; results come when it is done")
    return job


def _pair(jobs: JobQueue, a: str, b: str) -> tuple[RunData, RunData]:
    run_a, run_b = _finished(jobs, a).data, _finished(jobs, b).data
    if run_a.label == run_b.label:
        run_a = replace(run_a, label=f"{run_a.label} ({a})")
        run_b = replace(run_b, label=f"{run_b.label} ({b})")
    return run_a, run_b


def _status(job: Job, jobs: JobQueue, with_kpis: bool = True) -> RunStatus:
    end = job.finished or datetime.now().timestamp()
    kpis = None
    if with_kpis and job.data is not None:
        kpis = [Kpi(section=r.section, label=r.label, unit=r.unit, value=r.mean, low=r.low,
                    high=r.high) for r in kpi_rows(job.data)]
    return RunStatus(id=job.id, label=job.label, scenario=job.scenario.name, status=job.status,
                     done=job.done, total=job.total, ahead=jobs.position(job),
                     elapsed_seconds=round(end - (job.started or end), 2), error=job.error,
                     security=job.data is not None and "security" in job.data.summary,
                     experiment_id=job.experiment_id, stored=job.stored, kpis=kpis)


def _download(filename: str) -> dict[str, str]:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}
