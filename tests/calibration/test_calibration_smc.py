"""ABC population Monte Carlo: the mathematics against analytic posteriors, and
``sampler: smc`` on the toy M/M/c calibration (recovery, workers, resume, bad specs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats
from typer.testing import CliRunner

from straits.calibration import smc
from straits.calibration.acceptance import summarise, summary_json, write_results
from straits.calibration.search import spec_digest
from straits.calibration.spec import Parameter
from straits.calibration.uncertainty import draw_vectors, load_accepted
from straits.cli import app
from tests.calibration.test_calibration_acceptance import _trials
from tests.calibration.test_calibration_search import (
    _on_two_workers,
    _trial_values,
    killed_after,
)
from tests.calibration.test_calibration_spec import GOOD
from tests.calibration.toy import TOY_SMC_SPEC, TOY_SPEC, TRUE_BOOTHS, calibrate_toy, toy_spec

BOOTHS = "terminals.dover.stages.french_border.booths"
SIGMAS = 4.0  # how far (in standard errors from the effective sample size) an estimate may be
runner = CliRunner()


def _parameter(kind: str = "number", prior: str = "normal", low: float = -4.0,
               high: float = 4.0, mean: float | None = 0.0, sd: float | None = 1.0) -> Parameter:
    return Parameter("x", low, high, kind, prior, mean, sd, low, "", "corridor-2015")  # type: ignore[arg-type]


def _abc(parameters: tuple[Parameter, ...], region: tuple[float, float], seed: int,
         size: int = 600, keep: int = 300, generations: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """ABC-PMC of a deterministic "simulator" whose distance is <= 1 exactly inside
    ``region``: the last generation's accepted values and their normalised weights."""
    centre, half = (region[0] + region[1]) / 2, (region[1] - region[0]) / 2
    rng = np.random.default_rng(seed)
    x = np.array([[p.from_unit(u) for p, u in zip(parameters, row, strict=True)]
                  for row in rng.random((size, len(parameters)))])
    z, w = smc.to_search(parameters, x), np.full(size, 1.0 / size)

    def distance(z: np.ndarray) -> np.ndarray:
        return np.abs(smc.from_search(parameters, z)[:, 0] - centre) / half

    for generation in range(1, generations + 1):
        d = distance(z)
        kept = d <= smc.tolerance(d, np.arange(len(d)), keep)
        scales = smc.kernel_scales(parameters, z[kept], w[kept])
        proposed = smc.propose(parameters, z[kept], w[kept], scales, size,
                               smc.generation_rng(seed, generation))
        w = smc.importance_weights(parameters, proposed, z[kept], w[kept], scales)
        z = proposed
    inside = distance(z) <= 1
    return smc.from_search(parameters, z)[inside, 0], smc.normalised(w[inside])


def test_weighted_population_is_the_normal_prior_restricted_to_the_region_and_unweighted_is_not():
    low, high = 0.5, 3.0  # the upper tail of N(0, 1): the prior falls steeply across it
    values, weights = _abc((_parameter(),), (low, high), seed=3)
    truth = stats.truncnorm(low, high)  # the prior restricted to the region
    ess = smc.effective_sample_size(weights)
    assert ess > 100  # enough to test anything
    assert abs(weights @ values - truth.mean()) < SIGMAS * truth.std() / np.sqrt(ess)
    quantiles = (0.05, 0.5, 0.95)
    for q, estimate in zip(quantiles, smc.weighted_quantiles(values, weights, quantiles),
                           strict=True):
        at = truth.ppf(q)
        assert abs(estimate - at) < SIGMAS * np.sqrt(q * (1 - q) / ess) / truth.pdf(at), q
    # without the weights the sample follows the proposals, flatter than the prior
    assert values.mean() - truth.mean() > SIGMAS * truth.std() / np.sqrt(len(values))


def test_weighted_integer_frequencies_are_the_rounded_prior_restricted_to_the_region():
    p = _parameter("integer", "normal", 0, 12, 3.0, 2.0)
    values, weights = _abc((p,), (3.5, 7.5), seed=5)  # the integers 4 to 7
    cells = np.arange(4, 9) - 0.5  # whole number k is the rounding of [k - 0.5, k + 0.5)
    cdf = stats.truncnorm((p.low - 3) / 2, (p.high - 3) / 2, loc=3, scale=2).cdf(cells)
    truth = np.diff(cdf) / (cdf[-1] - cdf[0])
    ess = smc.effective_sample_size(weights)
    weighted = np.array([weights[values == k].sum() for k in range(4, 8)])
    plain = np.array([np.mean(values == k) for k in range(4, 8)])
    assert set(values) <= {4, 5, 6, 7}
    assert np.all(np.abs(weighted - truth) < SIGMAS * np.sqrt(truth * (1 - truth) / ess))
    assert np.any(np.abs(plain - truth) > SIGMAS * np.sqrt(truth * (1 - truth) / len(values)))


PARAMETERS = (
    _parameter("number", "uniform", 1.0, 3.0, None, None),
    _parameter("number", "log-uniform", 0.1, 100.0, None, None),
    _parameter("number", "normal", 0.0, 10.0, 8.0, 1.0),
    _parameter("integer", "uniform", 5, 10, None, None),
    _parameter("integer", "normal", 0, 6, 1.0, 3.0),
    _parameter("integer", "log-uniform", 1, 20, None, None),
)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_proposals_stay_in_bounds_and_weights_are_positive_and_normalised(seed):
    rng = np.random.default_rng(seed)
    x = np.array([[p.from_unit(u) for p, u in zip(PARAMETERS, row, strict=True)]
                  for row in rng.random((20, len(PARAMETERS)))])
    x[0] = [p.high for p in PARAMETERS]  # particles on the bounds
    z, w = smc.to_search(PARAMETERS, x), rng.random(20)
    scales = smc.kernel_scales(PARAMETERS, z, w) * (1 + 20 * seed)  # up to very wide kernels
    proposed = smc.propose(PARAMETERS, z, w, scales, 500, rng)
    values = smc.from_search(PARAMETERS, proposed)
    for i, p in enumerate(PARAMETERS):
        assert np.all((values[:, i] >= p.low) & (values[:, i] <= p.high)), p.prior
        if p.kind == "integer":
            assert np.all(values[:, i] == np.round(values[:, i]))
    weights = smc.importance_weights(PARAMETERS, proposed, z, w, scales)
    assert np.all(weights > 0) and weights.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("scale", [0.05, 0.5, 2.0, 40.0])
@pytest.mark.parametrize("centre", [5.0, 7.0, 10.0])
def test_kernel_mass_on_the_integers_sums_to_one_and_density_integrates_to_one(centre, scale):
    whole = _parameter("integer", "uniform", 5, 10, None, None)
    integers = np.arange(5, 11, dtype=float)[:, None]
    mass = np.exp(smc.log_kernel((whole,), integers, np.array([[centre]]), np.array([scale])))
    assert mass.sum() == pytest.approx(1.0, abs=1e-12)
    flat = _parameter("number", "uniform", 5.0, 10.0, None, None)
    total, _ = integrate.quad(lambda t: np.exp(smc.log_kernel(
        (flat,), np.array([[t]]), np.array([[centre]]), np.array([scale]))[0, 0]), 5, 10,
        points=[centre], limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_integer_proposals_follow_the_kernel_masses():
    whole = _parameter("integer", "uniform", 5, 10, None, None)
    centre, scale = np.array([[9.0]]), np.array([1.3])
    drawn = smc.propose((whole,), centre, np.array([1.0]), scale, 20_000,
                        np.random.default_rng(1))[:, 0]
    mass = np.exp(smc.log_kernel((whole,), np.arange(5, 11, dtype=float)[:, None], centre,
                                 scale))[:, 0]
    frequency = np.array([np.mean(drawn == k) for k in range(5, 11)])
    assert np.all(np.abs(frequency - mass) < SIGMAS * np.sqrt(mass * (1 - mass) / 20_000) + 1e-9)


def test_prior_masses_and_densities_are_normalised():
    for p in PARAMETERS:
        if p.kind == "integer":
            k = np.arange(p.low, p.high + 1)[:, None]
            assert np.exp(smc.log_prior((p,), k)).sum() == pytest.approx(1.0), p.prior
        else:
            low, high = np.log([p.low, p.high]) if p.prior == "log-uniform" else (p.low, p.high)
            total, _ = integrate.quad(
                lambda t, p=p: np.exp(smc.log_prior((p,), np.array([[t]]))[0]), low, high)
            assert total == pytest.approx(1.0), p.prior


def test_tolerance_is_the_keep_th_distance_by_trial_number_and_never_below_one():
    distances = np.array([3.0, 2.0, 2.0, 5.0, 0.5])
    numbers = np.array([10, 12, 11, 13, 14])
    assert smc.tolerance(distances, numbers, 2) == 2.0
    assert smc.tolerance(distances, numbers, 4) == 3.0
    assert smc.tolerance(distances, numbers, 1) == 1.0  # one accepted: the criterion itself
    assert smc.tolerance(distances, numbers, 9) == 5.0  # fewer than keep: all of them


def test_a_failing_target_counts_beyond_the_band_edge():
    assert smc.candidate_distance([0.3, -0.9], [True, True]) == 0.9
    assert smc.candidate_distance([0.3, 0.2], [True, False]) > 1  # a zero-width band missed
    assert smc.candidate_distance([0.3, -4.0], [True, False]) == 4.0


def test_effective_sample_size_and_systematic_resampling_follow_the_weights():
    assert smc.effective_sample_size(np.ones(8)) == pytest.approx(8)
    assert smc.effective_sample_size(np.array([1.0, 0, 0])) == pytest.approx(1)
    drawn = smc.systematic_resample(np.array([0.7, 0.0, 0.3]), 10, np.random.default_rng(0))
    assert list(np.bincount(drawn, minlength=3)) == [7, 0, 3]


# --- the toy M/M/c calibration ---------------------------------------------------------


@pytest.fixture(scope="module")
def smc_clean(tmp_path_factory) -> list:
    """The toy smc calibration run once, uninterrupted, on one worker."""
    folder = tmp_path_factory.mktemp("smc")
    return calibrate_toy(folder, toy_spec(folder, TOY_SMC_SPEC))


def test_smc_recovers_the_true_booth_count_with_a_weighted_accepted_set(tmp_path, smc_clean):
    spec = toy_spec(tmp_path, TOY_SMC_SPEC)
    assert len(smc_clean) == spec.trials
    assert [t.generation for t in smc_clean] == [0] * 4 + [1] * 6 + [2] * 6
    summary = summarise(spec, smc_clean, None)
    assert summary.best.values[BOOTHS] == TRUE_BOOTHS
    assert summary.generation == 2 and summary.tolerances[-1] == 1.0
    assert summary.accepted and all(t.generation == 2 and t.accepted for t in summary.accepted)
    assert TRUE_BOOTHS in {t.values[BOOTHS] for t in summary.accepted}
    assert summary.weights is not None and sum(summary.weights) == pytest.approx(1.0)
    data = summary_json(summary, "straits calibrate")
    assert [e["weight"] for e in data["accepted"]] == list(summary.weights)
    assert data["smc"]["effective_sample_size"] == pytest.approx(
        1 / sum(w * w for w in summary.weights))
    assert data["smc"]["weighted_quantiles"][BOOTHS][1] == TRUE_BOOTHS


def test_a_tpe_search_in_generation_0_only_mixes_the_first_proposal(tmp_path):
    """With ``search_trials``, generation 0 is the prior draws and TPE's search (equal
    mixing weights); the accepted set still comes from a weighted later generation."""
    text = TOY_SMC_SPEC.replace("trials: 16", "trials: 12") + "search_trials: 2\n"
    spec = toy_spec(tmp_path, text)
    trials = calibrate_toy(tmp_path, spec)
    assert [t.generation for t in trials] == [0] * 6 + [1] * 6
    assert [t.phase for t in trials[:6]] == ["prior"] * 4 + ["search"] * 2
    assert all(t.weight == pytest.approx(1 / 6) for t in trials[:6])
    summary = summarise(spec, trials, None)
    assert summary.generation == 1 and summary.accepted
    assert all(t.generation == 1 for t in summary.accepted)
    assert TRUE_BOOTHS in {t.values[BOOTHS] for t in summary.accepted}
    assert sum(summary.weights or ()) == pytest.approx(1.0)


def test_smc_gives_the_same_trials_on_one_and_two_workers(tmp_path, smc_clean):
    two = _on_two_workers(tmp_path / "two", toy_spec(tmp_path, TOY_SMC_SPEC))
    assert _trial_values(smc_clean) == _trial_values(two)
    assert [t.weight for t in smc_clean] == [t.weight for t in two]


_RUN_SMC = """
import sys
from pathlib import Path
from tests.calibration.toy import TOY_SMC_SPEC, calibrate_toy, toy_spec
folder = Path(sys.argv[1])
calibrate_toy(folder, toy_spec(folder, TOY_SMC_SPEC))
"""


def test_killed_smc_calibration_resumes_without_repeating_finished_trials(tmp_path, smc_clean):
    killed = tmp_path / "killed"
    before = killed_after(killed, _RUN_SMC, 6)
    spec = toy_spec(killed, TOY_SMC_SPEC)
    assert 6 <= len(before) < spec.trials, "the kill came too late to test resume"

    ran_now: list[int] = []
    resumed = calibrate_toy(killed, spec, on_trial=lambda r: ran_now.append(r.number))
    assert sorted(ran_now) == [n for n in range(spec.trials) if n not in before]
    assert _trial_values(resumed) == _trial_values(smc_clean)  # as if never interrupted
    assert [t.weight for t in resumed] == [t.weight for t in smc_clean]


# --- summaries, ensembles, specs -------------------------------------------------------


def test_other_samplers_write_no_weights(tmp_path):
    spec, trials = _trials()
    data = summary_json(summarise(spec, trials, None), "straits calibrate")
    assert "smc" not in data and all("weight" not in e and "generation" not in e
                                     for e in data["accepted"])


def test_parameter_uncertainty_draws_in_proportion_to_the_weights(tmp_path, smc_clean):
    spec = toy_spec(tmp_path, TOY_SMC_SPEC)
    summary = summarise(spec, smc_clean, None)
    write_results(tmp_path / "cal", summary, "straits calibrate")
    accepted = load_accepted(tmp_path / "cal")
    assert accepted.weights == list(summary.weights)
    vectors = [{"a": 0}, {"a": 1}, {"a": 2}]
    drawn = draw_vectors(vectors, 20, "00ff00ff00ff00ff", [0.75, 0.0, 0.25])
    assert [v["a"] for v in drawn].count(0) == 15 and {"a": 1} not in drawn
    assert drawn == draw_vectors(vectors, 20, "00ff00ff00ff00ff", [0.75, 0.0, 0.25])


def test_the_smc_fields_belong_to_the_digest_of_an_smc_study_only(tmp_path):
    smc_spec = toy_spec(tmp_path, TOY_SMC_SPEC)
    other_keep = toy_spec(tmp_path, TOY_SMC_SPEC.replace("keep: 2", "keep: 3"))
    assert spec_digest(smc_spec) != spec_digest(other_keep)
    tpe = toy_spec(tmp_path, TOY_SPEC)
    assert spec_digest(tpe) == spec_digest(toy_spec(tmp_path, TOY_SPEC + "keep: 3\n"))


@pytest.mark.parametrize(("extra", "field", "hint"), [
    ("sampler: smc\nbatch: 4\nstartup_trials: 6\n", "startup_trials", "multiple of batch (4)"),
    ("sampler: smc\nbatch: 2\nstartup_trials: 4\ngeneration_trials: 5\n", "generation_trials",
     "multiple of batch (2)"),
    ("sampler: smc\nbatch: 2\nstartup_trials: 4\nkeep: 6\n", "keep", "must be 2 to 4"),
    ("sampler: smc\nkeep: 1\n", "keep", "greater than or equal to 2"),
    ("sampler: smc\ngeneration_trials: 0\n", "generation_trials", "greater than or equal to 1"),
    ("sampler: smc\nbatch: 2\nstartup_trials: 4\nsearch_trials: 3\n", "search_trials",
     "multiple of batch (2)"),
])
def test_bad_smc_spec_exits_2_naming_the_field(tmp_path: Path, extra, field, hint):
    path = tmp_path / "bad.yaml"
    path.write_text(GOOD + extra)
    result = runner.invoke(app, ["calibrate", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert f"{path}: {field}:" in result.stderr and hint in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_sampler_flag_smc_on_a_spec_whose_batches_do_not_suit_it_exits_2(tmp_path: Path):
    path = tmp_path / "odd.yaml"
    path.write_text(GOOD + "batch: 4\nstartup_trials: 6\n")  # fine for tpe
    result = runner.invoke(app, ["calibrate", str(path), "--sampler", "smc",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "startup_trials: must be a multiple of batch (4)" in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_written_calibration_json_of_an_smc_study_is_valid_json(tmp_path, smc_clean):
    spec = toy_spec(tmp_path, TOY_SMC_SPEC)
    written = write_results(tmp_path, summarise(spec, smc_clean, None), "straits calibrate")
    data = json.loads(written[0].read_text())
    assert data["smc"]["generation"] == 2
    assert "weighted 5% / 50% / 95%" in written[2].read_text()


def test_the_accepted_set_is_the_last_completed_generation(tmp_path, smc_clean):
    spec = toy_spec(tmp_path, TOY_SMC_SPEC)
    partial = summarise(spec, smc_clean[:3], None)  # generation 0 cut short
    assert partial.generation is None and partial.accepted == [] and partial.tolerances == ()
    assert "no generation completed" in write_results(tmp_path / "p", partial, "c")[2].read_text()
    cut = summarise(spec, smc_clean[:12], None)  # generation 2 cut short: generation 1's
    assert cut.generation == 1 and len(cut.tolerances) == 2
    assert cut.accepted and all(t.generation == 1 for t in cut.accepted)
    assert sum(cut.weights or ()) == pytest.approx(1.0)


def test_ensemble_over_weighted_vectors_counts_a_recurring_vector_as_often_as_drawn(tmp_path):
    spec, trials = _trials()
    folder = tmp_path / "cal"
    write_results(folder, summarise(spec, trials, None), "straits calibrate")
    data = json.loads((folder / "calibration.json").read_text())
    for entry, weight in zip(data["accepted"], [0.75, 0.25], strict=True):  # as smc writes
        entry["weight"] = weight
    (folder / "calibration.json").write_text(json.dumps(data))
    scenario = tmp_path / "short.yaml"
    scenario.write_text("extends: baseline\nname: short\nhorizon: 1d\n")
    kpi = "directions.southbound.delay_minutes.mean"
    result = runner.invoke(app, ["ensemble", str(scenario), "-n", "2", "--workers", "1",
                                 "--store", str(tmp_path / "s.duckdb"), "--json",
                                 "--parameter-uncertainty", str(folder),
                                 "--parameter-vectors", "4", "--kpi", kpi])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    drawn = [v[BOOTHS] for v in out["parameter_vectors"]]
    heavy = data["accepted"][0]["values"][BOOTHS]
    assert len(drawn) == 4 and drawn.count(heavy) == 3  # 4 x 0.75
    assert out["kpis"][kpi]["n"] == 8  # every drawn vector's runs, a recurring one again
