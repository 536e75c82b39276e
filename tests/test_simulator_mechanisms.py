"""Each mechanism of the engine pinned by a test that fails when the mechanism is removed,
shifted by a day or reversed; common random numbers across different parameters."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest

from simulator.model import METRICS, _world, simulate
from simulator.params import scenario_params
from simulator.runs import run

SMALL = {"n_shoppers": 1500, "n_vendors": 120, "n_villages": 12}
QUIET = {"p_s": 0.0, "q_s": 0.0, "members": 0, "student_boost": 0.0, "p_v": 0.0, "q_v": 0.0}


def col(metric: str) -> int:
    return METRICS.index(metric)


def one(overrides: Mapping[str, object], days: int, seed: int = 1) -> np.ndarray:
    params = scenario_params("baseline", {**SMALL, **overrides})
    return simulate(params, days, np.random.default_rng(seed))


def test_readiness_today_reaches_the_market_only_tomorrow() -> None:
    # everybody able becomes ready on day 1 and every stall the campaign reaches accepts that day
    data = one(
        QUIET
        | {
            "p_s": 1.0,
            "smartphone_share": 1.0,
            "account_share": 1.0,
            "vendor_campaign_per_day": 120.0,
            "vendor_phone_share": 1.0,
            "campaign_efficacy": 1.0,
            "outage_prob": 0.0,
        },
        days=3,
    )
    assert data[1, col("shoppers_ready_share")] == 1.0
    assert data[1, col("vendors_accepting_share")] == 1.0
    assert data[1, col("qr_tx")] == 0  # yesterday nobody was ready and nobody accepted
    assert data[2, col("qr_tx")] > 0


def test_the_town_is_village_zero_and_word_of_mouth_spreads() -> None:
    params = scenario_params(
        "baseline",
        QUIET
        | {
            "n_shoppers": 4000,
            "n_villages": 2,
            "town_share": 0.5,
            "q_s": 0.3,
            "visit_town": 0.0,
            "visit_village": 0.0,
        },
    )
    world = _world(params, np.random.default_rng(0), np.random.default_rng(1))
    assert set(np.unique(world.village)) == {0, 1}
    # the town is village 0 and only the town: with no town, nobody lives in village 0
    no_town = _world(
        params.with_changes(town_share=0.0), np.random.default_rng(0), np.random.default_rng(1)
    )
    assert np.all(no_town.village == 1)
    # seeds everywhere spread; with q = 0 they do not
    seeded = run(params.with_changes(seed_share=0.05), runs=4, days=30, seed=3)
    flat = run(params.with_changes(seed_share=0.05, q_s=0.0), runs=4, days=30, seed=3)
    ready = col("shoppers_ready_share")
    assert np.all(flat[:, :, ready] == flat[:, :1, ready])
    assert np.all(seeded[:, -1, ready] > 5 * seeded[:, 0, ready])


def test_village_word_of_mouth_reads_yesterdays_share_exactly() -> None:
    # one village, p = 0: the expected new share on day 1 is (1 − f0)·q·f0 among the able
    f0, q = 0.1, 0.5
    params = scenario_params(
        "baseline",
        QUIET
        | {
            "n_shoppers": 100_000,
            "n_villages": 3,
            "town_share": 0.0,
            "smartphone_share": 1.0,
            "account_share": 1.0,
            "seed_share": f0,
            "q_s": q,
            "visit_town": 0.0,
            "visit_village": 0.0,
        },
    )
    data = run(params, runs=10, days=1, seed=5)[:, :, col("shoppers_ready_share")]
    gained = data[:, 1] - data[:, 0]
    expected = (1 - data[:, 0]) * q * data[:, 0]
    assert np.abs(gained - expected).max() < 0.004


def test_threshold_counts_ready_contacts_in_the_village() -> None:
    base = QUIET | {
        "n_villages": 5,
        "seed_share": 0.2,
        "q_s": 0.5,
        "contacts": 5,
        "smartphone_share": 1.0,
        "account_share": 1.0,
    }
    ready = col("shoppers_ready_share")
    impossible = one(base | {"threshold": 6}, days=20)  # more than one's contacts
    assert impossible[-1, ready] == impossible[0, ready]
    easy = one(base | {"threshold": 1}, days=20)[:, ready]
    hard = one(base | {"threshold": 3}, days=20)[:, ready]
    assert easy[-1] > hard[-1] > hard[0]


def test_training_capacity_carries_fractions_instead_of_rounding_up() -> None:
    # 5 members × 0.5 a week = 2.5 trainings a week: 25 in 70 days, never 70 / 7 × 3 = 30
    data = one(QUIET | {"members": 5, "trainees_per_member_week": 0.5}, days=70)
    trainings = data[1:, col("trainings")]
    assert trainings.sum() == 25
    assert set(np.unique(trainings)) == {0.0, 1.0}


def test_the_vendor_campaign_is_a_capacity_of_stalls_a_day() -> None:
    data = one(QUIET | {"vendor_campaign_per_day": 2.5, "vendor_campaign_days": 20}, days=30)
    visits = data[1:, col("vendor_visits")]
    assert visits[:20].sum() == 50  # 2.5 a day for 20 days, fractions carried
    assert visits[20:].sum() == 0
    full = one(QUIET | {"vendor_campaign_per_day": 8.0, "vendor_campaign_days": 45}, days=50)
    assert full[1:, col("vendor_visits")].sum() == 120  # every stall once, then nobody left


def test_vendors_need_a_phone_and_an_account() -> None:
    no_phone = one({"vendor_phone_share": 0.0}, days=90)
    assert no_phone[:, col("vendors_accepting_share")].max() == 0
    no_account = one({"vendor_account_share": 0.0, "vendor_campaign_per_day": 0.0}, days=90)
    assert no_account[:, col("vendors_accepting_share")].max() == 0
    campaign = one({"vendor_account_share": 0.0}, days=90)
    assert campaign[-1, col("vendors_accepting_share")] > 0.5  # the campaign opens accounts


def test_qr_payments_are_the_larger_tickets() -> None:
    data = run(scenario_params("baseline", SMALL), runs=3, days=200, seed=2)
    qr_ticket = data[:, :, col("qr_value")].sum() / data[:, :, col("qr_tx")].sum()
    ticket = data[:, :, col("value")].sum() / data[:, :, col("tx")].sum()
    assert qr_ticket > 1.5 * ticket
    assert data[:, -1, col("qr_value_share")].mean() > data[:, -1, col("qr_tx_share")].mean()


def test_tet_brings_more_visits_and_bigger_tickets_every_year() -> None:
    overrides = {
        "visit_town": 0.5,
        "visit_village": 0.5,
        "tet_visit_boost": 1.0,
        "tet_start_day_of_year": 20,
        "tet_days": 10,
        "start_day_of_year": 0,
    }
    data = one(overrides, days=2 * 365)
    everyone = SMALL["n_shoppers"] * 2  # every shopper visits, two purchases each
    tet = np.zeros(2 * 365 + 1, dtype=bool)
    for year in (0, 1):
        tet[1 + 20 + 365 * year : 1 + 30 + 365 * year] = True
    assert np.all(data[tet, col("tx")] == everyone)
    assert np.all(data[1:][~tet[1:], col("tx")] < everyone)
    base = one(overrides | {"tet_ticket_boost": 0.0}, days=40)
    assert data[25, col("value")] == pytest.approx(1.5 * base[25, col("value")])
    assert data[19, col("value")] == base[19, col("value")]


def test_fees_are_weighed_against_the_benefit_of_receipts() -> None:
    free = run(scenario_params("baseline", SMALL), runs=3, days=150, seed=7)
    worth_it = scenario_params("baseline", SMALL | {"fee_rate": 0.01, "receipt_benefit": 1e6})
    assert np.array_equal(run(worth_it, runs=3, days=150, seed=7), free)
    costly = scenario_params("baseline", SMALL | {"fee_rate": 0.05, "receipt_benefit": 0.0})
    dropped = run(costly, runs=3, days=150, seed=7)[:, -1, col("vendors_accepting_share")]
    assert np.all(dropped < free[:, -1, col("vendors_accepting_share")] - 0.05)


def test_idle_vendors_remove_their_code_after_the_idle_window() -> None:
    data = one(
        QUIET
        | {
            "smartphone_share": 0.0,  # no receipts ever
            "vendor_campaign_per_day": 120.0,
            "vendor_phone_share": 1.0,
            "campaign_efficacy": 1.0,
            "inactive_days": 10,
            "inactive_drop": 1.0,
        },
        days=15,
    )
    accepting = data[:, col("vendors_accepting_share")]
    assert np.all(accepting[1:12] == 1.0)  # joined on day 1, idle for 10 days is still allowed
    assert accepting[12] == 0.0


def test_habit_is_lost_after_failed_attempts() -> None:
    base = {"outage_prob": 0.3, "habit_gain": 0.0}
    kept = run(
        scenario_params("baseline", SMALL | base | {"habit_loss": 0.0}), runs=6, days=150, seed=3
    )
    lost = run(
        scenario_params("baseline", SMALL | base | {"habit_loss": 0.5}), runs=6, days=150, seed=3
    )
    share = col("qr_tx_share")
    assert lost[:, -60:, share].mean() < 0.8 * kept[:, -60:, share].mean()


@pytest.mark.slow
def test_paired_differences_are_tighter_than_unpaired_with_different_parameters() -> None:
    base = scenario_params("baseline", SMALL)
    more = base.with_changes(members=200)
    a = run(base, runs=30, days=120, seed=4)[:, -1, col("qr_tx_share")]
    paired = run(more, runs=30, days=120, seed=4)[:, -1, col("qr_tx_share")]
    unpaired = run(more, runs=30, days=120, seed=5)[:, -1, col("qr_tx_share")]
    assert np.var(paired - a) < 0.5 * np.var(unpaired - a)


def test_a_vendor_only_change_leaves_shopper_readiness_untouched() -> None:
    base = scenario_params("baseline", SMALL)
    other = base.with_changes(vendor_campaign_per_day=3.0, fee_rate=0.02, outage_prob=0.2)
    ready = col("shoppers_ready_share")
    a = run(base, runs=3, days=120, seed=6)
    b = run(other, runs=3, days=120, seed=6)
    assert np.array_equal(a[:, :, ready], b[:, :, ready])
    assert not np.array_equal(a, b)


def test_tet_raises_the_visit_rate_by_its_boost() -> None:
    overrides = {
        "visit_town": 0.4,
        "visit_village": 0.4,
        "tet_visit_boost": 0.5,
        "tet_start_day_of_year": 20,
        "tet_days": 10,
        "start_day_of_year": 0,
        "n_shoppers": 5000,
    }
    data = one(overrides, days=40)
    inside = data[21:31, col("tx")].mean()
    outside = data[1:21, col("tx")].mean()
    assert inside / outside == pytest.approx(1.5, rel=0.05)


def test_each_purchase_draws_its_own_choice_and_ticket() -> None:
    # one draw shared by every purchase of a day would make daily totals jump, not hover
    data = one({"n_shoppers": 6000, "outage_prob": 0.0}, days=120)
    for metric in ("qr_tx", "value"):
        daily = data[90:121, col(metric)]
        assert daily.std() < 0.35 * daily.mean(), metric


def test_the_mean_purchase_is_the_mean_ticket() -> None:
    flat = {"ticket_by_category": (1.0,) * 6, "tet_days": 0, "n_shoppers": 6000}
    data = run(scenario_params("baseline", SMALL | flat), runs=2, days=30, seed=8)
    mean = data[:, 1:, col("value")].sum() / data[:, 1:, col("tx")].sum()
    assert mean == pytest.approx(120_000, rel=0.03)


@pytest.mark.parametrize("tet_days", [0, 1])
def test_tet_lasts_exactly_its_days(tet_days: int) -> None:
    overrides = {
        "visit_town": 0.5,
        "visit_village": 0.5,
        "tet_visit_boost": 1.0,
        "tet_start_day_of_year": 20,
        "tet_days": tet_days,
        "start_day_of_year": 0,
    }
    data = one(overrides, days=40)
    everyone = SMALL["n_shoppers"] * 2
    assert int((data[1:, col("tx")] == everyone).sum()) == tet_days


def test_stalls_are_picked_exactly_by_popularity() -> None:
    from simulator.model import _stalls

    params = scenario_params("baseline", SMALL)
    world = _world(params, np.random.default_rng(2), np.random.default_rng(3))
    u = np.concatenate([np.random.default_rng(4).random(200_000), [0.0, 1 - 1e-12]])
    assert np.array_equal(_stalls(world, u), np.searchsorted(world.popularity_cdf, u))
    assert _stalls(world, u).max() == params.n_vendors - 1  # the last stall too
