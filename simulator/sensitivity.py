"""Global sensitivity of one output (a 7-day rolling share on a given day, mean over runs) to
uncertain parameters, with SALib: Morris elementary effects for screening (μ*, σ) and Sobol
indices (first order S1 and total ST, Saltelli sampling) where runtime allows; drawn as a
tornado chart. Every sample runs `runs` replications on the same seeds (common random numbers),
submitted to any `concurrent.futures` executor."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from simulator.params import Params
from simulator.runs import replicate_cells, seeds
from simulator.summary import shares

Method = Literal["morris", "sobol"]


def _problem(ranges: dict[str, tuple[float, float]]) -> dict[str, Any]:
    return {
        "num_vars": len(ranges),
        "names": list(ranges),
        "bounds": [list(b) for b in ranges.values()],
    }


def sample(
    method: Method, ranges: dict[str, tuple[float, float]], samples: int, seed: int
) -> NDArray[np.float64]:
    """The parameter sets to run: Morris trajectories or Saltelli's Sobol design."""
    problem = _problem(ranges)
    if method == "morris":
        from SALib.sample import morris

        design: NDArray[np.float64] = morris.sample(problem, samples, num_levels=4, seed=seed)
        return design
    from SALib.sample import sobol

    saltelli: NDArray[np.float64] = sobol.sample(
        problem, samples, calc_second_order=False, seed=seed
    )
    return saltelli


def evaluate(
    base: Params,
    names: list[str],
    design: NDArray[np.float64],
    *,
    metric: str,
    day: int,
    runs: int,
    seed: int,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """The output for each row of the design: the mean over runs of the metric's 7-day rolling
    share on `day`; `progress` is told of each finished replication, in order."""
    cells = []
    for row in design:
        changes = {
            name: round(float(v)) if isinstance(getattr(base, name), int) else float(v)
            for name, v in zip(names, row, strict=True)
        }
        cells.append(base.with_changes(**changes))
    flat = replicate_cells(cells, day, seeds(seed, runs), executor, progress)
    data = np.stack(flat).reshape(len(cells), runs, day + 1, -1)
    return np.array([shares(cell)[metric][:, day].mean() for cell in data])


def analyse(
    method: Method,
    ranges: dict[str, tuple[float, float]],
    design: NDArray[np.float64],
    output: NDArray[np.float64],
    seed: int,
) -> dict[str, dict[str, float]]:
    """Per parameter: Morris μ*, its confidence and σ; or Sobol S1, ST and ST's confidence."""
    problem = _problem(ranges)
    if method == "morris":
        from SALib.analyze import morris

        found = morris.analyze(problem, design, output, num_levels=4, seed=seed)
        keys = {"mu_star": "mu_star", "mu_star_conf": "mu_star_conf", "sigma": "sigma"}
    else:
        from SALib.analyze import sobol

        found = sobol.analyze(problem, output, calc_second_order=False, seed=seed)
        keys = {"S1": "S1", "ST": "ST", "ST_conf": "ST_conf"}
    return {
        name: {key: round(float(found[source][i]), 6) for key, source in keys.items()}
        for i, name in enumerate(problem["names"])
    }


def write_tornado(
    path: Path, method: Method, indices: dict[str, dict[str, float]], title: str
) -> None:
    """Horizontal bars, largest effect on top: μ* (Morris) or ST (Sobol) with its confidence."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key, conf = ("mu_star", "mu_star_conf") if method == "morris" else ("ST", "ST_conf")
    ordered = sorted(indices.items(), key=lambda item: item[1][key])
    figure, axes = plt.subplots(figsize=(7, 0.5 * len(ordered) + 1.5), dpi=120)
    axes.barh(
        [name for name, _ in ordered],
        [v[key] for _, v in ordered],
        xerr=[v[conf] for _, v in ordered],
        color="#2a7ab0",
    )
    label = "μ* (Morris)" if method == "morris" else "chỉ số Sobol toàn phần ST"
    axes.set_xlabel(label)
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
