"""Cost of the behaviour rule: ``python benchmarks/behaviour.py [REPEATS]``.

For each event scenario that switches the rule on, times one replication (best of
REPEATS, caches warm) with the rule on and with it off (the same scenario without
``behaviour``; its fitted demand shocks are gone, so "off" is not the old scenario:
compare with an older checkout for that). Prints one JSON object per line with the
ratio on / off; the issue's budget is 1.3x the replication cost before the rule.
"""

from __future__ import annotations

import json
import sys
import time

from straits.engine import run_replication
from straits.scenario import load_scenario

SCENARIOS = ("baseline", "calais-strike-2015", "rwcs-2021")


def best_seconds(scenario, repeats: int) -> float:
    run_replication(scenario, 0)  # compile or load the numba cache
    times = []
    for seed in range(1, repeats + 1):
        began = time.perf_counter()
        run_replication(scenario, seed)
        times.append(time.perf_counter() - began)
    return min(times)


def main(repeats: int) -> None:
    for name in SCENARIOS:
        scenario = load_scenario(name)
        on = best_seconds(scenario, repeats)
        off = best_seconds(scenario.model_copy(update={"behaviour": None}), repeats)
        print(json.dumps({"name": f"replication/{name}", "rule_on_seconds": round(on, 4),
                          "rule_off_seconds": round(off, 4), "ratio": round(on / off, 3),
                          "rule_enabled": scenario.behaviour_on}), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
