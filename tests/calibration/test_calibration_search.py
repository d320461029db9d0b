"""The search on a toy with a known answer: recovery, resume after a kill, workers."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from straits.calibration.acceptance import best_trial, summarise
from straits.calibration.search import (
    STUDY_FILE,
    TrialResult,
    _sampler,
    distributions,
    finished_trials,
    open_study,
    prior_draws,
    spec_digest,
)
from straits.calibration.spec import load_spec
from straits.experiments.executors import make_executor
from straits.scenario import ScenarioError
from tests.calibration.toy import (
    TOY_SPEC,
    TRUE_BOOTHS,
    calibrate_toy,
    toy_spec,
)

BOOTHS = "terminals.dover.stages.french_border.booths"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> list:
    """The toy calibration run once, uninterrupted, on one worker."""
    folder = tmp_path_factory.mktemp("clean")
    return calibrate_toy(folder, toy_spec(folder))


def test_toy_calibration_recovers_the_true_booth_count(tmp_path, clean):
    spec = toy_spec(tmp_path)
    trials = clean
    assert len(trials) == spec.trials
    summary = summarise(spec, trials, None)
    assert summary.best.values[BOOTHS] == TRUE_BOOTHS
    assert summary.best.replications == spec.refine_replications  # refined near the best
    accepted = {t.values[BOOTHS] for t in summary.accepted}
    assert TRUE_BOOTHS in accepted
    assert accepted <= {TRUE_BOOTHS - 1, TRUE_BOOTHS, TRUE_BOOTHS + 1}  # neighbours differ


def test_prior_sampler_is_abc_rejection_and_keeps_only_what_fits(tmp_path):
    spec = toy_spec(tmp_path, TOY_SPEC.replace("trials: 10", "trials: 12") + "sampler: prior\n")
    trials = calibrate_toy(tmp_path, spec)
    assert {t.phase for t in trials} == {"prior"}
    drawn = [t.values[BOOTHS] for t in trials]
    assert len(set(drawn)) >= 5 and TRUE_BOOTHS in drawn
    summary = summarise(spec, trials, None)
    assert summary.accepted == [t for t in trials if t.values[BOOTHS] == TRUE_BOOTHS]


def _trial_values(trials):
    return [(t.number, t.values, t.score, t.replications) for t in trials]


def _on_two_workers(folder, spec):
    executor = make_executor(2)
    try:
        return calibrate_toy(folder, spec, executor)
    finally:
        executor.close()


def test_same_spec_and_seed_give_the_same_trials_on_one_and_two_workers(tmp_path, clean):
    spec = toy_spec(tmp_path)
    one = clean
    two = _on_two_workers(tmp_path / "two", spec)
    assert _trial_values(one) == _trial_values(two)
    assert best_trial(one).values == best_trial(two).values


def test_cmaes_gives_the_same_trials_on_one_and_two_workers(tmp_path):
    spec = toy_spec(tmp_path, TOY_SPEC + "sampler: cmaes\n")
    one = calibrate_toy(tmp_path / "one", spec)
    two = _on_two_workers(tmp_path / "two", spec)
    assert _trial_values(one) == _trial_values(two)
    study = optuna.load_study(study_name="calibration",
                              storage=f"sqlite:///{tmp_path / 'one' / STUDY_FILE}")
    searched = [t for t in study.trials if t.number >= spec.startup_trials]
    assert searched and all("cma:generation" in t.system_attrs for t in searched)  # CMA-ES
    assert best_trial(one).values[BOOTHS] == TRUE_BOOTHS


_RUN_TOY = """
import sys
from pathlib import Path
from tests.calibration.toy import calibrate_toy, toy_spec
folder = Path(sys.argv[1])
calibrate_toy(folder, toy_spec(folder))
"""


def killed_after(folder: Path, script: str, finished: int) -> dict[int, TrialResult]:
    """Run ``script`` on ``folder`` in a process, SIGKILL it once ``finished`` trials are
    done, and return the finished trials it left."""
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    process = subprocess.Popen([sys.executable, "-c", script, str(folder)], env=env, cwd=REPO)
    deadline = time.monotonic() + 120
    while _complete(folder) < finished and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the study, not waiting for a fixed time
    process.send_signal(signal.SIGKILL)
    process.wait()
    return {t.number: t for t in finished_trials(optuna.load_study(
        study_name="calibration", storage=f"sqlite:///{folder / STUDY_FILE}"))}


def _complete(folder: Path) -> int:
    """Finished trials in the study (read with sqlite3: a reader must not create the schema)."""
    try:
        with sqlite3.connect(f"file:{folder / STUDY_FILE}?mode=ro", uri=True) as db:
            return db.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_killed_calibration_resumes_without_repeating_finished_trials(tmp_path, clean):
    killed = tmp_path / "killed"
    before = killed_after(killed, _RUN_TOY, 3)
    assert 3 <= len(before) < toy_spec(tmp_path).trials, "the kill came too late to test resume"

    ran_now: list[int] = []
    spec = toy_spec(killed)
    resumed = calibrate_toy(killed, spec, on_trial=lambda r: ran_now.append(r.number))
    assert not set(ran_now) & set(before)  # no finished trial evaluated again
    assert sorted(ran_now) == [n for n in range(spec.trials) if n not in before]
    kept = [t for t in resumed if t.number in before]
    assert _trial_values(kept) == _trial_values([before[t.number] for t in kept])
    assert _trial_values(resumed) == _trial_values(clean)  # as if never interrupted


@pytest.mark.parametrize("field", ["trials", "seed"])
def test_a_study_resumes_only_with_the_spec_it_was_made_from(tmp_path, field):
    spec = toy_spec(tmp_path, TOY_SPEC.replace("trials: 10", "trials: 2"))
    calibrate_toy(tmp_path, spec)
    changed = TOY_SPEC.replace("seed: 7", "seed: 8") if field == "seed" else TOY_SPEC
    if field == "trials":  # more trials is a resume, not a different study
        assert len(calibrate_toy(tmp_path, toy_spec(tmp_path, changed))) == 10
        return
    with pytest.raises(ScenarioError, match="different spec"):
        calibrate_toy(tmp_path, toy_spec(tmp_path, changed))


@pytest.mark.parametrize("cut", ["waiting prior draw", "asked, no values yet",
                                 "whole batch asked, not scored"])
def test_a_trial_cut_short_is_finished_as_the_uninterrupted_run_would(tmp_path, clean, cut):
    folder = tmp_path / "cut"
    folder.mkdir()
    first = 2 if cut == "waiting prior draw" else 4  # prior draws are trials 0-3
    calibrate_toy(folder, toy_spec(folder, TOY_SPEC.replace("trials: 10", f"trials: {first}")))
    study = open_study(folder, toy_spec(folder))
    if cut == "waiting prior draw":
        study.enqueue_trial({BOOTHS: int(prior_draws(toy_spec(folder), 4)[2][BOOTHS])})
    elif cut == "asked, no values yet":
        study.ask()
    else:
        for number in (4, 5) if cut.startswith("whole") else (4,):
            study.sampler = _sampler(toy_spec(folder), number, 4)
            study.ask(distributions(toy_spec(folder)))
    assert _trial_values(calibrate_toy(folder, toy_spec(folder))) == _trial_values(clean)


PASSPORT = "passengers.classes.car.stages.dover.tourist_french_border.service_time.mean"


def test_a_values_home_is_part_of_the_spec_a_study_resumes_with(tmp_path):
    def digest(home_line: str, passport_home: str) -> str:
        path = tmp_path / "homed.yaml"
        path.write_text(f"name: homed\nparameters:\n  - path: terminals.dover.buffer_lorries\n"
                        f"{home_line}    low: 200\n    high: 900\n  - path: {PASSPORT}\n"
                        f"    scenario: {passport_home}\n    low: 3.75s\n    high: 15s\n")
        return spec_digest(load_spec(path))

    plain = digest("", "dover-summer-2023")
    assert digest("    scenario: corridor-2015\n", "dover-summer-2023") == plain  # the default
    assert digest("", "ees-2026") != plain  # the same path, homed in another scenario
