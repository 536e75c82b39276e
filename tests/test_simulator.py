"""The simulator's validation checks (../shared/reference/simulator.md §4) and its outputs."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulator.model import METRICS, bass_closed_form, bass_recursion, simulate
from simulator.params import BASS, Params, scenario_params
from simulator.runs import headline, run

SMALL = {"n_shoppers": 1500, "n_vendors": 120, "n_villages": 12}


def col(metric: str) -> int:
    return METRICS.index(metric)


def bass(p: float, q: float, n: int, **extra: object) -> Params:
    return Params().with_changes(**BASS | {"p_s": p, "q_s": q, "n_shoppers": n} | extra)


@pytest.mark.parametrize(("p", "q"), [(0.03, 0.38), (0.005, 0.15)])
def test_1_bass_reduction_within_0005_of_the_recursion(p: float, q: float) -> None:
    days = 60
    data = run(bass(p, q, 100_000), runs=20, days=days, seed=7)
    mean = data[:, :, col("shoppers_ready_share")].mean(axis=0)
    assert np.max(np.abs(mean - bass_recursion(p, q, days))) < 0.005


def test_2_time_step_convergence_to_the_continuous_curve() -> None:
    p, q, days = 0.03, 0.38, 15
    data = run(bass(p, q, 100_000, substeps=100), runs=8, days=days, seed=2)
    mean = data[:, :, col("shoppers_ready_share")].mean(axis=0)
    continuous = bass_closed_form(p, q, np.arange(days + 1, dtype=float))
    assert np.max(np.abs(mean - continuous)) < 0.002
    daily = run(bass(p, q, 100_000), runs=8, days=days, seed=2)
    gap = np.abs(daily[:, :, col("shoppers_ready_share")].mean(axis=0) - continuous)
    assert np.max(gap) > 0.03  # one step a day is a different curve (simulator.md §1.1)


def test_3_nothing_from_nothing() -> None:
    params = Params().with_changes(
        **SMALL,
        p_s=0.0,
        members=0,
        student_boost=0.0,
        p_v=0.0,
        vendor_campaign_per_day=0.0,
        seed_share=0.0,
    )
    data = run(params, runs=3, days=120, seed=1)
    assert data[:, :, col("shoppers_ready_share")].max() == 0
    assert data[:, :, col("qr_tx")].sum() == 0
    assert data[:, :, col("vendors_accepting_share")].max() == 0


def test_4_pure_innovation() -> None:
    p, days = 0.02, 80
    data = run(bass(p, 0.0, 100_000), runs=20, days=days, seed=3)
    mean = data[:, :, col("shoppers_ready_share")].mean(axis=0)
    assert np.max(np.abs(mean - (1 - (1 - p) ** np.arange(days + 1)))) < 0.005


def test_5_seeded_logistic() -> None:
    days, f0, q = 60, 0.02, 0.2
    data = run(bass(0.0, q, 100_000, seed_share=f0), runs=20, days=days, seed=5)
    mean = data[:, :, col("shoppers_ready_share")].mean(axis=0)
    assert np.max(np.abs(mean - bass_recursion(0.0, q, days, f0))) < 0.005


def test_6_determinism_whatever_the_workers() -> None:
    params = scenario_params("baseline", SMALL)
    one = run(params, runs=4, days=60, seed=11, workers=1)
    two = run(params, runs=4, days=60, seed=11, workers=2)
    assert one.tobytes() == two.tobytes()
    other = run(params, runs=4, days=60, seed=12, workers=1)
    assert one.tobytes() != other.tobytes()


def test_7_common_random_numbers_give_zero_difference() -> None:
    base = scenario_params("baseline", SMALL)
    same = base.with_changes(fee_rate=base.fee_rate)
    assert np.array_equal(run(base, runs=3, days=90, seed=2), run(same, runs=3, days=90, seed=2))


@pytest.mark.parametrize(
    ("change", "metric"),
    [
        ({"members": 240}, "shoppers_ready_share"),
        ({"members": 240}, "qr_tx_share"),
        ({"smartphone_share": 0.8}, "qr_tx_share"),
        ({"outage_prob": 0.0}, "qr_tx_share"),
        ({"ask_propensity": 0.8}, "vendors_accepting_share"),
    ],
)
def test_8_monotone_responses(change: dict[str, float], metric: str) -> None:
    base = scenario_params("baseline", SMALL | {"vendor_campaign_per_day": 1.0})
    low = run(base, runs=50, days=120, seed=21)[:, :, col(metric)]
    high = run(base.with_changes(**change), runs=50, days=120, seed=21)[:, :, col(metric)]
    diff = high - low
    standard_error = diff.std(axis=0, ddof=1) / np.sqrt(diff.shape[0])
    # 2 standard errors, plus 0.001 for the first days when a handful of payments make the share
    assert np.all(diff.mean(axis=0) >= -2 * standard_error - 0.001)
    assert diff.mean(axis=0).sum() > 0  # and it helps somewhere


def test_9_two_sided_gating() -> None:
    no_vendors = scenario_params(
        "baseline", SMALL | {"p_v": 0.0, "q_v": 0.0, "r_v": 0.0, "vendor_campaign_per_day": 0.0}
    )
    data = run(no_vendors, runs=3, days=120, seed=4)
    assert data[:, -1, col("shoppers_ready_share")].min() > 0.1  # shoppers are ready…
    assert data[:, :, col("qr_tx")].sum() == 0  # …but nobody accepts
    no_shoppers = scenario_params("baseline", SMALL | {"smartphone_share": 0.0})
    data = run(no_shoppers, runs=3, days=120, seed=4)
    assert data[:, -1, col("vendors_accepting_share")].min() > 0.1
    assert data[:, :, col("qr_tx")].sum() == 0


def test_10_accounting() -> None:
    params = scenario_params("baseline", SMALL)
    data = run(params, runs=3, days=150, seed=8)
    shares = [col(m) for m in METRICS if m.endswith("_share")]
    assert data[:, :, shares].min() >= 0
    assert data[:, :, shares].max() <= 1
    assert np.all(data[:, :, col("qr_tx")] <= data[:, :, col("tx")])
    assert np.all(data[:, :, col("qr_value")] <= data[:, :, col("value")] + 1e-6)
    assert np.all(np.diff(data[:, :, col("shoppers_ready_share")], axis=1) >= 0)
    weekly = params.members * params.trainees_per_member_week * (1 + params.student_boost)
    trainings = data[:, 1:, col("trainings")]
    for start in range(0, trainings.shape[1] - 7, 7):
        assert trainings[:, start : start + 7].sum(axis=1).max() <= weekly


def test_11_summer_window_only_acts_inside_it() -> None:
    base = scenario_params("baseline", SMALL)
    without = run(base.with_changes(student_boost=0.0), runs=3, days=100, seed=9)
    with_boost = run(base, runs=3, days=100, seed=9)
    before = base.summer_start_day
    assert np.array_equal(without[:, :before], with_boost[:, :before])
    assert not np.array_equal(without, with_boost)


def test_12_outages() -> None:
    always = run(scenario_params("baseline", SMALL | {"outage_prob": 1.0}), runs=3, days=90, seed=6)
    assert always[:, :, col("qr_tx")].sum() == 0
    never = run(scenario_params("baseline", SMALL | {"outage_prob": 0.0}), runs=3, days=90, seed=6)
    assert never[:, :, col("qr_tx")].sum() > 0


def test_13_a_temporary_blitz_persists_only_with_complementarities() -> None:
    common = SMALL | {
        "members": 0,
        "student_boost": 0.0,
        "vendor_campaign_per_day": 0.0,
        "p_v": 0.0,
        "p_s": 0.0005,
        "lapse_prob": 0.05,
        "lapse_days": 14,  # wallets lapse when unused
    }
    blitz = {"blitz_start_day": 10, "blitz_end_day": 40, "blitz_members": 150}
    ready = col("shoppers_ready_share")
    gains = {}
    for name, links in {
        "strong": {"q_v": 0.05, "r_v": 0.5, "ask_propensity": 0.5, "q_s": 0.05},
        "none": {"q_v": 0.0, "r_v": 0.0, "q_s": 0.0},
    }.items():
        base = scenario_params("baseline", common | links)
        without = run(base, runs=20, days=200, seed=5)[:, :, ready].mean(axis=0)
        with_blitz = run(base.with_changes(**blitz), runs=20, days=200, seed=5)[:, :, ready].mean(
            axis=0
        )
        gains[name] = with_blitz - without
    assert gains["strong"][41] > 0.1
    assert gains["none"][41] > 0.1
    assert gains["strong"][200] > 0.15  # and lasts when vendors and neighbours respond
    assert gains["none"][200] < 0.03  # but fades when nothing holds it up


def test_14_honest_bands_at_small_n() -> None:
    data = run(bass(0.03, 0.38, 300), runs=300, days=25, seed=14)[:, :, col("shoppers_ready_share")]
    width = np.max(np.percentile(data, 95, axis=0) - np.percentile(data, 5, axis=0))
    assert 0.15 <= width <= 0.26


def test_headline_table() -> None:
    data = run(scenario_params("baseline", SMALL), runs=5, days=200, seed=1)
    table = headline(data)
    qr = table["qr_tx_share"]
    assert set(qr) >= {"share_6m", "days_to_10", "days_to_50", "days_to_90"}
    assert qr["share_6m"]["p5"] <= qr["share_6m"]["median"] <= qr["share_6m"]["p95"]


def test_cli_run_writes_tidy_csv_summary_and_charts(tmp_path: Path) -> None:
    out = tmp_path / "sim"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "simulate",
            "run",
            "--scenario",
            "fee_1pct",
            "--param",
            "n_shoppers=800",
            "--param",
            "n_vendors=60",
            "--runs",
            "3",
            "--days",
            "40",
            "--seed",
            "5",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with (out / "runs.csv").open(encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["scenario", "run", "day", "metric", "value"]
    metrics = {row[3] for row in rows[1:]}
    assert {
        "shoppers_ready_share",
        "vendors_accepting_share",
        "qr_tx_share",
        "qr_value_share",
    } <= metrics
    assert len(rows) - 1 == 3 * 41 * len(METRICS)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 5
    assert summary["scenarios"]["fee_1pct"]["parameters"]["fee_rate"] == 0.01
    for name in ("qr_tx_share.png", "qr_tx_share.svg", "vendors_accepting_share.png"):
        assert (out / name).stat().st_size > 1000
    bad = subprocess.run(
        [sys.executable, "-m", "api", "simulate", "run", "--scenario", "nope", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    listed = subprocess.run(
        [sys.executable, "-m", "api", "simulate", "scenarios", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "bass" in json.loads(listed.stdout)["scenarios"]


def test_a_seeded_run_is_reproducible_bit_for_bit() -> None:
    params = scenario_params("baseline", SMALL)
    first = simulate(params, 30, np.random.default_rng(np.random.SeedSequence(3)))
    second = simulate(params, 30, np.random.default_rng(np.random.SeedSequence(3)))
    assert first.tobytes() == second.tobytes()


def test_calibration_recovers_a_known_parameter() -> None:
    from simulator.calibrate import calibrate

    truth = scenario_params("baseline", SMALL | {"trainees_per_member_week": 1.5})
    data = run(truth, runs=6, days=120, seed=31)
    observed = [
        (day, "shoppers_ready_share", float(data[:, day, col("shoppers_ready_share")].mean()))
        for day in (40, 80, 120)
    ]
    fit = calibrate(
        scenario_params("baseline", SMALL),
        observed=observed,
        ranges={"trainees_per_member_week": (0.5, 2.5)},
        grid=5,
        runs=4,
        seed=2,
    )
    accepted = [point["trainees_per_member_week"] for point in fit.accepted]
    assert min(accepted) <= 1.5 <= max(accepted)
    assert abs(fit.best["trainees_per_member_week"] - 1.5) <= 0.5
    assert fit.rmse < 0.03
    assert fit.as_dict()["residuals"][0]["day"] == 40


def test_calibrate_command_reads_observed_points(tmp_path: Path) -> None:
    observed = tmp_path / "observed.csv"
    observed.write_text("day,metric,value\n30,vendors_accepting_share,0.7\n", encoding="utf-8")
    out = tmp_path / "cal"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "simulate",
            "calibrate",
            "--observed",
            str(observed),
            "--fit",
            "vendor_campaign_per_day=2:12",
            "--param",
            "n_shoppers=600",
            "--param",
            "n_vendors=80",
            "--grid",
            "3",
            "--runs",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "calibration.json").read_text(encoding="utf-8"))
    assert "vendor_campaign_per_day" in report["fitted"]
    bad = tmp_path / "bad.csv"
    bad.write_text("day,metric,value\n30,nonsense,0.7\n", encoding="utf-8")
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "api",
            "simulate",
            "calibrate",
            "--observed",
            str(bad),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 2
