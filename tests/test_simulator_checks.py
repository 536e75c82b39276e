"""The fourteen validation checks of the model (README "Adoption simulator"), every one run through
the one engine, `simulate()` (the Bass reduction is a parameter setting, `BASS`)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.model import METRICS, bass_closed_form, bass_recursion, simulate
from simulator.params import Params, scenario_params
from simulator.runs import run

SMALL = {"n_shoppers": 1500, "n_vendors": 120, "n_villages": 12}


def col(metric: str) -> int:
    return METRICS.index(metric)


def bass(p: float, q: float, n: int, **extra: object) -> Params:
    """The Bass reduction with per-step rates p and q (the tests' curves are in steps)."""
    return scenario_params("bass", {"p_s": p, "q_s": q, "n_shoppers": n, "n_vendors": 1} | extra)


def ready_mean(params: Params, runs: int, days: int, seed: int) -> np.ndarray:
    return run(params, runs=runs, days=days, seed=seed)[:, :, col("shoppers_ready_share")].mean(0)


@pytest.mark.slow
@pytest.mark.parametrize(("p", "q"), [(0.03, 0.38), (0.005, 0.15)])
def test_1_bass_reduction_within_0005_of_the_recursion(p: float, q: float) -> None:
    days = 60
    mean = ready_mean(bass(p, q, 100_000), runs=20, days=days, seed=7)
    assert np.max(np.abs(mean - bass_recursion(p, q, days))) < 0.005


def test_1_the_bass_scenario_is_the_full_engine_with_yearly_rates_per_day() -> None:
    params = scenario_params("bass")
    assert params.p_s == pytest.approx(0.03 / 365)
    assert params.q_s == pytest.approx(0.38 / 365)
    data = run(params.with_changes(n_shoppers=50_000, n_vendors=1), runs=2, days=365, seed=1)
    after_a_year = data[:, -1, col("shoppers_ready_share")].mean()
    # one year of Bass at p = 0.03, q = 0.38 per year: about 3.6 % adopted, not everyone
    assert after_a_year == pytest.approx(bass_recursion(0.03 / 365, 0.38 / 365, 365)[-1], abs=0.003)


@pytest.mark.slow
def test_2_time_step_convergence_to_the_continuous_curve() -> None:
    # 20 runs: with fewer, Monte Carlo noise alone (≈ 0.002 at the steepest day) breaks 0.002
    p, q, days = 0.03, 0.38, 15
    mean = ready_mean(bass(p, q, 100_000, substeps=100), runs=20, days=days, seed=2)
    continuous = bass_closed_form(p, q, np.arange(days + 1, dtype=float))
    assert np.max(np.abs(mean - continuous)) < 0.002
    daily = ready_mean(bass(p, q, 100_000), runs=6, days=days, seed=2)
    assert np.max(np.abs(daily - continuous)) > 0.03  # one step a day is a different curve


def test_3_nothing_from_nothing() -> None:
    params = scenario_params(
        "baseline",
        SMALL
        | {
            "p_s": 0.0,
            "members": 0,
            "student_boost": 0.0,
            "p_v": 0.0,
            "vendor_campaign_per_day": 0.0,
            "seed_share": 0.0,
        },
    )
    data = run(params, runs=3, days=120, seed=1)
    assert data[:, :, col("shoppers_ready_share")].max() == 0
    assert data[:, :, col("qr_tx")].sum() == 0
    assert data[:, :, col("vendors_accepting_share")].max() == 0
    assert data[:, 1:, col("tx")].sum() > 0  # the market still trades, in cash


@pytest.mark.slow
def test_4_pure_innovation() -> None:
    p, days = 0.02, 80
    mean = ready_mean(bass(p, 0.0, 100_000), runs=20, days=days, seed=3)
    assert np.max(np.abs(mean - (1 - (1 - p) ** np.arange(days + 1)))) < 0.005


@pytest.mark.slow
def test_5_seeded_logistic() -> None:
    days, f0, q = 60, 0.02, 0.2
    mean = ready_mean(bass(0.0, q, 100_000, seed_share=f0), runs=20, days=days, seed=5)
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
    same = base.with_changes(fee_rate=0.0)
    assert np.array_equal(run(base, runs=3, days=90, seed=2), run(same, runs=3, days=90, seed=2))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "metric"),
    [
        ({"members": 30}, "shoppers_ready_share"),
        ({"members": 30}, "qr_tx_share"),
        ({"smartphone_share": 0.9}, "qr_tx_share"),
        ({"outage_prob": 0.0}, "qr_tx_share"),
        ({"ask_propensity": 0.9}, "vendors_accepting_share"),
        ({"cash_pref_mean": 0.1}, "qr_tx_share"),
        ({"habit_gain": 0.3}, "qr_tx_share"),
        ({"q_v": 0.05}, "vendors_accepting_share"),
        ({"vendor_campaign_per_day": 4.0}, "vendors_accepting_share"),
    ],
)
def test_8_monotone_responses(change: dict[str, float], metric: str) -> None:
    start = {
        "vendor_campaign_per_day": 1.0,
        "members": 10,
        "outage_prob": 0.1,
        "cash_pref_mean": 0.6,
        "habit_start": 0.4,
    }
    base = scenario_params("baseline", SMALL | start)
    low = run(base, runs=50, days=120, seed=21)[:, :, col(metric)]
    high = run(base.with_changes(**change), runs=50, days=120, seed=21)[:, :, col(metric)]
    diff = high - low
    standard_error = diff.std(axis=0, ddof=1) / np.sqrt(diff.shape[0])
    # 2 standard errors, plus 0.001 for the first days when a handful of payments make the share
    assert np.all(diff.mean(axis=0) >= -2 * standard_error - 0.001)
    late = diff[:, -60:].mean(axis=1)  # and it helps: over the last 60 days, per paired run
    assert late.mean() > 2 * late.std(ddof=1) / np.sqrt(len(late))


@pytest.mark.slow
def test_8_a_fee_lowers_acceptance() -> None:
    base = scenario_params("baseline", SMALL | {"receipt_benefit": 500.0})
    free = run(base, runs=20, days=180, seed=4)[:, :, col("vendors_accepting_share")]
    fee = run(base.with_changes(fee_rate=0.02), runs=20, days=180, seed=4)
    assert np.all(fee[:, :, col("vendors_accepting_share")] <= free)
    assert fee[:, -1, col("vendors_accepting_share")].mean() < free[:, -1].mean() - 0.05


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
    params = scenario_params("baseline", SMALL | {"members": 13, "trainees_per_member_week": 0.5})
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
        assert trainings[:, start : start + 7].sum(axis=1).max() <= np.ceil(weekly)


@pytest.mark.slow
def test_11_summer_window_only_acts_inside_it_every_year() -> None:
    # one training a day, two in the school summer; nobody becomes ready otherwise
    quiet = {"p_s": 0.0, "q_s": 0.0, "members": 7, "trainees_per_member_week": 1.0}
    base = scenario_params("baseline", SMALL | quiet | {"n_shoppers": 5000})
    days = 2 * 365
    without = run(base.with_changes(student_boost=0.0), runs=2, days=days, seed=9)
    with_boost = run(base, runs=2, days=days, seed=9)
    first = base.summer_start_day_of_year - base.start_day_of_year + 1  # first summer day
    length = base.summer_end_day_of_year - base.summer_start_day_of_year + 1
    assert np.array_equal(without[:, :first], with_boost[:, :first])
    assert not np.array_equal(without[:, : first + 1], with_boost[:, : first + 1])
    summer = np.zeros(days + 1, dtype=bool)
    for year in (0, 1):
        summer[first + 365 * year : first + 365 * year + length] = True
    expected = np.where(summer, 2.0, 1.0)
    expected[0] = 0
    assert np.array_equal(with_boost[0, :, col("trainings")], expected)
    assert np.array_equal(without[0, 1:, col("trainings")], np.ones(days))


def test_12_outages() -> None:
    always = run(scenario_params("baseline", SMALL | {"outage_prob": 1.0}), runs=3, days=90, seed=6)
    assert always[:, :, col("qr_tx")].sum() == 0
    never = run(scenario_params("baseline", SMALL | {"outage_prob": 0.0}), runs=3, days=90, seed=6)
    assert never[:, :, col("qr_tx")].sum() > 0


@pytest.mark.slow
def test_13_a_temporary_blitz_persists_only_with_complementarities() -> None:
    common = SMALL | {
        "members": 0,
        "student_boost": 0.0,
        "p_s": 0.0005,
        "lapse_prob": 0.05,
        "lapse_days": 14,  # wallets lapse when unused
        "inactive_days": 20,
        "inactive_drop": 0.05,  # and idle codes come down
    }
    blitz = {"blitz_start_day": 10, "blitz_end_day": 40, "blitz_members": 150}
    ready = col("shoppers_ready_share")
    gains = {}
    for name, links in {
        "strong": {"q_v": 0.05, "r_v": 0.5, "ask_propensity": 0.5, "q_s": 0.05},
        "none": {"q_v": 0.0, "r_v": 0.0, "q_s": 0.0},
    }.items():
        base = scenario_params("baseline", common | links)
        without = run(base, runs=20, days=200, seed=5)
        with_blitz = run(base.with_changes(**blitz), runs=20, days=200, seed=5)
        # the control arm too has vendors able to accept (the campaign), so QR is possible in it
        assert without[:, 30, col("vendors_accepting_share")].mean() > 0.5
        gains[name] = with_blitz[:, :, ready].mean(axis=0) - without[:, :, ready].mean(axis=0)
    assert gains["strong"][41] > 0.1
    assert gains["none"][41] > 0.1
    assert gains["strong"][200] > 0.08  # and lasts when vendors and neighbours respond
    assert gains["none"][200] < 0.03  # but fades when nothing holds it up


def test_14_honest_bands_at_small_n() -> None:
    data = run(bass(0.03, 0.38, 300), runs=300, days=25, seed=14)[:, :, col("shoppers_ready_share")]
    width = np.max(np.percentile(data, 95, axis=0) - np.percentile(data, 5, axis=0))
    assert 0.15 <= width <= 0.26


def test_a_seeded_run_is_reproducible_bit_for_bit() -> None:
    params = scenario_params("baseline", SMALL)
    first = simulate(params, 30, np.random.default_rng(np.random.SeedSequence(3)))
    second = simulate(params, 30, np.random.default_rng(np.random.SeedSequence(3)))
    assert first.tobytes() == second.tobytes()
