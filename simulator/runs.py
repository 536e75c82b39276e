"""Monte Carlo runs: replications from one seed through independent streams
(`SeedSequence.spawn`), so results are byte-identical for the same seed whatever the number of
worker processes; tidy long CSV, a summary with the headline table and bands, and charts."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.model import METRICS, simulate
from simulator.params import SCENARIO_LABELS, Params

MODEL_VERSION = "1.0"
SHARE_METRICS = ("shoppers_ready_share", "vendors_accepting_share", "qr_tx_share", "qr_value_share")
MONTH_DAYS = {6: 182, 12: 365, 24: 730}
LEVELS = (0.10, 0.50, 0.90)


def _one(args: tuple[Params, int, np.random.SeedSequence]) -> NDArray[np.float64]:
    params, days, seed = args
    return simulate(params, days, np.random.default_rng(seed))


def run(
    params: Params,
    *,
    runs: int,
    days: int,
    seed: int,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> NDArray[np.float64]:
    """All replications: an array (runs, days + 1, metrics)."""
    seeds = np.random.SeedSequence(seed).spawn(runs)
    jobs = [(params, days, s) for s in seeds]
    results: list[NDArray[np.float64]] = []
    if workers <= 1:
        for job in jobs:
            results.append(_one(job))
            if progress:
                progress(1)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for result in pool.map(_one, jobs):
                results.append(result)
                if progress:
                    progress(1)
    return np.stack(results)


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


def _days_to(curve: NDArray[np.float64], level: float) -> int | None:
    hits = np.nonzero(curve >= level)[0]
    return int(hits[0]) if len(hits) else None


def headline(data: NDArray[np.float64]) -> dict[str, Any]:
    """Shares at 6, 12 and 24 months and days to 10/50/90 %, with p5-p95 bands."""
    table: dict[str, Any] = {}
    days = data.shape[1] - 1
    for metric in SHARE_METRICS:
        j = METRICS.index(metric)
        entry: dict[str, Any] = {}
        for months, day in MONTH_DAYS.items():
            if day <= days:
                values = data[:, day, j]
                entry[f"share_{months}m"] = {
                    "p5": float(np.percentile(values, 5)),
                    "median": float(np.median(values)),
                    "p95": float(np.percentile(values, 95)),
                }
        for level in LEVELS:
            reached = [_days_to(data[r, :, j], level) for r in range(data.shape[0])]
            hit = [d for d in reached if d is not None]
            entry[f"days_to_{int(level * 100)}"] = {
                "median": float(np.median(hit)) if len(hit) * 2 > len(reached) else None,
                "p5": float(np.percentile(hit, 5)) if hit else None,
                "p95": float(np.percentile(hit, 95)) if len(hit) == len(reached) else None,
                "reached_in_runs": len(hit),
            }
        table[metric] = entry
    return table


def write_summary(
    path: Path,
    *,
    scenarios: dict[str, Params],
    results: dict[str, NDArray[np.float64]],
    seed: int,
    runs: int,
    days: int,
) -> dict[str, Any]:
    summary = {
        "model_version": MODEL_VERSION,
        "seed": seed,
        "runs": runs,
        "days": days,
        "scenarios": {
            name: {
                "label": SCENARIO_LABELS.get(name, name),
                "parameters": asdict(params),
                "headline": headline(results[name]),
            }
            for name, params in scenarios.items()
        },
    }
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    return summary


CHART_LABELS = {
    "qr_tx_share": "Tỷ lệ giao dịch bằng QR",
    "vendors_accepting_share": "Tỷ lệ tiểu thương nhận QR",
    "shoppers_ready_share": "Tỷ lệ người mua sẵn sàng (có ví)",
    "qr_value_share": "Tỷ lệ giá trị thanh toán QR",
}


def write_charts(
    directory: Path,
    results: dict[str, NDArray[np.float64]],
    metrics: Sequence[str] = ("qr_tx_share", "vendors_accepting_share", "shoppers_ready_share"),
) -> list[Path]:
    """PNG and SVG per metric: median with a p5-p95 band, scenarios overlaid, Vietnamese labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    for metric in metrics:
        j = METRICS.index(metric)
        figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
        for name, data in results.items():
            series = data[:, :, j]
            x = np.arange(series.shape[1])
            axes.fill_between(
                x, np.percentile(series, 5, axis=0), np.percentile(series, 95, axis=0), alpha=0.2
            )
            axes.plot(x, np.median(series, axis=0), label=SCENARIO_LABELS.get(name, name))
        axes.set_title(CHART_LABELS[metric])
        axes.set_xlabel("Ngày kể từ khi bắt đầu")
        axes.set_ylabel("Tỷ lệ (trung vị, dải 5-95 %)")
        axes.set_ylim(0, 1)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right", fontsize=8)
        figure.tight_layout()
        for suffix in ("png", "svg"):
            target = directory / f"{metric}.{suffix}"
            figure.savefig(target, metadata={"Date": None} if suffix == "svg" else None)
            written.append(target)
        plt.close(figure)
    return written
