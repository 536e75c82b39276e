"""Charts, PNG and SVG, Vietnamese labels: per share metric the median 7-day rolling share with
its p5–p95 band, scenarios overlaid, axes in percent; and, when there is a baseline, each
scenario's paired difference from it in percentage points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from simulator.params import CHARTED, SCENARIO_LABELS
from simulator.summary import shares

CHART_LABELS = {
    "qr_tx_share": "Tỷ lệ giao dịch bằng QR",
    "qr_value_share": "Tỷ lệ giá trị thanh toán bằng QR",
    "vendors_accepting_share": "Tỷ lệ tiểu thương nhận QR",
    "vendors_active_share": "Tỷ lệ tiểu thương có giao dịch QR trong 7 ngày",
    "shoppers_ready_share": "Tỷ lệ người mua sẵn sàng (có ví)",
}


def _save(figure: object, directory: Path, stem: str) -> list[Path]:
    written = []
    for suffix in ("png", "svg"):
        target = directory / f"{stem}.{suffix}"
        figure.savefig(target, metadata={"Date": None} if suffix == "svg" else None)  # type: ignore[attr-defined]
        written.append(target)
    return written


def write_charts(
    directory: Path, results: dict[str, NDArray[np.float64]], baseline: str | None = None
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import PercentFormatter

    rolled = {name: shares(data) for name, data in results.items()}
    written: list[Path] = []
    for metric in CHARTED:
        figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
        top = 0.0
        for name, series in rolled.items():
            values = series[metric] * 100
            x = np.arange(values.shape[1])
            high = np.percentile(values, 95, axis=0)
            top = max(top, float(high.max()))
            axes.fill_between(x, np.percentile(values, 5, axis=0), high, alpha=0.2)
            axes.plot(x, np.median(values, axis=0), label=SCENARIO_LABELS.get(name, name))
        axes.set_title(CHART_LABELS[metric] + " (trung bình 7 ngày)")
        axes.set_xlabel("Ngày kể từ khi bắt đầu")
        axes.set_ylabel("% (trung vị, dải 5-95 %)")
        axes.set_ylim(0, min(100.0, max(top * 1.1, 1.0)))
        axes.yaxis.set_major_formatter(PercentFormatter(100))
        axes.grid(alpha=0.3)
        axes.legend(loc="upper left", fontsize=8)
        figure.tight_layout()
        written += _save(figure, directory, metric)
        plt.close(figure)
    if baseline in rolled and len(rolled) > 1:
        reference = rolled[baseline]
        for metric in ("qr_tx_share", "vendors_accepting_share"):
            figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
            for name, series in rolled.items():
                if name == baseline:
                    continue
                diff = (series[metric] - reference[metric]) * 100
                x = np.arange(diff.shape[1])
                axes.fill_between(
                    x, np.percentile(diff, 5, axis=0), np.percentile(diff, 95, axis=0), alpha=0.2
                )
                axes.plot(x, np.median(diff, axis=0), label=SCENARIO_LABELS.get(name, name))
            axes.axhline(0, color="black", linewidth=0.8)
            axes.set_title(f"Chênh lệch so với kịch bản cơ sở: {CHART_LABELS[metric].lower()}")
            axes.set_xlabel("Ngày kể từ khi bắt đầu")
            axes.set_ylabel("điểm phần trăm (cùng hạt giống)")
            axes.grid(alpha=0.3)
            axes.legend(loc="upper left", fontsize=8)
            figure.tight_layout()
            written += _save(figure, directory, f"difference_{metric}")
            plt.close(figure)
    return written
