"""Each layer's driver behaves as documented: coverage, diminishing returns, layer order."""

from __future__ import annotations

import numpy as np
import pytest

from straits.scenario.security import SecurityConfig, Site
from straits.security import levers
from tests.security.security_helpers import autumn_security, merge


def _config(**override) -> SecurityConfig:
    return SecurityConfig.model_validate(merge(autumn_security(), override))


def test_police_have_diminishing_returns() -> None:
    found = [levers.police_find_probability(Site(police=n, police_scale=100,
                                                 police_max_probability=0.8))
             for n in range(0, 1001, 100)]
    gains = np.diff(found)
    assert np.all(gains > 0) and np.all(np.diff(gains) < 0)
    assert found[-1] < 0.8
    assert found[1] == pytest.approx(0.8 * (1 - np.exp(-1)))


def test_fence_stops_in_proportion_to_coverage_then_saturates() -> None:
    def stop(km: float) -> float:
        return levers.perimeter_stop_probability(Site(perimeter_km=10, fence_km=km,
                                                      fence_quality=0.9))
    assert stop(0) == 0 and stop(5) == pytest.approx(0.45)
    assert stop(10) == stop(40) == pytest.approx(0.9)


def test_control_layers_in_catalogue_order() -> None:
    tech = {"detection_probability": 0.5, "time_cost": "1min", "use_share": 1.0}
    security = autumn_security()
    security["controls"].update(search_share=0.4,
                                technologies={"visual_search": tech, "scanner": tech})
    config = SecurityConfig.model_validate(security)
    found = levers.control_layer_probabilities(config)
    assert found[0] == pytest.approx(0.2)  # visual search first: 0.4 x 0.5
    assert found[-1] == pytest.approx(0.1)  # the scanner sees what visual search missed
    assert found.sum() == pytest.approx(0.4 * (1 - 0.25))
    assert levers.search_minutes_per_lorry(config) == pytest.approx(0.4 * 2.0)


def test_tunnel_platform_boarders_skip_the_controls() -> None:
    config = _config(sites={"tunnel": {"bypasses_controls_share": 1.0}})
    p = levers.outcome_probabilities(config, "tunnel", 0.0)
    assert p[levers.CONTROL_SLICE].sum() == 0.0
    assert p[levers.OUT["reached_uk_undetected"]] > 0.0
