"""Monte Carlo runs: replications from one seed through independent streams
(`SeedSequence.spawn`), handed to any `concurrent.futures` executor, so the bytes are identical
for the same seed whatever runs them (one process, a process pool, a Dask cluster) and in
whatever order the replications finish; and the tidy long CSV of every run."""

from __future__ import annotations

import csv
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from simulator.executors import open_executor
from simulator.model import METRICS, simulate
from simulator.params import Params

MODEL_VERSION = "2.0"


def replicate(params: Params, days: int, seed: np.random.SeedSequence) -> NDArray[np.float64]:
    """One replication from its own seed (what an executor's worker runs)."""
    return simulate(params, days, np.random.default_rng(seed))


def seeds(seed: int, runs: int) -> list[np.random.SeedSequence]:
    """Replication seeds: run r of every scenario gets the same (common random numbers)."""
    return np.random.SeedSequence(seed).spawn(runs)


def run(
    params: Params,
    *,
    runs: int,
    days: int,
    seed: int,
    workers: int = 1,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """All replications: an array (runs, days + 1, metrics). Uses `executor` when given,
    else a local pool of `workers` processes."""
    if executor is None and workers > 1:
        with open_executor(workers) as pool:
            return run(params, runs=runs, days=days, seed=seed, executor=pool, progress=progress)
    return np.stack(replicate_cells([params], days, seeds(seed, runs), executor, progress))


def replicate_cells(
    cells: list[Params],
    days: int,
    replications: list[np.random.SeedSequence],
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[NDArray[np.float64]]:
    """Every replication of every cell (cell-major), here or on `executor`, collected in
    submission order whatever order they finish in; `progress` is told of each, in order."""
    tasks = [(params, job) for params in cells for job in replications]
    if executor is None:
        outputs = (replicate(params, days, job) for params, job in tasks)
    else:
        futures = [executor.submit(replicate, params, days, job) for params, job in tasks]
        outputs = (future.result() for future in futures)
    collected = []
    for output in outputs:
        collected.append(output)
        if progress:
            progress(1)
    return collected


def write_csv(path: Path, results: dict[str, NDArray[np.float64]]) -> None:
    """Tidy long rows: scenario, run, day, metric, value."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["scenario", "run", "day", "metric", "value"])
        for scenario, data in results.items():
            for r in range(data.shape[0]):
                for d in range(data.shape[1]):
                    for j, metric in enumerate(METRICS):
                        writer.writerow([scenario, r, d, metric, f"{data[r, d, j]:.6g}"])
