"""What a planner gets from `cho simulate run/compare`: the tidy CSV, the rounded summary with
7-day rolling shares and paired differences, charts, the Vietnamese PDF; and overrides that win
over the scenario or are refused in one line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.model import METRICS
from simulator.params import scenario_params
from simulator.runs import run
from simulator.summary import headline, paired_difference, rolling, shares

SMALL = {"n_shoppers": 1500, "n_vendors": 120, "n_villages": 12}


def cho(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api", "simulate", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_rolling_is_a_trailing_seven_day_mean() -> None:
    series = np.arange(10, dtype=float)[None, :]
    rolled = rolling(series)
    assert rolled[0, 0] == 0
    assert rolled[0, 3] == pytest.approx(1.5)
    assert rolled[0, 9] == pytest.approx(np.mean(np.arange(3, 10)))


def test_one_outage_day_does_not_zero_the_headline_share() -> None:
    data = run(scenario_params("baseline", SMALL | {"outage_prob": 0.0}), runs=2, days=190, seed=3)
    data[:, 182, METRICS.index("qr_tx")] = 0  # an outage on the headline day
    data[:, 182, METRICS.index("qr_tx_share")] = 0
    share = shares(data)["qr_tx_share"][:, 182]
    assert np.all(share > 0.8 * shares(data)["qr_tx_share"][:, 181])


def test_headline_has_active_vendors_receipts_and_days_to_levels() -> None:
    data = run(scenario_params("baseline", SMALL), runs=5, days=200, seed=1)
    table = headline(data, 120)
    accepting = table["vendors_accepting_share"]
    assert set(accepting) >= {"percent_6m", "days_to_50", "days_to_80", "days_to_90"}
    band = accepting["percent_6m"]
    assert band["p5"] <= band["median"] <= band["p95"] <= 100
    assert band["median"] > 50  # percent, not a 0-1 share
    assert 0 < table["vendors_active"]["count_6m"]["median"] <= 120
    assert 0 < table["receipts_per_accepting_vendor_day"]["mean_30d_to_6m"]["median"] < 5


def test_paired_difference_is_zero_for_the_same_scenario_and_signed_otherwise() -> None:
    base = run(scenario_params("baseline", SMALL), runs=5, days=200, seed=2)
    same = paired_difference(base, base)
    assert same["qr_tx_share"]["points_6m"] == {"p5": 0.0, "median": 0.0, "p95": 0.0}
    worse = run(scenario_params("frequent_outages", SMALL), runs=5, days=200, seed=2)
    assert paired_difference(worse, base)["qr_tx_share"]["points_6m"]["p95"] < 0


@pytest.mark.slow
def test_overrides_win_over_the_scenario(tmp_path: Path) -> None:
    # issue 9, defect 17: this crashed with a TypeError (members given twice)
    assert scenario_params("double_teams", {"members": 300}).members == 300
    result = cho(
        "run", "--scenario", "double_teams", "--param", "members=300", "--param",
        "n_shoppers=400", "--param", "n_vendors=40", "--runs", "2", "--days", "20",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenarios"]["double_teams"]["parameters"]["members"] == 300


@pytest.mark.slow
@pytest.mark.parametrize(
    ("item", "field"),
    [
        ("smartphone_share=1.7", "smartphone_share"),
        ("members=-1", "members"),
        ("n_shoppers=1000000000", "n_shoppers"),
        ("colour=3", "colour"),
        ("fee_rate=abc", "fee_rate"),
    ],
)
def test_out_of_range_overrides_are_refused_in_one_line(
    tmp_path: Path, item: str, field: str
) -> None:
    result = cho("run", "--param", item, "--out", str(tmp_path / "never"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert field in lines[0]
    assert not (tmp_path / "never").exists()


@pytest.mark.slow
def test_compare_writes_csv_summary_differences_charts_and_the_pdf(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = cho(
        "compare", "baseline", "fee_1pct", "--param", "n_shoppers=800", "--param",
        "n_vendors=60", "--runs", "3", "--days", "40", "--seed", "5", "--out", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with (out / "runs.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["scenario", "run", "day", "metric", "value"]
    assert len(rows) - 1 == 2 * 3 * 41 * len(METRICS)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 5
    assert summary["baseline"] == "baseline"
    assert summary["scenarios"]["fee_1pct"]["parameters"]["fee_rate"] == 0.01
    assert "difference_from_baseline" in summary["scenarios"]["fee_1pct"]
    assert "difference_from_baseline" not in summary["scenarios"]["baseline"]
    assert "points_*" in summary["units"]
    for name in (
        "qr_tx_share.png",
        "qr_value_share.svg",
        "vendors_accepting_share.png",
        "difference_qr_tx_share.png",
    ):
        assert (out / name).stat().st_size > 1000
    text = subprocess.run(
        ["pdftotext", str(out / "bao-cao.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Tiểu thương nhận QR" in text
    assert "so với cơ sở" in text
    assert cho("run", "--scenario", "nope", "--out", str(out)).returncode == 2
    listed = cho("scenarios", "--json")
    assert "bass" in json.loads(listed.stdout)["scenarios"]
