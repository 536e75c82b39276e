"""Calibration: fit chosen parameters to observed points (day, metric, value) by a grid search
with common random numbers, and report the accepted set (an ABC-style rejection: every grid
point whose error is within the Monte Carlo noise of the best), so the fitted values come with
their uncertainty and the quality of fit.

The default target is the article's campaign: 78 % of the district's adults met the digital
citizen criteria after 150 days (../shared/seed/FACTS.md)."""

from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.model import METRICS
from simulator.params import Params
from simulator.runs import run

DEFAULT_OBSERVED = [(150, "shoppers_ready_share", 0.78)]
DEFAULT_RANGES = {"smartphone_share": (0.5, 0.95), "trainees_per_member_week": (0.2, 3.0)}


@dataclass(frozen=True)
class Fit:
    best: dict[str, float]
    rmse: float
    accepted: list[dict[str, float]]
    ranges: dict[str, tuple[float, float]]
    residuals: list[dict[str, Any]]
    evaluated: int

    def as_dict(self) -> dict[str, Any]:
        names = list(self.ranges)
        spread = {
            name: {
                "best": self.best[name],
                "accepted_min": min(a[name] for a in self.accepted),
                "accepted_max": max(a[name] for a in self.accepted),
                "accepted_mean": float(np.mean([a[name] for a in self.accepted])),
            }
            for name in names
        }
        return {
            "fitted": spread,
            "rmse": self.rmse,
            "accepted_points": len(self.accepted),
            "evaluated_points": self.evaluated,
            "residuals": self.residuals,
        }


def read_observed(path: Path) -> list[tuple[int, str, float]]:
    """Observed points from a CSV with the columns day, metric, value."""
    with path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    points = []
    for row in rows:
        if row.get("metric") not in METRICS:
            raise ValueError(f"unknown metric {row.get('metric')!r}; known: {', '.join(METRICS)}")
        points.append((int(row["day"]), row["metric"], float(row["value"])))
    if not points:
        raise ValueError("no observed points")
    return points


def calibrate(
    base: Params,
    *,
    observed: list[tuple[int, str, float]] | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    grid: int = 5,
    runs: int = 4,
    seed: int = 1,
) -> Fit:
    """Search `grid` points per parameter; each point runs `runs` times on the same seeds."""
    observed = observed or DEFAULT_OBSERVED
    ranges = ranges or DEFAULT_RANGES
    days = max(day for day, _, _ in observed)
    axes = {name: np.linspace(low, high, grid) for name, (low, high) in ranges.items()}
    scored: list[tuple[float, float, dict[str, float]]] = []
    for values in itertools.product(*axes.values()):
        point = {name: float(v) for name, v in zip(axes, values, strict=True)}
        changes = {
            k: (round(v) if isinstance(getattr(base, k), int) else v) for k, v in point.items()
        }
        data = run(base.with_changes(**changes), runs=runs, days=days, seed=seed)
        errors = np.array(
            [data[:, day, METRICS.index(metric)] - value for day, metric, value in observed]
        )  # points × runs
        rmse = float(np.sqrt(np.mean(errors.mean(axis=1) ** 2)))
        noise = (
            float(np.sqrt(np.mean(errors.std(axis=1, ddof=1) ** 2)) / np.sqrt(runs))
            if runs > 1
            else 0.0
        )
        scored.append((rmse, noise, point))
    scored.sort(key=lambda item: item[0])
    best_rmse, best_noise, best = scored[0]
    tolerance = best_rmse + 2 * best_noise + 0.01
    accepted = [point for rmse, _, point in scored if rmse <= tolerance]
    changes = {k: (round(v) if isinstance(getattr(base, k), int) else v) for k, v in best.items()}
    fitted = run(base.with_changes(**changes), runs=runs, days=days, seed=seed)
    residuals = [
        {
            "day": day,
            "metric": metric,
            "observed": value,
            "fitted": float(fitted[:, day, METRICS.index(metric)].mean()),
        }
        for day, metric, value in observed
    ]
    return Fit(best, best_rmse, accepted, ranges, residuals, len(scored))
