"""A toy study with a known answer: booths at one M/M/c stage against an Erlang C target."""

from __future__ import annotations

import numpy as np

from straits.engine.kernels import fifo_multi_server
from straits.experiments.seeds import replication_seed
from straits.optimisation.search import Plan
from tests.theory import mmc_mean_wait_minutes

BOOTHS = "terminals.dover.stages.check_in.booths"
RATE_PER_MINUTE = 2.0
MEAN_SERVICE_MINUTES = 4.0  # offered load 8 erlangs: at least 9 booths to be stable
LORRIES = 20_000


def erlang_c_wait_minutes(booths: int) -> float:
    """Mean wait in queue at the toy stage (M/M/c, Erlang C)."""
    return mmc_mean_wait_minutes(booths, RATE_PER_MINUTE, MEAN_SERVICE_MINUTES)


def toy_study_yaml(target_minutes: float, trials: int = 24, extra: str = "") -> str:
    return f"""
name: toy-booths
scenario: baseline
variables:
  - path: {BOOTHS}
    type: int
    low: 1
    high: 20
    cost: {{unit: booth, capital_gbp: 100000, running_gbp: 50, running_per: hour}}
objectives:
  - {{kpi: plan.cost_gbp}}
constraints:
  - {{kpi: toy.wait_minutes, statistic: mean, max: {target_minutes}}}
budget: {{trials: {trials}, batch: 6, replications: 2, front_replications: 3,
          rerun_replications: 3, rerun_plans: 1, seed: 3}}
{extra}
"""


class ToyEvaluator:
    """Simulates the M/M/c stage with the engine's own FIFO kernel, seeded like the store.

    ``fresh_penalty_minutes`` is added to every wait on seeds the search never saw,
    to make a plan fail out of sample on purpose.
    """

    def __init__(self, search_key: str | None = None, fresh_penalty_minutes: float = 0.0):
        self.search_key = search_key
        self.fresh_penalty_minutes = fresh_penalty_minutes
        self.calls: list[tuple[int, ...]] = []

    def evaluate(self, plans: list[Plan], replications: int, seed_key: str,
                 kpis: list[str]) -> dict[int, dict[str, np.ndarray]]:
        self.calls.append(tuple(p.number for p in plans))
        penalty = (self.fresh_penalty_minutes
                   if self.search_key is not None and seed_key != self.search_key else 0.0)
        out = {}
        for plan in plans:
            booths = int(plan.values.get(BOOTHS, 6))
            waits = [self._mean_wait(booths, replication_seed(seed_key, r)) + penalty
                     for r in range(replications)]
            out[plan.number] = {"toy.wait_minutes": np.array(waits)}
        return out

    @staticmethod
    def _mean_wait(booths: int, seed: int) -> float:
        rng = np.random.default_rng(seed)
        arrivals = np.cumsum(rng.exponential(1.0 / RATE_PER_MINUTE, LORRIES))
        services = rng.exponential(MEAN_SERVICE_MINUTES, LORRIES)
        start, _ = fifo_multi_server(arrivals, services, booths)
        return float(np.mean(start - arrivals))
