"""Calibration tells the truth: ABC-SMC recovers known parameters from synthetic series with
their own noise, and forecasts carry the accepted set's spread."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.calibrate import Fit, Observation, calibrate, forecast, observable, read_observed
from simulator.model import METRICS, simulate
from simulator.params import scenario_params

SMALL = {"n_shoppers": 600, "n_vendors": 60, "n_villages": 6, "members": 4}
RANGES = {"q_s": (0.005, 0.08), "vendor_campaign_per_day": (0.5, 4.0)}
DAYS = (10, 20, 40, 60, 90)


def synthetic_case(case: int) -> tuple[dict[str, float], list[Observation]]:
    """A truth drawn from the prior and one noisy replication of it, observed on some days."""
    rng = np.random.default_rng(100 + case)
    truth = {k: lo + (hi - lo) * rng.random() for k, (lo, hi) in RANGES.items()}
    base = scenario_params("baseline", SMALL)
    data = simulate(base.with_changes(**truth), max(DAYS), np.random.default_rng(1000 + case))
    observed = []
    for day in DAYS:
        for metric, sd in (("shoppers_ready_share", 0.03), ("vendors_accepting_share", 0.04)):
            value = observable(data, 60, Observation(day, metric, 0.0, sd))
            observed.append(Observation(day, metric, value + rng.normal(0, sd), sd))
    return truth, observed


def recovered(case: int, particles: int) -> tuple[bool, Fit]:
    truth, observed = synthetic_case(case)
    fit = calibrate(
        scenario_params("baseline", SMALL),
        observed=observed,
        ranges=RANGES,
        particles=particles,
        generations=4,
        seed=case,
    )
    return all(fit.contains(name, value) for name, value in truth.items()), fit


@pytest.mark.slow
def test_a_known_truth_is_inside_the_accepted_set_which_is_narrower_than_the_prior() -> None:
    inside, fit = recovered(case=1, particles=30)
    assert inside
    low, high = fit.interval("vendor_campaign_per_day")
    assert high - low < 0.6 * (RANGES["vendor_campaign_per_day"][1] - 0.5)
    assert fit.tolerances[-1] < fit.tolerances[0]
    assert fit.as_dict()["residuals"][0]["day"] == 10


@pytest.mark.slow
def test_the_truth_is_inside_the_accepted_set_in_90_percent_of_synthetic_cases() -> None:
    results = [recovered(case, particles=40)[0] for case in range(20)]
    assert sum(results) >= 18


def test_forecasts_draw_parameters_from_the_accepted_set() -> None:
    base = scenario_params("baseline", SMALL)
    two = Fit(
        names=["vendor_campaign_per_day"],
        ranges={"vendor_campaign_per_day": (0.0, 8.0)},
        particles=np.array([[0.0], [8.0]]),
        weights=np.array([0.5, 0.5]),
        tolerances=[1.0],
        evaluated=2,
    )
    data = forecast(two, base, runs=30, days=20, seed=3)
    accepting = data[:, -1, METRICS.index("vendors_accepting_share")]
    assert accepting.min() < 0.1  # runs drawn at no campaign…
    assert accepting.max() > 0.5  # …and at a full one
    one = Fit(
        names=["vendor_campaign_per_day"],
        ranges={"vendor_campaign_per_day": (0.0, 8.0)},
        particles=np.array([[8.0]]),
        weights=np.array([1.0]),
        tolerances=[1.0],
        evaluated=1,
    )
    fixed = forecast(one, base, runs=30, days=20, seed=3)
    assert np.std(accepting) > 3 * np.std(fixed[:, -1, METRICS.index("vendors_accepting_share")])


def test_observed_counts_are_summed_over_their_window() -> None:
    data = np.zeros((11, len(METRICS)))
    data[:, METRICS.index("qr_tx")] = 2
    data[:, METRICS.index("vendors_accepting_share")] = 0.5
    assert observable(data, 60, Observation(10, "qr_tx", 0, 1, window=7)) == 14
    assert observable(data, 60, Observation(10, "vendors_accepting", 0, 1)) == 30


def test_read_observed_refuses_unknown_metrics_and_zero_noise(tmp_path: Path) -> None:
    path = tmp_path / "observed.csv"
    path.write_text("day,metric,value,sd,window\n30,qr_tx,70,7,30\n", encoding="utf-8")
    assert read_observed(path) == [Observation(30, "qr_tx", 70.0, 7.0, 30)]
    path.write_text("day,metric,value\n30,nonsense,0.7\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown metric"):
        read_observed(path)
    path.write_text("day,metric,value,sd\n30,qr_tx,7,0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="sd"):
        read_observed(path)


@pytest.mark.slow
def test_calibrate_command_writes_the_fit_and_a_forecast(tmp_path: Path) -> None:
    observed = tmp_path / "observed.csv"
    observed.write_text(
        "day,metric,value,sd\n20,vendors_accepting_share,0.6,0.05\n", encoding="utf-8"
    )
    out = tmp_path / "cal"
    result = subprocess.run(
        [
            sys.executable, "-m", "api", "simulate", "calibrate", "--observed", str(observed),
            "--fit", "vendor_campaign_per_day=0.5:6", "--param", "n_shoppers=300",
            "--param", "n_vendors=60", "--particles", "10", "--generations", "1",
            "--runs", "3", "--forecast-days", "30", "--out", str(out),
        ],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert report["method"].startswith("ABC-SMC")
    assert len(report["particles"]) == 10
    assert "vendor_campaign_per_day" in report["fitted"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["runs"] == 3
    assert (out / "bao-cao.pdf").exists()
