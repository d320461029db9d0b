"""Small builders shared by the experiment tests."""

from __future__ import annotations

import numpy as np

from straits.experiments.tasks import HoldingSeries, TaskResult


def fake_outcome(replication: int, kpis: dict[str, float], level: float = 0.0,
                 scenario_hash: str = "00ff00ff00ff00ff", steps: int = 5) -> TaskResult:
    """A task result with chosen KPI values and a flat series at ``level`` lorries."""
    lorries = np.full((2, steps), level, dtype=np.float32)
    series = HoldingSeries(15.0, ["southbound", "southbound"], ["stack", "total"],
                           ["holding_area", "total"], lorries, lorries / 10)
    return TaskResult(scenario_hash, scenario_hash, replication, 1000 + replication, 0,
                   list(kpis), np.array(list(kpis.values()), dtype=np.float64), series,
                   0.1, 0.01, "test:0")
