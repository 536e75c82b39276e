"""Sweeps: every point of a parameter grid × every scenario × every run, one task per
replication submitted to any `concurrent.futures` executor (simulator/executors.py). Run r of
every cell uses the same seed (common random numbers across the grid), and results are put back
in (scenario, point, run) order whatever order the tasks finish in, so the output is
byte-identical whatever the executor, its worker count or the task order.

Outputs: `sweep.parquet`, one row per scenario, point, run and day with the grid's parameters
and every metric (large: Parquet, columnar and compressed); `sweep.csv`, per scenario and point
the p5/median/p95 over runs of the 7-day rolling shares on the last day."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.model import METRICS
from simulator.params import ParameterError, scenario_params
from simulator.runs import replicate_cells, seeds
from simulator.summary import SHARE_METRICS, shares


def parse_grid(items: list[str]) -> dict[str, list[float]]:
    """`["members=60,120,240", "fee_rate=0,0.01"]` → {name: values}."""
    grid: dict[str, list[float]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            values = [float(v) for v in raw.split(",") if v.strip()]
        except ValueError:
            raise ParameterError(name, f"{raw!r}: cần các số cách nhau bởi dấu phẩy") from None
        if not sep or not values:
            raise ParameterError(name or item, "cần NAME=V1,V2,… (expected NAME=V1,V2,…)")
        grid[name] = values
    return grid


def grid_points(grid: dict[str, list[float]]) -> list[dict[str, float]]:
    """The Cartesian product, in the order the grid names and values were given."""
    names = list(grid)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*grid.values())]


def _typed(point: dict[str, float], scenario: str) -> dict[str, Any]:
    default = scenario_params(scenario)
    return {k: round(v) if isinstance(getattr(default, k), int) else v for k, v in point.items()}


def sweep(
    scenarios: list[str],
    grid: dict[str, list[float]],
    *,
    runs: int,
    days: int,
    seed: int,
    executor: Executor | None = None,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """All replications: an array (scenarios, points, runs, days + 1, metrics); `progress`
    is told of each finished replication, in order."""
    points = grid_points(grid) or [{}]
    cells = [
        scenario_params(name, (overrides or {}) | _typed(point, name))
        for name in scenarios
        for point in points
    ]
    flat = replicate_cells(cells, days, seeds(seed, runs), executor, progress)
    return np.stack(flat).reshape(len(scenarios), len(points), runs, days + 1, len(METRICS))


def write_parquet(
    path: Path, scenarios: list[str], grid: dict[str, list[float]], data: NDArray[np.float64]
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_scenarios, n_points, runs, days, _ = data.shape
    rows = n_scenarios * n_points * runs * days
    index = np.indices((n_scenarios, n_points, runs, days)).reshape(4, rows)
    points = grid_points(grid) or [{}]
    columns: dict[str, Any] = {
        "scenario": pa.DictionaryArray.from_arrays(
            pa.array(index[0].astype(np.int32)), pa.array(scenarios)
        ),
        "point": pa.array(index[1].astype(np.int32)),
        "run": pa.array(index[2].astype(np.int32)),
        "day": pa.array(index[3].astype(np.int32)),
    }
    for name in grid:
        per_point = np.array([point[name] for point in points])
        columns[name] = pa.array(per_point[index[1]])
    flat = data.reshape(rows, len(METRICS))
    for j, metric in enumerate(METRICS):
        columns[metric] = pa.array(flat[:, j])
    pq.write_table(pa.table(columns), path, compression="zstd")


def write_table(
    path: Path, scenarios: list[str], grid: dict[str, list[float]], data: NDArray[np.float64]
) -> None:
    """Per scenario and grid point: p5/median/p95 of each 7-day rolling share on the last day,
    in percent, rounded to 0.1."""
    points = grid_points(grid) or [{}]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        header = ["scenario", *grid]
        for metric in SHARE_METRICS:
            header += [f"{metric}_p5", f"{metric}_median", f"{metric}_p95"]
        writer.writerow(header)
        for s, scenario in enumerate(scenarios):
            for p, point in enumerate(points):
                rolled = shares(data[s, p])
                row: list[Any] = [scenario, *(f"{point[name]:g}" for name in grid)]
                for metric in SHARE_METRICS:
                    last = rolled[metric][:, -1] * 100
                    row += [f"{v:.1f}" for v in np.percentile(last, [5, 50, 95])]
                writer.writerow(row)


def cells(
    scenarios: list[str], grid: dict[str, list[float]], data: NDArray[np.float64]
) -> list[dict[str, Any]]:
    """Per scenario and grid point: the point and, per share metric, the p5/median/p95 in
    percent of its 7-day rolling share on the last day (what `sweep.csv` holds, for pages)."""
    points = grid_points(grid) or [{}]
    found = []
    for s, scenario in enumerate(scenarios):
        for p, point in enumerate(points):
            rolled = shares(data[s, p])
            entry: dict[str, Any] = {"scenario": scenario, "point": point}
            for metric in SHARE_METRICS:
                p5, median, p95 = np.percentile(rolled[metric][:, -1] * 100, [5, 50, 95])
                entry[metric] = {
                    "p5": round(float(p5), 1),
                    "median": round(float(median), 1),
                    "p95": round(float(p95), 1),
                }
            found.append(entry)
    return found
