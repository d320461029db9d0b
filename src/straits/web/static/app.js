// straits dashboard: talks only to the JSON API (/api/...), draws with the local plotly.js.
"use strict";

const state = {
  info: null,          // ScenarioInfo of the chosen scenario
  uploadedYaml: null,  // scenario text when a file was uploaded
  selected: null,      // id of the run shown
  shown: null,         // id of the run whose charts are drawn
  fieldInputs: {},     // error field name -> input element, rebuilt on each submit
  polling: false,
};
const PLOTLY_CONFIG = { displaylogo: false, responsive: true };
const $ = (id) => document.getElementById(id);

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const body = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) {
    const errors = body?.errors || [{ field: "", message: `${response.status} ${response.statusText}` }];
    throw Object.assign(new Error(errors.map((e) => e.message).join("; ")), { errors });
  }
  return body;
}

// --- errors next to their fields ------------------------------------------------------------

function clearErrors() {
  document.querySelectorAll(".field-error.inline").forEach((e) => e.remove());
  document.querySelectorAll(".has-error").forEach((e) => e.classList.remove("has-error"));
  $("form-error").textContent = "";
}

function inputFor(field) {
  if (state.fieldInputs[field]) return state.fieldInputs[field];
  let element = document.querySelector(`[data-field="${CSS.escape(field)}"]`);
  // fall back on the nearest parent field ("levers.strikes[0].start" -> "levers.strikes[0]")
  let name = field;
  while (!element && /[.[]/.test(name)) {
    name = name.replace(/(\.[^.[\]]+|\[\d+\])$/, "");
    element = state.fieldInputs[name] || document.querySelector(`[data-field="${CSS.escape(name)}"]`);
  }
  return element;
}

function showErrors(errors) {
  for (const { field, message } of errors) {
    const input = field ? inputFor(field) : null;
    if (!input) {
      $("form-error").textContent += (field ? `${field}: ` : "") + message + " ";
      continue;
    }
    input.classList.add("has-error");
    const note = document.createElement("span");
    note.className = "field-error inline";
    note.dataset.errorFor = field;
    note.textContent = message;
    input.insertAdjacentElement("afterend", note);
  }
}

// --- the scenario and its levers ------------------------------------------------------------

async function loadScenarios() {
  const [settings, scenarios] = await Promise.all([api("/api/settings"), api("/api/scenarios")]);
  $("store-note").textContent = `Results: ${settings.store_note}. Limits: ` +
    `${settings.max_replications} replications, ${settings.max_horizon_days} days.`;
  $("replications").max = settings.max_replications;
  const select = $("scenario-select");
  for (const sc of scenarios) select.add(new Option(`${sc.name} (${sc.horizon_hours / 24} d)`, sc.name));
  select.value = scenarios.some((s) => s.name === "baseline") ? "baseline" : scenarios[0].name;
  await chooseBuiltin();
}

async function chooseBuiltin() {
  clearErrors();
  state.uploadedYaml = null;
  $("scenario-file").value = "";
  fillForm(await api(`/api/scenarios/${encodeURIComponent($("scenario-select").value)}`));
}

async function uploadScenario() {
  clearErrors();
  const file = $("scenario-file").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  try {
    const info = await api("/api/scenarios/upload", { method: "POST", body: form });
    state.uploadedYaml = await file.text();  // as uploaded: the server validates it again
    fillForm(info);
  } catch (error) {
    state.uploadedYaml = null;
    showErrors(error.errors.map((e) => ({ ...e, field: e.field || "file" })));
  }
}

function fillForm(info) {
  state.info = info;
  $("scenario-description").textContent = `${info.name}: ${info.description} ` +
    `(from ${info.start}, ${info.horizon_hours / 24} days)`;
  $("horizon-days").value = info.horizon_hours / 24;
  const body = $("stage-table").tBodies[0];
  body.replaceChildren();
  for (const [terminal, stages] of Object.entries(info.terminals)) {
    for (const stage of stages) {
      const row = body.insertRow();
      row.insertCell().textContent = `${terminal} · ${stage.name}`;
      row.insertCell().append(numberInput("booths", terminal, stage.name, stage.booths, 1));
      row.insertCell().append(numberInput("check_minutes", terminal, stage.name, stage.check_minutes, 0.05));
    }
  }
  const target = $("strike-target");
  target.replaceChildren(...info.strike_targets.map((t) => new Option(t, t)));
  $("strike-start").value = info.start.slice(0, 16);
  const plan = $("holding-plan");
  plan.replaceChildren(...Object.entries(info.holding_plans).map(([k, v]) => new Option(`${k}: ${v}`, k)));
  $("hauliers-respond").checked = info.hauliers_respond;
  $("security-levers").hidden = !info.security;
  if (info.security) {
    for (const site of ["lorries", "port", "tunnel"]) $(`police-${site}`).value = info.security.police[site] ?? "";
    for (const site of ["port", "tunnel"]) $(`fence-${site}`).value = info.security.fence_km[site] ?? "";
    $("security-search").value = info.security.search_share ?? "";
  }
}

function numberInput(kind, terminal, stage, value, step) {
  const input = document.createElement("input");
  Object.assign(input, { type: "number", min: 0, step, value: value ?? "" });
  input.dataset.kind = kind;
  input.dataset.terminal = terminal;
  input.dataset.stage = stage;
  input.dataset.original = value ?? "";
  input.setAttribute("aria-label", `${terminal} ${stage} ${kind}`);
  return input;
}

function number(id) {
  const text = $(id).value.trim();
  return text === "" ? null : Number(text);
}

function buildRequest() {
  state.fieldInputs = {};
  const levers = { stages: [], strikes: [], holding_plan: $("holding-plan").value };
  const horizon = number("horizon-days");
  if (horizon !== null && horizon !== state.info.horizon_hours / 24) levers.horizon_days = horizon;
  const changed = {};
  for (const input of $("stage-table").querySelectorAll("input")) {
    if (input.value.trim() === input.dataset.original) continue;
    const key = `${input.dataset.terminal}/${input.dataset.stage}`;
    changed[key] ??= { terminal: input.dataset.terminal, stage: input.dataset.stage, inputs: {} };
    changed[key][input.dataset.kind] = input.value.trim() === "" ? null : Number(input.value);
    changed[key].inputs[input.dataset.kind] = input;
  }
  Object.values(changed).forEach(({ inputs, ...lever }, i) => {
    for (const [kind, input] of Object.entries(inputs)) state.fieldInputs[`levers.stages[${i}].${kind}`] = input;
    state.fieldInputs[`levers.stages[${i}]`] = Object.values(inputs)[0];
    levers.stages.push(lever);
  });
  if ($("strike-on").checked) {
    levers.strikes.push({
      target: $("strike-target").value, start: $("strike-start").value,
      duration_hours: number("strike-hours"), capacity_fraction: number("strike-fraction"),
    });
  }
  if ($("hauliers-respond").checked !== state.info.hauliers_respond) {
    levers.hauliers_respond = $("hauliers-respond").checked;
  }
  if (state.info.security) {
    const security = { police: {}, fence_km: {} };
    const given = state.info.security;
    for (const site of ["lorries", "port", "tunnel"]) {
      const value = number(`police-${site}`);
      if (value !== given.police[site]) security.police[site] = value;
    }
    for (const site of ["port", "tunnel"]) {
      const value = number(`fence-${site}`);
      if (value !== given.fence_km[site]) security.fence_km[site] = value;
    }
    if (number("security-search") !== given.search_share) security.search_share = number("security-search");
    levers.security = security;
  }
  const request = { levers, replications: number("replications"), seed: number("seed") };
  if ($("label").value.trim()) request.label = $("label").value.trim();
  if (state.uploadedYaml) {
    request.scenario_yaml = state.uploadedYaml;
    state.fieldInputs.scenario_yaml = $("scenario-file");
  } else {
    request.scenario = $("scenario-select").value;
  }
  return request;
}

async function submitRun(event) {
  event.preventDefault();
  clearErrors();
  try {
    const run = await api("/api/runs", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(buildRequest()),
    });
    state.selected = run.id;
    await refreshRuns();
  } catch (error) {
    showErrors(error.errors || [{ field: "", message: String(error) }]);
  }
}

// --- runs, progress and results --------------------------------------------------------------

async function refreshRuns() {
  const runs = await api("/api/runs");
  const body = $("runs").tBodies[0];
  body.replaceChildren();
  $("no-runs").hidden = runs.length > 0;
  for (const run of runs.slice().reverse()) {
    const row = body.insertRow();
    row.dataset.run = run.id;
    row.className = `status-${run.status}` + (run.id === state.selected ? " selected" : "");
    row.insertCell().textContent = run.id;
    row.insertCell().textContent = run.label;
    row.insertCell().textContent = statusText(run);
    const bar = document.createElement("progress");
    Object.assign(bar, { max: run.total, value: run.done });
    const cell = row.insertCell();
    cell.append(bar, ` ${run.done}/${run.total}`);
    const action = row.insertCell();
    if (run.status === "queued" || run.status === "running") {
      const button = document.createElement("button");
      Object.assign(button, { type: "button", className: "cancel",
                              textContent: run.status === "queued" ? "cancel" : "stop" });
      button.addEventListener("click", (event) => { event.stopPropagation(); cancelRun(run.id); });
      action.append(button);
    }
    row.addEventListener("click", () => { state.selected = run.id; refreshRuns(); });
  }
  const compare = $("compare-select");
  const shown = (r) => (r.status === "done" || r.status === "stopped") && r.results_in_memory;
  const earlier = runs.filter((r) => shown(r) && r.id !== state.selected);
  const keep = compare.value;
  compare.replaceChildren(...earlier.map((r) => new Option(`${r.id}: ${r.label}`, r.id)));
  if (earlier.some((r) => r.id === keep)) compare.value = keep;
  $("compare-button").disabled = earlier.length === 0;
  const selected = runs.find((r) => r.id === state.selected);
  if (selected && shown(selected) && state.shown !== selected.id) await showRun(selected.id);
  const busy = runs.some((r) => r.status === "queued" || r.status === "running");
  if (busy && !state.polling) {
    state.polling = true;
    setTimeout(async () => { state.polling = false; await refreshRuns(); }, 400);
  }
}

async function showRun(id) {
  state.shown = id;
  const [run, figures] = await Promise.all([api(`/api/runs/${id}`), api(`/api/runs/${id}/figures`)]);
  $("run-view").hidden = false;
  $("run-title").textContent = `${run.id}: ${run.label} (${run.total} replication${run.total > 1 ? "s" : ""})`;
  $("run-stored").textContent = `Run ${run.stored}.`;
  $("download-report").href = `/api/runs/${id}/report.html`;
  $("download-yaml").href = `/api/runs/${id}/scenario.yaml`;
  renderKpis(run.kpis, run.total > 1);
  for (const name of ["map", "queue_lorries", "queue_km", "delay", "throughput"]) {
    await Plotly.react($(`chart-${name}`), figures[name].data, figures[name].layout, PLOTLY_CONFIG);
  }
  const security = $("chart-security");
  $("security-off").hidden = Boolean(figures.security);
  security.hidden = !figures.security;
  if (figures.security) await Plotly.react(security, figures.security.data, figures.security.layout, PLOTLY_CONFIG);
  document.body.dataset.shownRun = id;
}

const KM_PER_MILE = 1.609344;

// as straits.cli.format: durations over two hours as h:mm, queue lengths in km with miles
function durationText(minutes) {
  if (Math.abs(minutes) < 120) return `${minutes.toFixed(1)} min`;
  const whole = Math.round(minutes);
  const hours = Math.floor(Math.abs(whole) / 60);
  const rest = String(Math.abs(whole) % 60).padStart(2, "0");
  return `${whole < 0 ? "-" : ""}${hours.toLocaleString("en-GB")}:${rest} h`;
}

function distanceText(km) {
  const one = (x) => x.toLocaleString("en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return `${one(km)} km (${one(km / KM_PER_MILE)} mi)`;
}

function format(value, unit) {
  if (!Number.isFinite(value)) return "—";
  if (unit === "£") return "£" + Math.round(value).toLocaleString("en-GB");
  if (unit === "share") return value.toFixed(3);
  if (unit === "min") return durationText(value);
  if (unit === "km") return distanceText(value);
  return Math.abs(value) >= 100 || Number.isInteger(value)
    ? Math.round(value).toLocaleString("en-GB") : value.toFixed(1);
}

function unitText(unit) {
  return unit === "min" || unit === "km" ? "" : unit;  // the value says it
}

function statusText(run) {
  if (run.status === "queued") return `queued (${run.ahead} ahead)`;
  if (run.status === "failed") return `failed: ${run.error}`;
  if (run.status === "stopped") return `stopped after ${run.done} of ${run.total}`;
  if (run.status === "cancelled") return "cancelled";
  const seconds = run.elapsed_seconds;
  return `${run.status} (${seconds < 120 ? `${Math.round(seconds)} s` : durationText(seconds / 60)})`;
}

async function cancelRun(id) {
  try {
    await api(`/api/runs/${encodeURIComponent(id)}`, { method: "DELETE" });
  } catch (error) {
    $("form-error").textContent = String(error.message);
  }
  await refreshRuns();
}

function renderKpis(kpis, ensemble) {
  const directions = ["southbound", "northbound"];
  const table = document.createElement("table");
  table.className = "kpi";
  table.innerHTML = "<tr><th>KPI</th><th>unit</th><th>southbound</th><th>northbound</th></tr>";
  const cell = (k) => k ? format(k.value, k.unit) + (ensemble && k.low !== k.high
    ? ` (${format(k.low, k.unit)}–${format(k.high, k.unit)})` : "") : "";
  const byLabel = {};
  for (const k of kpis.filter((k) => directions.includes(k.section))) {
    (byLabel[k.label] ??= {})[k.section] = k;
  }
  for (const k of kpis.filter((k) => k.section === "corridor" || k.section === "security")) {
    const row = table.insertRow();
    row.innerHTML = `<td></td><td></td><td colspan="2"></td>`;
    row.cells[0].textContent = k.label;
    row.cells[1].textContent = unitText(k.unit);
    row.cells[2].textContent = cell(k);
    row.cells[2].dataset.kpi = `${k.section}|${k.label}`;
  }
  for (const [label, pair] of Object.entries(byLabel)) {
    const row = table.insertRow();
    row.insertCell().textContent = label;
    row.insertCell().textContent = unitText(Object.values(pair)[0].unit);
    for (const d of directions) {
      const c = row.insertCell();
      c.textContent = cell(pair[d]);
      c.dataset.kpi = `${d}|${label}`;
    }
  }
  $("kpi-table").replaceChildren(table);
}

async function compareRuns() {
  const a = $("compare-select").value;
  const b = state.shown;
  if (!a || !b) return;
  const result = await api(`/api/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`);
  const table = document.createElement("table");
  table.className = "kpi";
  table.innerHTML = `<tr><th>KPI</th><th>unit</th><th>A: </th><th>B: </th><th>B − A</th></tr>`;
  table.rows[0].cells[2].textContent += result.a;
  table.rows[0].cells[3].textContent += result.b;
  for (const k of result.kpis) {
    const row = table.insertRow();
    for (const text of [`${k.section} · ${k.label}`, unitText(k.unit), format(k.a, k.unit), format(k.b, k.unit),
                        (k.b - k.a > 0 ? "+" : "") + format(k.b - k.a, k.unit)]) {
      row.insertCell().textContent = text;
    }
    if (k.change) row.cells[4].className = k.change;
  }
  $("compare-table").replaceChildren(table);
  for (const name of ["queue", "delay", "throughput"]) {
    const fig = result.figures[name];
    await Plotly.react($(`chart-compare-${name}`), fig.data, fig.layout, PLOTLY_CONFIG);
  }
  const link = $("download-compare");
  link.href = `/api/compare/report.html?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`;
  link.hidden = false;
}

// --- optimisation studies -------------------------------------------------------------------

const study = { id: null, timer: null };

async function loadStudies() {
  const names = await api("/api/studies/builtin");
  $("study-select").replaceChildren(...names.map((n) => new Option(n, n)));
}

async function submitStudy(event) {
  event.preventDefault();
  $("study-error").textContent = "";
  const body = { study: $("study-select").value, trials: Number($("study-trials").value),
                 replications: Number($("study-replications").value), seed: Number($("study-seed").value) };
  try {
    const started = await api("/api/studies", { method: "POST", headers: { "Content-Type": "application/json" },
                                                body: JSON.stringify(body) });
    study.id = started.id;
    await pollStudy();
  } catch (error) {
    $("study-error").textContent = (error.errors || []).map((e) => (e.field ? `${e.field}: ` : "") + e.message).join("; ") || error.message;
  }
}

async function cancelStudy() {
  if (study.id) await api(`/api/studies/${study.id}`, { method: "DELETE" }).catch(() => null);
}

async function pollStudy() {
  clearTimeout(study.timer);
  const s = await api(`/api/studies/${study.id}`);
  const running = s.status === "queued" || s.status === "running";
  $("study-status").textContent = `${s.id} ${s.study}: ${s.status}, ${s.done} of ${s.total} plans tried` +
    (s.recommended ? `; recommended: ${s.recommended}` : s.status === "done" ? "; none recommended (no plan held on fresh seeds)" : "") +
    (s.error ? ` (${s.error})` : "");
  $("study-cancel").hidden = !running;
  $("study-report").hidden = !s.report;
  if (s.report) $("study-report").href = s.report;
  await drawFront(s);
  if (running) study.timer = setTimeout(pollStudy, 1000);
}

function planText(row) {
  return Object.entries(row).map(([k, v]) => `${k}: ${typeof v === "number" ? v.toPrecision(4) : v}`).join("<br>");
}

async function drawFront(s) {
  const rows = s.front;
  const trace = { x: rows.map((r) => r[s.x]), y: rows.map((r) => r[s.y]), mode: "markers", type: "scatter",
                  text: rows.map(planText), hoverinfo: "text",
                  marker: { size: 11, color: rows.map((r) => (r.constraints === "holds" ? "#2ca02c" : r.constraints === "FAILS" ? "#d62728" : "#1f77b4")) } };
  await Plotly.react($("chart-study"), [trace], { title: `${s.study}: front so far (${rows.length} plans)`,
    xaxis: { title: { text: s.x } }, yaxis: { title: { text: s.y } }, template: "plotly_white", height: 380 }, PLOTLY_CONFIG);
  const columns = rows.length ? Object.keys(rows[0]) : [];
  const table = document.createElement("table");
  table.className = "kpi";
  table.append(...[columns, ...rows.map((r) => columns.map((c) => r[c]))].map((cells, i) => {
    const tr = document.createElement("tr");
    cells.forEach((cell) => {
      const td = document.createElement(i === 0 ? "th" : "td");
      td.textContent = typeof cell === "number" ? cell.toPrecision(4) : String(cell ?? "");
      if (cell === "FAILS") td.className = "FAILS";
      if (cell === "awaiting re-run") td.className = "awaiting";
      tr.append(td);
    });
    return tr;
  }));
  $("study-front").replaceChildren(table);
}

$("study-form").addEventListener("submit", submitStudy);
$("study-cancel").addEventListener("click", cancelStudy);
loadStudies();
$("scenario-select").addEventListener("change", chooseBuiltin);
$("scenario-file").addEventListener("change", uploadScenario);
$("run-form").addEventListener("submit", submitRun);
$("compare-button").addEventListener("click", compareRuns);
loadScenarios().then(refreshRuns).catch((error) => { $("form-error").textContent = String(error); });
