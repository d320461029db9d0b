"""A toy calibration problem with a known answer: Dover's French border as an M/M/c stage.

Flat Poisson demand, exponential border times and ample room everywhere else,
so the border stage is an M/M/c queue; its mean wait with the true booth count
comes from Erlang C (theory, not a run), and a calibration of the booth count
to that wait must recover the true count.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from straits.calibration.evaluation import Evaluator
from straits.calibration.search import TrialResult, run_search
from straits.calibration.spec import Spec, load_spec
from straits.experiments.executors import Executor, make_executor
from straits.experiments.store import ResultsStore
from straits.pipeline import RunResult
from straits.scenario import Scenario
from straits.validation.targets import Target
from tests.conftest import scenario_with
from tests.theory import mmc_mean_wait_minutes

TRUE_BOOTHS = 7
SERVICE_MINUTES = 2.0
RHO = 0.85  # utilisation with the true booth count
DOVER_PER_MINUTE = RHO * TRUE_BOOTHS / SERVICE_MINUTES
FERRY_SHARE = 0.667
BORDER_STAGE = 1  # uk_exit, french_border, check_in


def toy_scenario(name: str = "toy-mmc", per_minute: float = DOVER_PER_MINUTE) -> Scenario:
    """Dover's French border as M/M/c (9 booths to start from) fed ``per_minute`` lorries."""
    flat = {"hour_of_day": [1.0] * 24, "day_of_week": [1.0] * 7}
    return scenario_with({
        "terminals.dover.buffer_lorries": 100_000,
        "terminals.dover.stages.1.booths": 9,
        "terminals.dover.stages.1.service_time": {"distribution": "exponential",
                                                  "mean": f"{SERVICE_MINUTES:g}min"},
        "terminals.dover.stages.2.booths": 40,
        "demand.southbound": {"lorries_per_day": per_minute * 1440 / FERRY_SHARE, **flat},
        "demand.northbound": {"lorries_per_day": 100, **flat},
    }, name=name, horizon="2d", disruptions=[])


def toy_target(scenario: str, booths: int, per_minute: float, key: str) -> Target:
    """The Erlang C wait with ``booths`` booths, published as if measured."""
    theory = mmc_mean_wait_minutes(booths, per_minute, SERVICE_MINUTES)
    return Target(key=key, scenario=scenario, quantity="mean wait at Dover's French border",
                  unit="minutes", measure=border_mean_wait, published_low=theory,
                  published_high=theory, published_text="Erlang C", facts="theory",
                  source="Erlang C", tolerance=0.3, why_tolerance="a 2-day run starts empty")


def border_mean_wait(result: RunResult) -> float:
    """Mean wait (minutes) before a Dover French-border booth, after a 6-hour warm-up."""
    dr = result.records.directions["southbound"]
    dover = (dr.terminal == dr.layout.terminals.index("dover")) & (dr.arrival_minutes > 360)
    reached = dover & ~np.isnan(dr.stage_start_minutes[:, BORDER_STAGE])
    waits = (dr.stage_start_minutes[reached, BORDER_STAGE]
             - dr.stage_end_minutes[reached, BORDER_STAGE - 1])
    return float(waits.mean())


TOY_TARGET = toy_target("toy-mmc", TRUE_BOOTHS, DOVER_PER_MINUTE, "toy-wait")


TOY_SPEC = """\
name: toy
corridor: toy-mmc
parameters:
  - path: terminals.dover.stages.french_border.booths
    low: 5
    high: 11
replications: 3
refine_replications: 6
trials: 10
startup_trials: 4
batch: 2
seed: 7
"""


def toy_spec(folder: Path, text: str = TOY_SPEC, catalogue: tuple[Target, ...] = (),
             scenarios: dict[str, Scenario] | None = None) -> Spec:
    """The toy spec (written to ``folder``), loaded against the toy target and scenario."""
    path = folder / "toy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_spec(path, catalogue or (TOY_TARGET,), scenarios or {"toy-mmc": toy_scenario()})


def calibrate_toy(folder: Path, spec: Spec, executor: Executor | None = None,
                  on_trial: Callable[[TrialResult], None] | None = None,
                  scenarios: dict[str, Scenario] | None = None) -> list[TrialResult]:
    """Run the toy calibration in ``folder`` (study and store there)."""
    executor = executor or make_executor(1)
    with ResultsStore(folder / "store.duckdb") as store:
        evaluator = Evaluator(spec, store, executor, scenarios or {"toy-mmc": toy_scenario()})
        return run_search(spec, folder, evaluator, spec.trials, on_trial)


TOY_SMC_SPEC = TOY_SPEC.replace("trials: 10", "trials: 16") + """\
sampler: smc
generation_trials: 6
keep: 2
"""
