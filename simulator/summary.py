"""What planners read: per scenario a headline of 7-day rolling shares at 6, 12 and 24 months,
days to 50/80/90 %, active vendors and QR receipts per accepting vendor a day, each with a
p5–p95 band over the runs; and for every scenario but the baseline the paired difference from
the baseline (same seeds, run by run). Written to `summary.json`, rounded: shares and
differences in percent (1 decimal), counts to 1 decimal, days as whole days. README
("Adoption simulator") documents every field."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.model import METRICS
from simulator.params import MONTH_DAYS, SCENARIO_LABELS, Params
from simulator.runs import MODEL_VERSION

SHARE_METRICS = (
    "shoppers_ready_share",
    "vendors_accepting_share",
    "vendors_active_share",
    "qr_tx_share",
    "qr_value_share",
)
LEVELS = (0.50, 0.80, 0.90)
ROLLING = 7
RECEIPT_WINDOW = 30


def rolling(series: NDArray[np.float64], window: int = ROLLING) -> NDArray[np.float64]:
    """Trailing mean over the last `window` days (fewer at the start), along the last axis."""
    padded = np.cumsum(series, axis=-1)
    out = padded.copy()
    out[..., window:] = padded[..., window:] - padded[..., :-window]
    counts = np.minimum(np.arange(1, series.shape[-1] + 1), window)
    result: NDArray[np.float64] = out / counts
    return result


def shares(data: NDArray[np.float64]) -> dict[str, NDArray[np.float64]]:
    """Per share metric, the (runs, days + 1) 7-day rolling share; QR shares are ratios of
    the rolling sums, so one outage day does not make a share zero."""
    result = {m: rolling(data[:, :, METRICS.index(m)]) for m in SHARE_METRICS}
    for share, numerator, denominator in (
        ("qr_tx_share", "qr_tx", "tx"),
        ("qr_value_share", "qr_value", "value"),
    ):
        top = rolling(data[:, :, METRICS.index(numerator)])
        bottom = rolling(data[:, :, METRICS.index(denominator)])
        result[share] = np.divide(top, bottom, out=np.zeros_like(top), where=bottom > 0)
    return result


def receipts_per_vendor(data: NDArray[np.float64], n_vendors: int) -> NDArray[np.float64]:
    """(runs, days + 1): QR receipts per accepting vendor a day, over the last 30 days."""
    receipts = rolling(data[:, :, METRICS.index("qr_tx")], RECEIPT_WINDOW)
    accepting = rolling(data[:, :, METRICS.index("vendors_accepting_share")], RECEIPT_WINDOW)
    vendors = accepting * n_vendors
    return np.divide(receipts, vendors, out=np.zeros_like(receipts), where=vendors > 0)


def _band(values: NDArray[np.float64], scale: float, digits: int) -> dict[str, float]:
    p5, median, p95 = np.percentile(values, [5, 50, 95])
    return {
        "p5": round(float(p5) * scale, digits) + 0.0,
        "median": round(float(median) * scale, digits) + 0.0,
        "p95": round(float(p95) * scale, digits) + 0.0,
    }


def days_to(curve: NDArray[np.float64], level: float) -> int | None:
    hits = np.nonzero(curve >= level)[0]
    return int(hits[0]) if len(hits) else None


def headline(data: NDArray[np.float64], n_vendors: int) -> dict[str, Any]:
    """The headline of one scenario's runs."""
    days = data.shape[1] - 1
    rolled = shares(data)
    table: dict[str, Any] = {}
    for metric, series in rolled.items():
        entry: dict[str, Any] = {}
        for months, day in MONTH_DAYS.items():
            if day <= days:
                entry[f"percent_{months}m"] = _band(series[:, day], 100, 1)
        for level in LEVELS:
            reached = [days_to(series[r], level) for r in range(series.shape[0])]
            hit = [d for d in reached if d is not None]
            entry[f"days_to_{int(level * 100)}"] = {
                "median": round(float(np.median(hit))) if len(hit) * 2 > len(reached) else None,
                "p5": round(float(np.percentile(hit, 5))) if hit else None,
                "p95": round(float(np.percentile(hit, 95))) if len(hit) == len(reached) else None,
                "reached_in_runs": len(hit),
            }
        table[metric] = entry
    active = rolled["vendors_active_share"] * n_vendors
    per_vendor = receipts_per_vendor(data, n_vendors)
    table["vendors_active"] = {
        f"count_{months}m": _band(active[:, day], 1, 1)
        for months, day in MONTH_DAYS.items()
        if day <= days
    }
    table["receipts_per_accepting_vendor_day"] = {
        f"mean_30d_to_{months}m": _band(per_vendor[:, day], 1, 2)
        for months, day in MONTH_DAYS.items()
        if day <= days
    }
    return table


def paired_difference(
    data: NDArray[np.float64], baseline: NDArray[np.float64]
) -> dict[str, dict[str, dict[str, float]]]:
    """Scenario − baseline, run by run on the same seeds, in percentage points."""
    ours, theirs = shares(data), shares(baseline)
    days = data.shape[1] - 1
    return {
        metric: {
            f"points_{months}m": _band(ours[metric][:, day] - theirs[metric][:, day], 100, 1)
            for months, day in MONTH_DAYS.items()
            if day <= days
        }
        for metric in SHARE_METRICS
    }


def summarise(
    *,
    scenarios: dict[str, Params],
    results: dict[str, NDArray[np.float64]],
    seed: int,
    runs: int,
    days: int,
    baseline: str | None = None,
) -> dict[str, Any]:
    """The whole summary: run settings, then per scenario its label, parameters, headline and
    (not for the baseline) its paired difference from the baseline."""
    reference = baseline if baseline in results else None
    body: dict[str, Any] = {}
    for name, params in scenarios.items():
        entry: dict[str, Any] = {
            "label": SCENARIO_LABELS.get(name, name),
            "parameters": asdict(params),
            "headline": headline(results[name], params.n_vendors),
        }
        if reference is not None and name != reference:
            entry["difference_from_baseline"] = paired_difference(results[name], results[reference])
        body[name] = entry
    return {
        "model_version": MODEL_VERSION,
        "seed": seed,
        "runs": runs,
        "days": days,
        "baseline": reference,
        "units": {
            "percent_*": "7-day rolling share, percent, p5/median/p95 over runs",
            "days_to_*": "first day the 7-day rolling share reaches the level",
            "count_*": "vendors with a QR receipt in the last 7 days (7-day rolling mean)",
            "mean_30d_to_*": "QR receipts per accepting vendor a day, 30-day mean",
            "points_*": "scenario − baseline, same seeds, percentage points",
        },
        "scenarios": body,
    }


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
