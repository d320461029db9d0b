"""The conclusions of a calibration: best trial, accepted set, the fitted corridor file."""

from __future__ import annotations

import json
from dataclasses import replace

import yaml

from straits.calibration.acceptance import (
    accepted_range_text,
    best_trial,
    fit_markdown,
    fitted_file,
    summarise,
    write_results,
)
from straits.calibration.objective import fit
from straits.calibration.search import TrialResult
from straits.calibration.spec import load_spec
from straits.experiments.sweep import read_path, scenario_mapping
from straits.scenario import load_scenario, scenario_from_text

DOVER = "terminals.dover.stages.french_border.booths"
PASSPORT = "passengers.classes.car.stages.dover.tourist_french_border.service_time.mean"


def _trial(spec, number, values, means, replications=10, phase="search"):
    fits = {t.key: fit(t, means.get(t.key, sum(t.band) / 2), 1.0, replications)
            for t in spec.targets}
    score = sum(f.distance ** 2 for f in fits.values()) / len(fits)
    return TrialResult(number, values, score, fits, replications, f"cal-{number}", phase)


def _trials():
    """Four hand-made trials of the shipped spec's values, read as a TPE study's."""
    spec = replace(load_spec(), sampler="tpe")
    base = {p.path: p.home_value for p in spec.parameters}
    return spec, [
        _trial(spec, 0, {**base, DOVER: 6}, {"strike-stack-days": 40.0}),  # fails a band
        _trial(spec, 1, {**base, DOVER: 8}, {"checks-2min": 7.5}),
        _trial(spec, 2, base, {}),
        _trial(spec, 3, {**base, DOVER: 9}, {}, replications=5),  # lucky on fewer runs
    ]


def test_best_is_the_lowest_score_among_the_most_replicated_and_accepted_all_pass():
    spec, trials = _trials()
    assert trials[3].score == trials[2].score  # as good, but on 5 replications only
    assert best_trial(trials).number == 2
    summary = summarise(spec, trials, None)
    assert [t.number for t in summary.accepted] == [1, 2]
    assert summary.ranges[DOVER] == (7, 8)


def test_fitted_corridor_is_the_corridor_file_with_the_best_values_and_their_provenance():
    spec, trials = _trials()
    best = {**trials[2].values, DOVER: 8, "terminals.dover.stages.french_border.service_time.cv":
            0.65}
    trials[2] = _trial(spec, 2, best, {})
    text = fitted_file(summarise(spec, trials, None), "straits calibrate", "corridor-2015")
    fitted = scenario_mapping(scenario_from_text(text))
    for p in spec.parameters:
        if p.home == "corridor-2015":
            assert read_path(fitted, p.path) == best[p.path]
    assert "passengers" not in fitted  # the era scenario's value has a file of its own
    assert "# The best's other free values are in dover-summer-2023.calibrated.yaml" in text
    original = yaml.safe_load(spec.home_texts["corridor-2015"])
    assert yaml.safe_load(text)["demand"] == original["demand"]  # nothing else moved
    assert "# F1.1: ~10,800/day" in text  # the corridor's own comments are kept
    assert f"# calibrated: {DOVER} = 8 (was 7; accepted 8 to 8" in text
    assert text.startswith("# Calibrated by `straits calibrate`")
    assert "strike-stack-days: mean 30" in text


def test_results_folder_holds_json_corridor_and_table(tmp_path):
    spec, trials = _trials()
    trials[2] = _trial(spec, 2, {**trials[2].values, PASSPORT: "11.2s", DOVER: 9}, {})
    written = write_results(tmp_path, summarise(spec, trials, None), "straits calibrate")
    assert [p.name for p in written] == ["calibration.json", "corridor-2015.calibrated.yaml",
                                         "dover-summer-2023.calibrated.yaml", "fit.md"]
    data = json.loads(written[0].read_text())
    assert data["best"]["trial"] == 2 and len(data["accepted"]) == 2
    assert data["accepted_ranges"][DOVER] == [8, 9]
    homes = {p["path"]: p["scenario"] for p in data["parameters"]}
    assert homes[DOVER] == "corridor-2015" and homes[PASSPORT] == "dover-summer-2023"
    era = scenario_mapping(load_scenario(written[2]))  # on the fitted corridor beside it
    assert (read_path(era, DOVER), read_path(era, PASSPORT)) == (9, "11.2s")
    assert "| checks-2min |" in written[-1].read_text()
    shipped = next(p for p in spec.parameters if p.path == PASSPORT)
    assert (f"| `{PASSPORT}` | dover-summer-2023 | {shipped.text(shipped.home_value)} |"
            in written[-1].read_text())


def test_with_nothing_accepted_the_table_shows_no_range_and_still_names_every_parameter():
    spec, trials = _trials()
    failing = [_trial(spec, 0, trials[0].values, {"strike-stack-days": 40.0})]
    summary = summarise(spec, failing, None)
    assert summary.accepted == [] and summary.ranges == {}
    table = fit_markdown(summary)
    durations = [p for p in spec.parameters if p.kind == "duration"]
    assert durations  # the shipped spec has durations, whose text once failed on "—"
    for p in spec.parameters:
        assert f"| `{p.path}` |" in table
        assert accepted_range_text(summary, p) == "—"


def test_a_value_homed_in_a_scenario_is_written_into_that_scenarios_file():
    spec, trials = _trials()
    assert any(p.path == PASSPORT and p.home == "dover-summer-2023" for p in spec.parameters)
    trials[2] = _trial(spec, 2, {**trials[2].values, PASSPORT: "11.2s", DOVER: 8}, {})
    text = fitted_file(summarise(spec, trials, None), "straits calibrate", "dover-summer-2023")
    assert "\nextends: corridor-2015.calibrated.yaml\n" in text  # the fitted corridor
    assert "# calibrated: extends the calibrated corridor beside it (was corridor-2015)" in text
    original = yaml.safe_load(spec.home_texts["dover-summer-2023"])
    assert yaml.safe_load(text)["demand"] == original["demand"]  # nothing else moved
    assert f"# calibrated: {PASSPORT} = 11.2s (was " in text
    assert "corridor-2015.calibrated.yaml" in text  # where the other values went
    assert "inherits it only if it carries the same value" in text
