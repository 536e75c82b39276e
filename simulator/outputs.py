"""The files of a run, the same from the CLI and the planner API: `runs.csv` (tidy long rows),
`summary.json` (simulator/summary.py), PNG and SVG charts and the one-page PDF `bao-cao.pdf`;
for the planner's pages also `runs.parquet`, `bands.json` (per scenario and share metric the
daily p5/median/p95 over runs, and the paired difference from the baseline) and `manifest.json`
(seed, model and library versions, and the sha256 of every file with one digest over them)."""

from __future__ import annotations

import hashlib
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.charts import write_charts
from simulator.params import Params
from simulator.report import write_report
from simulator.runs import MODEL_VERSION, write_csv
from simulator.summary import SHARE_METRICS, shares, summarise, write_summary

BASELINE = "baseline"
LIBRARIES = ("numpy", "SALib", "pyarrow", "matplotlib", "fpdf2", "dask", "distributed")


def write_outputs(
    out: Path,
    *,
    scenarios: dict[str, Params],
    results: dict[str, NDArray[np.float64]],
    seed: int,
    runs: int,
    days: int,
) -> dict[str, Any]:
    """Write every output file into `out`; returns the summary."""
    out.mkdir(parents=True, exist_ok=True)
    baseline = BASELINE if BASELINE in results and len(results) > 1 else None
    write_csv(out / "runs.csv", results)
    summary = summarise(
        scenarios=scenarios, results=results, seed=seed, runs=runs, days=days, baseline=baseline
    )
    write_summary(out / "summary.json", summary)
    write_charts(out, results, baseline)
    write_report(out / "bao-cao.pdf", summary, out / "qr_tx_share.png")
    return summary


def _band(values: NDArray[np.float64], scale: float = 100) -> dict[str, list[float]]:
    p5, median, p95 = np.percentile(values, [5, 50, 95], axis=0) * scale
    return {
        "p5": [round(float(v), 2) for v in p5],
        "median": [round(float(v), 2) for v in median],
        "p95": [round(float(v), 2) for v in p95],
    }


def bands(results: dict[str, NDArray[np.float64]]) -> dict[str, Any]:
    """Per scenario and share metric the daily p5/median/p95 over runs of the 7-day rolling
    share, in percent; with a baseline among several scenarios, also per other scenario the
    paired difference (same seeds, run by run) in percentage points."""
    rolled = {name: shares(data) for name, data in results.items()}
    days = next(iter(results.values())).shape[1]
    body: dict[str, Any] = {
        "days": list(range(days)),
        "scenarios": {
            name: {metric: _band(series[metric]) for metric in SHARE_METRICS}
            for name, series in rolled.items()
        },
    }
    if BASELINE in results and len(results) > 1:
        body["differences"] = {
            name: {
                metric: _band(series[metric] - rolled[BASELINE][metric]) for metric in SHARE_METRICS
            }
            for name, series in rolled.items()
            if name != BASELINE
        }
    return body


def write_planner_files(out: Path, results: dict[str, NDArray[np.float64]]) -> None:
    """`runs.parquet` (one row per scenario, run and day) and `bands.json`."""
    from simulator.sweep import write_parquet

    names = list(results)
    stacked = np.stack([results[name][np.newaxis] for name in names])
    write_parquet(out / "runs.parquet", names, {}, stacked)
    (out / "bands.json").write_text(json.dumps(bands(results)), encoding="utf-8")


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(out: Path, *, request: dict[str, Any], seed: int) -> dict[str, Any]:
    """`manifest.json`: what made the files (seed, request, model and library versions) and
    the sha256 of every other file in `out`, with one digest over the sorted list."""
    files = {
        p.name: sha256_of(p)
        for p in sorted(out.iterdir())
        if p.is_file() and p.name != "manifest.json"
    }
    listing = "".join(f"{digest}  {name}\n" for name, digest in files.items())
    manifest = {
        "seed": seed,
        "model_version": MODEL_VERSION,
        "request": request,
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "files": files,
        "digest": hashlib.sha256(listing.encode("utf-8")).hexdigest(),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return manifest
