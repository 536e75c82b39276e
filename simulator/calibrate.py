"""Calibration by approximate Bayesian computation (ABC-SMC, Beaumont et al. 2009, Biometrika
96(4):983): parameters get uniform priors on their ranges; a particle is accepted when one
stochastic replication lands within a tolerance of the observed series, the distance being the
root mean square of (simulated − observed) / the observation's own standard deviation; each
generation tightens the tolerance to a quantile of the last one's distances and moves the
particles with a Gaussian kernel, weighting them by prior ÷ proposal density. The accepted
population is the fit: its spread is the parameter uncertainty, and `forecast` draws each run's
parameters from it, so forecast bands carry parameter and Monte Carlo uncertainty together.

Observed points are rows `day, metric, value[, sd][, window]`: a model metric (a share, read on
that day) or a count — `vendors_accepting`, `vendors_active` (vendors with a QR code / with a
receipt in the last 7 days, on that day), `qr_tx`, `qr_value`, `new_wallets` (summed over the
`window` days ending on `day`), which is what `cho simulate observed` exports."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.model import METRICS, simulate
from simulator.params import Params

COUNTS = {"vendors_accepting", "vendors_active", "qr_tx", "qr_value", "new_wallets"}
SHARES = {m for m in METRICS if m.endswith("_share")}


@dataclass(frozen=True)
class Observation:
    day: int
    metric: str
    value: float
    sd: float
    window: int = 1


# the analogue targets (README "Adoption simulator"): 70-83 % of vendors accept after months of
# push; about half of them have receipts
DEFAULT_OBSERVED = [
    Observation(180, "vendors_accepting_share", 0.765, 0.035),
    Observation(180, "vendors_active_share", 0.38, 0.06, 7),
]
DEFAULT_RANGES = {"campaign_efficacy": (0.5, 1.0), "vendor_popularity_sigma": (0.5, 3.0)}


def observable(data: NDArray[np.float64], n_vendors: int, point: Observation) -> float:
    """The model's value of an observed quantity in one replication (days + 1, metrics)."""
    window = slice(max(point.day - point.window + 1, 0), point.day + 1)
    if point.metric in SHARES:
        return float(data[window, METRICS.index(point.metric)].mean())
    if point.metric in ("vendors_accepting", "vendors_active"):
        share = data[window, METRICS.index(point.metric + "_share")].mean()
        return float(share * n_vendors)
    return float(data[window, METRICS.index(point.metric)].sum())


def read_observed(path: Path) -> list[Observation]:
    """Observed points from a CSV file (see `parse_observed`)."""
    return parse_observed(path.read_text(encoding="utf-8-sig"))


def parse_observed(text: str) -> list[Observation]:
    """Observed points from CSV text with the columns day, metric, value and optionally sd
    (default: 5 points for a share, 10 % of the value for a count) and window (default 1);
    ValueError saying what is wrong otherwise."""
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    points = []
    for row in rows:
        metric = row.get("metric") or ""
        if metric not in SHARES | COUNTS:
            known = ", ".join(sorted(SHARES | COUNTS))
            raise ValueError(f"unknown metric {metric!r}; known: {known}")
        try:
            value = float(row["value"])
            default_sd = 0.05 if metric in SHARES else max(0.1 * abs(value), 1.0)
            sd = float(row.get("sd") or default_sd)
            day, window = int(row["day"]), int(row.get("window") or 1)
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"row {row}: day, value, sd and window must be numbers") from None
        if sd <= 0 or day < 0 or window < 1:
            raise ValueError(f"day {day}: sd must be positive, day ≥ 0 and window ≥ 1")
        points.append(Observation(day, metric, value, sd, window))
    if not points:
        raise ValueError("no observed points")
    return points


@dataclass(frozen=True)
class Fit:
    names: list[str]
    ranges: dict[str, tuple[float, float]]
    particles: NDArray[np.float64]  # (particles, parameters)
    weights: NDArray[np.float64]
    tolerances: list[float]
    evaluated: int
    residuals: list[dict[str, Any]] = field(default_factory=list)

    def interval(self, name: str, level: float = 0.9) -> tuple[float, float]:
        """The weighted central credible interval of one parameter."""
        values = self.particles[:, self.names.index(name)]
        order = np.argsort(values)
        cumulative = np.cumsum(self.weights[order])
        last = len(values) - 1
        low = values[order][min(int(np.searchsorted(cumulative, (1 - level) / 2)), last)]
        high = values[order][min(int(np.searchsorted(cumulative, (1 + level) / 2)), last)]
        return float(low), float(high)

    def contains(self, name: str, value: float) -> bool:
        """Whether a value lies inside the accepted set's range for this parameter."""
        values = self.particles[:, self.names.index(name)]
        return bool(values.min() <= value <= values.max())

    def as_dict(self) -> dict[str, Any]:
        fitted = {}
        for j, name in enumerate(self.names):
            values = self.particles[:, j]
            low, high = self.interval(name)
            fitted[name] = {
                "mean": round(float(np.average(values, weights=self.weights)), 6),
                "interval_90": [round(low, 6), round(high, 6)],
                "accepted_min": round(float(values.min()), 6),
                "accepted_max": round(float(values.max()), 6),
                "prior": list(self.ranges[name]),
            }
        return {
            "method": "ABC-SMC (Beaumont et al. 2009)",
            "fitted": fitted,
            "tolerances": [round(t, 4) for t in self.tolerances],
            "accepted_points": len(self.particles),
            "evaluated_points": self.evaluated,
            "particles": [
                {name: float(v) for name, v in zip(self.names, row, strict=True)} | {"weight": w}
                for row, w in zip(self.particles, self.weights.tolist(), strict=True)
            ],
            "residuals": self.residuals,
        }


def _apply(base: Params, names: list[str], theta: NDArray[np.float64]) -> Params:
    changes: dict[str, Any] = {}
    for name, value in zip(names, theta, strict=True):
        changes[name] = (
            round(float(value)) if isinstance(getattr(base, name), int) else float(value)
        )
    return base.with_changes(**changes)


def distance(data: NDArray[np.float64], n_vendors: int, observed: list[Observation]) -> float:
    errors = [(observable(data, n_vendors, p) - p.value) / p.sd for p in observed]
    return float(np.sqrt(np.mean(np.square(errors))))


def calibrate(
    base: Params,
    *,
    observed: list[Observation] | None = None,
    ranges: dict[str, tuple[float, float]] | None = None,
    particles: int = 60,
    generations: int = 4,
    quantile: float = 0.5,
    floor: float = 1.5,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Fit:
    """Fit the parameters in `ranges` to `observed`. The tolerance never goes below `floor`:
    a replication at the true parameters differs from noisy observations by both the
    observations' noise and the model's own (about √2 in these units), so a tighter tolerance
    would exclude the truth."""
    observed = observed or DEFAULT_OBSERVED
    ranges = ranges or DEFAULT_RANGES
    names = list(ranges)
    low = np.array([ranges[n][0] for n in names])
    high = np.array([ranges[n][1] for n in names])
    days = max(p.day for p in observed)
    root = np.random.SeedSequence(seed)
    rng = np.random.default_rng(root.spawn(1)[0])
    evaluated = 0

    def score(theta: NDArray[np.float64]) -> float:
        nonlocal evaluated
        evaluated += 1
        if progress:
            progress(1)
        replication = np.random.SeedSequence((seed, evaluated))
        data = simulate(_apply(base, names, theta), days, np.random.default_rng(replication))
        return distance(data, base.n_vendors, observed)

    population = low + (high - low) * rng.random((particles, len(names)))
    distances = np.array([score(theta) for theta in population])
    weights = np.full(particles, 1 / particles)
    tolerances = [float(distances.max())]
    for _ in range(generations):
        if tolerances[-1] <= floor:
            break
        tolerance = max(float(np.quantile(distances, quantile)), floor)
        spread = 2 * np.cov(population.T, aweights=weights).reshape(len(names), len(names))
        spread += np.diag(((high - low) * 1e-3) ** 2)
        chol = np.linalg.cholesky(spread)
        precision = np.linalg.inv(spread)
        accepted: list[NDArray[np.float64]] = []
        accepted_distances: list[float] = []
        attempts = 0
        while len(accepted) < particles and attempts < 10 * particles:
            attempts += 1
            parent = population[rng.choice(particles, p=weights)]
            theta = parent + chol @ rng.standard_normal(len(names))
            if np.any(theta < low) or np.any(theta > high):
                continue
            d = score(theta)
            if d <= tolerance:
                accepted.append(theta)
                accepted_distances.append(d)
        if len(accepted) < particles:
            break  # acceptance fell below 10 %: keep the last full population
        new = np.array(accepted)
        gaps = new[:, None, :] - population[None, :, :]
        kernel = np.exp(-0.5 * np.einsum("ijk,kl,ijl->ij", gaps, precision, gaps))
        new_weights = 1 / (kernel @ weights)
        population, weights = new, new_weights / new_weights.sum()
        distances = np.array(accepted_distances)
        tolerances.append(tolerance)
    mean = np.average(population, axis=0, weights=weights)
    fitted = simulate(_apply(base, names, mean), days, np.random.default_rng(root))
    residuals = [
        {
            "day": p.day,
            "metric": p.metric,
            "observed": p.value,
            "sd": p.sd,
            "fitted_at_mean": round(observable(fitted, base.n_vendors, p), 6),
        }
        for p in observed
    ]
    return Fit(names, ranges, population, weights, tolerances, evaluated, residuals)


def forecast(fit: Fit, base: Params, *, runs: int, days: int, seed: int) -> NDArray[np.float64]:
    """Runs with parameters drawn from the accepted set by weight: (runs, days + 1, metrics)."""
    seeds = np.random.SeedSequence(seed).spawn(runs + 1)
    picks = np.random.default_rng(seeds[0]).choice(len(fit.weights), size=runs, p=fit.weights)
    return np.stack(
        [
            simulate(_apply(base, fit.names, fit.particles[i]), days, np.random.default_rng(s))
            for i, s in zip(picks, seeds[1:], strict=True)
        ]
    )
