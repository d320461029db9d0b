"""Queueing theory the tests compare the engine (and toy problems built on it) against."""

from __future__ import annotations

import math


def erlang_c(booths: int, offered_load: float) -> float:
    """Probability of waiting in M/M/c, via the numerically stable Erlang B recursion."""
    blocking = 1.0
    for k in range(1, booths + 1):
        blocking = offered_load * blocking / (k + offered_load * blocking)
    rho = offered_load / booths
    return blocking / (1.0 - rho * (1.0 - blocking))


def mmc_mean_wait_minutes(booths: int, per_minute: float, service_minutes: float) -> float:
    """M/M/c mean wait in queue (Erlang C); infinite when the queue is not stable."""
    offered = per_minute * service_minutes
    if booths <= offered:
        return math.inf
    return erlang_c(booths, offered) / (booths / service_minutes - per_minute)
