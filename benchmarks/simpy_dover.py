"""An independent SimPy model of Dover's outbound (southbound) chain.

Written the usual SimPy way from the scenario's parameters alone, sharing no
code with the straits engine: lorries bound for Dover arrive as a Poisson
process (generated here by thinning), wait at the gate for room inside the
port (``buffer_lorries``), pass uk_exit -> french_border -> check_in booths,
then board the next sailing with room (sailings from the fleet's round trips).
Delay is time to the far side beyond the free-flow time, as straits defines
it. Fed the same scenario with independent seeds, its delay distribution must
agree with straits' within the replication noise (tests/validation).

Run ``python benchmarks/simpy_dover.py [REPLICATIONS] [DAYS]`` to print both
models' mean and p95 delay with 95% confidence intervals, and their speed.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Generator

import numpy as np
import simpy

from straits.scenario import Scenario, load_scenario
from straits.scenario.schema import FerryRoute

PORT = "dover"


def _service_sampler(spec, rng: np.random.Generator):
    """A function drawing one service time (minutes) from the stage's distribution."""
    return lambda: float(spec.sample(rng, 1)[0])


def _sailings(route: FerryRoute, horizon: float) -> list[tuple[float, int]]:
    """(time, lorry capacity) of every southbound sailing: each ship's round trip is
    2 x (crossing + turnaround); ships of each class are spread evenly round it."""
    cycle = 2.0 * (route.crossing + route.turnaround)
    ships = [(k / c.vessels + 0.5 / c.vessels, c.lorries_per_sailing)
             for c in route.fleet for k in range(c.vessels)]
    ships.sort(key=lambda s: s[0])  # stable: earlier-listed classes first at equal rank
    spacing = cycle / len(ships)
    out = []
    for slot, (_, capacity) in enumerate(ships):
        t = slot * spacing
        while t <= horizon:
            out.append((t, capacity))
            t += cycle
    return sorted(out, key=lambda s: s[0])


def _hourly_rate(scenario: Scenario) -> np.ndarray:
    """Dover-bound lorries per minute in each hour of the horizon."""
    demand = scenario.demand.southbound
    hours = np.array(demand.hour_of_day) / np.mean(demand.hour_of_day)
    days = np.array(demand.day_of_week) / np.mean(demand.day_of_week)
    share = scenario.route_choice.shares["ferry"]
    n_hours = int(np.ceil(scenario.horizon / 60.0))
    rate = np.empty(n_hours)
    for h in range(n_hours):
        moment = scenario.start.hour + h
        rate[h] = (demand.lorries_per_day * share / 1440.0 * hours[moment % 24]
                   * days[(scenario.start.weekday() + moment // 24) % 7])
    return rate


class DoverChain:
    """Gate, three FIFO booth stages and the boarding lanes, as SimPy processes."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        terminal = scenario.terminals[PORT]
        route = scenario.routes["ferry"]
        self.env = simpy.Environment()
        self.rng = rng
        self.scenario = scenario
        self.gate = simpy.Resource(self.env, capacity=terminal.buffer_lorries)
        self.stages = [(simpy.Resource(self.env, capacity=s.booths),
                        _service_sampler(s.service_time, rng)) for s in terminal.stages]
        self.lanes: deque = deque()
        self.crossing = route.crossing
        headway = 2.0 * (route.crossing + route.turnaround) / route.vessels
        self.free_flow = sum(s.service_time.mean_minutes for s in terminal.stages) \
            + headway / 2.0 + route.crossing
        self.delays: list[float] = []
        self.sailings = _sailings(route, scenario.horizon)

    def arrivals(self) -> Generator[simpy.Event, None, None]:
        """Poisson arrivals with an hourly rate, by thinning a constant-rate process."""
        rate = _hourly_rate(self.scenario)
        top = rate.max()
        while True:
            yield self.env.timeout(self.rng.exponential(1.0 / top))
            hour = int(self.env.now // 60)
            if hour >= rate.shape[0]:
                return
            if self.rng.random() < rate[hour] / top:
                self.env.process(self.lorry(self.env.now))

    def lorry(self, arrived: float) -> Generator[simpy.Event, None, None]:
        gate = self.gate.request()
        yield gate
        for booths, service in self.stages:
            with booths.request() as booth:
                yield booth
                yield self.env.timeout(service())
        boarded = self.env.event()
        self.lanes.append(boarded)
        sailed_at = yield boarded
        self.gate.release(gate)
        self.delays.append(max(sailed_at + self.crossing - arrived - self.free_flow, 0.0))

    def departures(self) -> Generator[simpy.Event, None, None]:
        for at, capacity in self.sailings:
            yield self.env.timeout(at - self.env.now)
            while capacity > 0 and self.lanes:
                self.lanes.popleft().succeed(self.env.now)
                capacity -= 1


def simulate_dover(scenario: Scenario, seed: int) -> np.ndarray:
    """Delays (minutes) of the Dover-bound lorries that crossed by the horizon."""
    chain = DoverChain(scenario, np.random.default_rng(seed))
    chain.env.process(chain.arrivals())
    chain.env.process(chain.departures())
    chain.env.run(until=scenario.horizon + 1e-9)
    return np.asarray(chain.delays)


def straits_dover_delays(scenario: Scenario, seed: int) -> np.ndarray:
    """The same quantity from straits: delays of southbound lorries through Dover."""
    from straits.metrics.kpis import delay_minutes
    from straits.pipeline import simulate

    dr = simulate(scenario, seed).records.directions["southbound"]
    via_dover = dr.terminal[dr.crossed] == dr.layout.terminals.index(PORT)
    return delay_minutes(dr)[via_dover]


def main(replications: int = 10, days: float = 7.0) -> None:
    scenario = load_scenario("baseline").model_copy(update={"horizon": days * 1440.0})
    for label, model, seeds in (("straits", straits_dover_delays, range(replications)),
                                ("simpy", simulate_dover, range(1000, 1000 + replications))):
        began = time.perf_counter()
        runs = [model(scenario, s) for s in seeds]
        elapsed = time.perf_counter() - began
        for stat, f in (("mean", np.mean), ("p95", lambda d: np.percentile(d, 95))):
            v = np.array([f(d) for d in runs])
            half = 1.96 * v.std(ddof=1) / np.sqrt(len(v))
            print(f"{label:8s} {stat:5s} delay {v.mean():7.2f} min ± {half:.2f}")
        print(f"{label:8s} {elapsed / replications:.2f} s per replication "
              f"({days:g} days, {np.mean([len(d) for d in runs]):,.0f} lorries)")


if __name__ == "__main__":
    args = sys.argv[1:]
    main(int(args[0]) if args else 10, float(args[1]) if len(args) > 1 else 7.0)
