"""The mathematics of ABC population Monte Carlo (Beaumont et al. 2009; Toni et al. 2009).

A generation's kept particles (positions ``z``, normalised weights ``w``) are an
importance sample of the prior restricted to "distance <= epsilon". The next
generation picks a particle with probability ``w``, moves it with a Gaussian
kernel truncated to the bounds, and weights the proposal by
``prior(z) / sum_j w_j K(z | z_j)``: the proposal density it was drawn from, so
the weighted kept set of any generation is again a sample of the prior
restricted to its tolerance. The final tolerance is the acceptance criterion
itself, so the last generation's accepted particles with their weights are an
ABC posterior sample, not a search region.

Positions are in the search space: the value itself, except log-uniform
continuous values, which move on the log scale (their prior is flat there).
Whole numbers keep their integer value and the kernel's mass on each integer is
the Gaussian's integral over the integer's cell, computed exactly. Everything
here is a pure function of numpy arrays (and a seeded generator), so the
coordinator computes the same proposals whatever the workers are doing.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from straits.calibration.spec import Parameter

BEYOND_BAND = float(np.nextafter(1.0, 2.0))  # a failing target counts at least this far
INTEGER_SCALE_FLOOR = 0.5  # whole numbers: the kernel still reaches the neighbours
CONTINUOUS_SCALE_FLOOR = 0.01  # of the search range: a collapsed population can still move
_STREAM = 0x534D43  # "SMC": proposals draw from their own seed stream


def candidate_distance(distances: list[float], passed: list[bool]) -> float:
    """The largest target distance (1 = band edge), a failing target counted beyond 1.

    A zero-width band passes only at its value but its distance counts one unit as
    one tolerance; counting its failures beyond 1 keeps "distance <= 1" exactly
    the acceptance criterion (every target in its band).
    """
    return max(abs(d) if ok else max(abs(d), BEYOND_BAND)
               for d, ok in zip(distances, passed, strict=True))


def tolerance(distances: np.ndarray, numbers: np.ndarray, keep: int) -> float:
    """Epsilon: the ``keep``-th smallest distance (ties by trial number), never below 1.

    The tolerance shrinks by quantile, so each generation carries about ``keep``
    particles; once ``keep`` candidates are accepted it is the acceptance
    criterion itself.
    """
    order = np.lexsort((numbers, distances))
    return max(1.0, float(distances[order[min(keep, len(order)) - 1]]))


def normalised(weights: np.ndarray) -> np.ndarray:
    return weights / weights.sum()


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's ESS, 1 / sum w^2: how many equally weighted draws the sample is worth."""
    w = normalised(np.asarray(weights, dtype=np.float64))
    return float(1.0 / np.sum(w * w))


def weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                       quantiles: tuple[float, ...]) -> list[float]:
    """The smallest value whose weighted cumulative share reaches each quantile.

    The inverse of the weighted empirical distribution: exact for whole numbers
    (no interpolation between booths).
    """
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(normalised(np.asarray(weights, dtype=np.float64))[order])
    at = np.searchsorted(cumulative, np.asarray(quantiles) - 1e-12)
    return [float(values[order][min(i, len(order) - 1)]) for i in at]


def to_search(parameters: tuple[Parameter, ...], x: np.ndarray) -> np.ndarray:
    """Search values (rows of candidates) to kernel positions: log for log-uniform."""
    z = np.array(x, dtype=np.float64, copy=True)
    for i, p in enumerate(parameters):
        if _on_log_scale(p):
            z[:, i] = np.log(z[:, i])
    return z


def from_search(parameters: tuple[Parameter, ...], z: np.ndarray) -> np.ndarray:
    """Kernel positions back to search values, within the bounds."""
    x = np.array(z, dtype=np.float64, copy=True)
    for i, p in enumerate(parameters):
        if _on_log_scale(p):
            x[:, i] = np.exp(x[:, i])
        x[:, i] = np.clip(x[:, i], p.low, p.high)
    return x


def kernel_scales(parameters: tuple[Parameter, ...], z: np.ndarray,
                  weights: np.ndarray) -> np.ndarray:
    """Per dimension, the kernel's sd: the square root of twice the kept particles'
    weighted variance (Beaumont et al. 2009; near-optimal when successive targets are
    close, Filippi et al. 2013), floored so a population collapsed onto one value can
    still move."""
    w = normalised(weights)
    mean = w @ z
    variance = w @ (z - mean) ** 2
    floors = np.array([INTEGER_SCALE_FLOOR if p.kind == "integer"
                       else CONTINUOUS_SCALE_FLOOR * (_bounds(p)[1] - _bounds(p)[0])
                       for p in parameters])
    return np.maximum(np.sqrt(2.0 * variance), floors)


def propose(parameters: tuple[Parameter, ...], z: np.ndarray, weights: np.ndarray,
            scales: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` proposals: a particle drawn by weight, moved by the truncated kernel.

    Whole numbers are the rounded draw of the Gaussian truncated to the integers'
    cells, so their probabilities are exactly :func:`log_kernel`'s masses.
    """
    parents = rng.choice(len(z), size=count, p=normalised(weights))
    u = rng.random((count, len(parameters)))
    moved = np.empty((count, len(parameters)))
    for i, p in enumerate(parameters):
        low, high = _kernel_bounds(p)
        centre, s = z[parents, i], scales[i]
        draw = stats.truncnorm.ppf(u[:, i], (low - centre) / s, (high - centre) / s,
                                   loc=centre, scale=s)
        moved[:, i] = np.clip(np.round(draw) if p.kind == "integer" else draw, *_bounds(p))
    return to_search(parameters, from_search(parameters, moved))


def log_kernel(parameters: tuple[Parameter, ...], to: np.ndarray, centres: np.ndarray,
               scales: np.ndarray) -> np.ndarray:
    """log K(to_i | centre_j) for every pair: the product over dimensions of the
    truncated Gaussian's density (continuous) or its mass on the integer's cell."""
    total = np.zeros((len(to), len(centres)))
    for i, p in enumerate(parameters):
        low, high = _kernel_bounds(p)
        t, c, s = to[:, i][:, None], centres[:, i][None, :], scales[i]
        norm = log_mass((low - c) / s, (high - c) / s)
        if p.kind == "integer":
            total += log_mass((t - 0.5 - c) / s, (t + 0.5 - c) / s) - norm
        else:
            total += stats.norm.logpdf((t - c) / s) - np.log(s) - norm
    return total


def log_prior(parameters: tuple[Parameter, ...], z: np.ndarray) -> np.ndarray:
    """The prior's log density at kernel positions (log mass for whole numbers), as
    spec.py draws from it: flat, flat on the log scale, or a normal truncated to the
    bounds; a whole number's prior is the rounded continuous one (uniform over the
    integers when flat)."""
    total = np.zeros(len(z))
    for i, p in enumerate(parameters):
        v = z[:, i]
        if p.kind == "integer" and p.prior == "uniform":
            total -= np.log(p.high - p.low + 1)
        elif p.kind == "integer":
            total += np.log(_prior_cdf(p, np.minimum(v + 0.5, p.high))
                            - _prior_cdf(p, np.maximum(v - 0.5, p.low)))
        elif p.prior == "normal":
            assert p.mean is not None and p.sd is not None  # checked when read
            total += (stats.norm.logpdf((v - p.mean) / p.sd) - np.log(p.sd)
                      - log_mass((p.low - p.mean) / p.sd, (p.high - p.mean) / p.sd))
        else:  # flat on its scale (log-uniform: flat in log)
            low, high = _bounds(p)
            total -= np.log(high - low)
    return total


def importance_weights(parameters: tuple[Parameter, ...], proposed: np.ndarray,
                       centres: np.ndarray, weights: np.ndarray,
                       scales: np.ndarray) -> np.ndarray:
    """w_i = prior(z_i) / sum_j w_j K(z_i | z_j), normalised: prior over the density
    the proposals were drawn from, computed in logs (tails underflow otherwise)."""
    mixture = special.logsumexp(log_kernel(parameters, proposed, centres, scales)
                                + np.log(normalised(weights))[None, :], axis=1)
    log_w = log_prior(parameters, proposed) - mixture
    return normalised(np.exp(log_w - log_w.max()))


def generation_rng(seed: int, generation: int) -> np.random.Generator:
    """The generator of one generation's proposals: the spec's seed and the generation."""
    return np.random.default_rng(np.random.SeedSequence([seed, _STREAM, generation]))


def systematic_resample(weights: np.ndarray, count: int,
                        rng: np.random.Generator) -> np.ndarray:
    """``count`` indices drawn with replacement in proportion to ``weights``, with one
    uniform (systematic resampling): each index appears ``count * w`` times, rounded
    up or down, so a small draw follows the weights closely."""
    cumulative = np.cumsum(normalised(np.asarray(weights, dtype=np.float64)))
    points = (rng.random() + np.arange(count)) / count
    return np.minimum(np.searchsorted(cumulative, points, side="right"), len(weights) - 1)


def log_mass(low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
    """log(Phi(high) - Phi(low)) without cancellation: in the upper tail by symmetry."""
    low, high = np.broadcast_arrays(np.asarray(low, dtype=np.float64),
                                    np.asarray(high, dtype=np.float64))
    flip = low > 0
    a, b = np.where(flip, -high, low), np.where(flip, -low, high)
    upper = special.log_ndtr(b)
    with np.errstate(divide="ignore"):
        return upper + np.log1p(-np.exp(special.log_ndtr(a) - upper))


def _on_log_scale(p: Parameter) -> bool:
    return p.prior == "log-uniform" and p.kind != "integer"


def _bounds(p: Parameter) -> tuple[float, float]:
    """The search range in kernel positions."""
    return (np.log(p.low), np.log(p.high)) if _on_log_scale(p) else (p.low, p.high)


def _kernel_bounds(p: Parameter) -> tuple[float, float]:
    """Where the kernel's Gaussian is truncated: whole numbers own their cell +- 0.5."""
    low, high = _bounds(p)
    return (low - 0.5, high + 0.5) if p.kind == "integer" else (low, high)


def _prior_cdf(p: Parameter, x: np.ndarray) -> np.ndarray:
    """The continuous prior's distribution function on the bounds (whole numbers
    are its rounding)."""
    if p.prior == "normal":
        assert p.mean is not None and p.sd is not None  # checked when read
        a, b = (p.low - p.mean) / p.sd, (p.high - p.mean) / p.sd
        return np.asarray(stats.truncnorm.cdf(x, a, b, loc=p.mean, scale=p.sd))
    return (np.log(x) - np.log(p.low)) / (np.log(p.high) - np.log(p.low))
