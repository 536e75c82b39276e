"""The files of a run, the same from the CLI and the planner API: `runs.csv` (tidy long rows),
`summary.json` (simulator/summary.py), PNG and SVG charts and the one-page PDF `bao-cao.pdf`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from simulator.charts import write_charts
from simulator.params import Params
from simulator.report import write_report
from simulator.runs import write_csv
from simulator.summary import summarise, write_summary

BASELINE = "baseline"


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
