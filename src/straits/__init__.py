"""straits: Short Straits freight-and-border corridor simulator.

The Python API (docs/api.md): ``load``, ``override``, ``run``, ``ensemble`` and
``sweep``, imported on first use so ``import straits`` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Run", "Scenario", "ScenarioError", "__version__", "ensemble", "load", "override",
           "run", "scenario_json_schema", "sweep"]

if TYPE_CHECKING:
    from straits.api import Run, ensemble, load, override, run, scenario_json_schema, sweep
    from straits.scenario import Scenario, ScenarioError


def __getattr__(name: str) -> Any:
    if name in ("Scenario", "ScenarioError"):
        from straits import scenario

        return getattr(scenario, name)
    if name in __all__:
        from straits import api

        return getattr(api, name)
    raise AttributeError(f"module 'straits' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
