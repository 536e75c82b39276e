"""The adoption model, vectorised: shoppers and vendors are rows of numpy arrays, one day is one
synchronous step (every decision reads yesterday's state), and all randomness of a replication
comes from one `numpy.random.Generator`. Random draws have fixed shapes whatever the state, so
scenarios run on the same seed share their random numbers (common random numbers).

Mechanisms (../shared/reference/simulator.md §3.2): shopper readiness by Bass innovation, word of
mouth within the village (optionally a threshold) and the community teams' training capacity
with a summer student boost; vendor acceptance by organic uptake, imitation within the goods
category, the share of customers asking to pay by QR, and a staff campaign; a QR payment only
where the shopper is ready, the vendor accepts and the network is up, then chosen by habit;
habit learning and loss; outages; fees and inactivity driving vendors to stop accepting.
With `bass_only` everything but readiness under full mixing is off, and the mean follows the
discrete Bass recursion F' = F + (1 − F)(p + qF)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.params import Params

METRICS = (
    "shoppers_ready_share",
    "vendors_accepting_share",
    "qr_tx_share",
    "qr_value_share",
    "qr_tx",
    "tx",
    "qr_value",
    "value",
    "trainings",
    "vendors_active_share",
)
N_CATEGORIES = 6
WEEK = 7


@dataclass
class State:
    ready: NDArray[np.bool_]
    habit: NDArray[np.float64]
    accepts: NDArray[np.bool_]
    last_qr_day: NDArray[np.int64]  # last QR receipt, or the day the vendor started accepting
    last_receipt: NDArray[np.int64]  # last QR receipt only
    asks: NDArray[np.float64]  # exponentially smoothed share of purchases asking for QR
    purchases: NDArray[np.float64]


def _population(
    params: Params, rng: np.random.Generator
) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64], NDArray[np.int64]]:
    """Villages, smartphones and visit probabilities of shoppers; categories of vendors."""
    n = params.n_shoppers
    village = rng.integers(0, params.n_villages, size=n)
    town = rng.random(n) < params.town_share
    village = np.where(town, 0, village)  # village 0 is the town
    phone = rng.random(n) < params.smartphone_share
    visit = np.where(town, params.visit_town, params.visit_village)
    category = rng.integers(0, N_CATEGORIES, size=params.n_vendors)
    return village, phone, visit, category


def simulate(params: Params, days: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """One replication: an array (days + 1, len(METRICS)), row 0 being the starting state."""
    if params.bass_only:
        return _bass(params, days, rng)
    n, m = params.n_shoppers, params.n_vendors
    village, phone, visit, category = _population(params, rng)
    account = rng.random(n) < params.account_share
    ticket_scale = np.asarray(params.ticket_by_category, dtype=float)
    ticket_scale = ticket_scale / ticket_scale.mean()
    last_use = np.zeros(n, dtype=np.int64)
    village_size = np.bincount(village, minlength=params.n_villages).astype(float)
    category_size = np.bincount(category, minlength=N_CATEGORIES).astype(float)
    state = State(
        ready=(rng.random(n) < params.seed_share) & phone,
        habit=np.full(n, params.habit_start),
        accepts=np.zeros(m, dtype=bool),
        last_qr_day=np.full(m, -1, dtype=np.int64),
        last_receipt=np.full(m, -(10**6), dtype=np.int64),
        asks=np.zeros(m),
        purchases=np.zeros(m),
    )
    out = np.zeros((days + 1, len(METRICS)))
    out[0, 0] = state.ready.mean()
    k = params.purchases_per_visit
    for day in range(1, days + 1):
        # --- draws with fixed shapes (common random numbers across scenarios) ---
        u_ready = rng.random(n)
        u_train = rng.random(n)
        u_visit = rng.random(n)
        vendor_pick = rng.integers(0, m, size=(n, k))
        u_use = rng.random((n, k))
        u_ask = rng.random((n, k))
        tickets = rng.lognormal(
            np.log(params.ticket_mean) - params.ticket_sigma**2 / 2,
            params.ticket_sigma,
            size=(n, k),
        )
        outage = rng.random() < params.outage_prob
        u_vendor = rng.random(m)
        u_campaign = rng.random(m)
        u_drop = rng.random(m)

        ready0, accepts0 = state.ready.copy(), state.accepts.copy()
        # --- shoppers: Bass + word of mouth within the village + training ---
        village_ready = np.bincount(village, weights=ready0, minlength=params.n_villages)
        local = village_ready[village] / np.maximum(village_size[village], 1)
        if params.threshold > 0:
            influence = (village_ready[village] >= params.threshold).astype(float)
        else:
            influence = local
        hazard = params.p_s + params.q_s * influence
        newly = (~ready0) & phone & account & (u_ready < hazard)
        summer = params.summer_start_day <= day <= params.summer_end_day
        blitz = params.blitz_start_day <= day <= params.blitz_end_day
        members = params.members + (params.blitz_members if blitz else 0)
        weekly = (
            members
            * params.trainees_per_member_week
            * (1 + (params.student_boost if summer else 0.0))
        )
        capacity = int(weekly // WEEK + (1 if (day % WEEK) < (weekly % WEEK) else 0))
        trained = 0
        if capacity > 0:
            eligible = (~ready0) & phone & ~newly
            # market-goers first: priority = visit probability × a random tie-break
            priority = np.where(eligible, visit * u_train, -1.0)
            chosen = np.argpartition(-priority, min(capacity, n - 1))[:capacity]
            chosen = chosen[priority[chosen] >= 0]
            trained = len(chosen)
            success = u_ready[chosen] < params.training_efficacy + hazard[chosen]
            newly[chosen[success]] = True
            account[chosen[success]] = True  # training opens an account
        # --- market day: visits and purchases ---
        visiting = u_visit < visit
        ready_buyer = (ready0 & visiting)[:, None]
        accepts_vendor = accepts0[vendor_pick]
        possible = ready_buyer & accepts_vendor & (not outage)
        qr = possible & (u_use < state.habit[:, None])
        failed = ready_buyer & accepts_vendor & outage & (u_use < state.habit[:, None])
        asked = ready_buyer & ~accepts_vendor & (u_ask < params.ask_propensity)
        bought = np.broadcast_to(visiting[:, None], (n, k))
        values = np.where(bought, tickets * ticket_scale[category[vendor_pick]], 0.0)
        tx = int(bought.sum())
        qr_tx = int(qr.sum())
        value = float(values.sum())
        qr_value = float(values[qr].sum())
        # --- habit ---
        successes = qr.sum(axis=1)
        failures = failed.sum(axis=1)
        habit = state.habit
        habit = habit + params.habit_gain * (1 - habit) * (successes > 0)
        habit = habit - params.habit_loss * habit * (failures > 0)
        state.habit = np.clip(habit, 0.0, 1.0)
        # --- vendors: organic, imitation, customers asking, staff campaign ---
        per_vendor_purchases = np.bincount(vendor_pick[bought], minlength=m).astype(float)
        per_vendor_asks = np.bincount(vendor_pick[asked], minlength=m).astype(float)
        state.purchases = 0.9 * state.purchases + per_vendor_purchases
        state.asks = 0.9 * state.asks + per_vendor_asks
        ask_share = state.asks / np.maximum(state.purchases, 1.0)
        category_accepting = np.bincount(category, weights=accepts0, minlength=N_CATEGORIES)
        imitation = category_accepting[category] / np.maximum(category_size[category], 1)
        v_hazard = params.p_v + params.q_v * imitation + params.r_v * ask_share
        joins = (~accepts0) & (u_vendor < v_hazard)
        if day <= params.vendor_campaign_days and params.vendor_campaign_per_day > 0:
            share = params.vendor_campaign_per_day / max(m, 1)
            joins |= (~accepts0) & (u_campaign < share)
        receivers = np.bincount(vendor_pick[qr], minlength=m) > 0
        state.last_qr_day = np.where(receivers, day, state.last_qr_day)
        state.last_receipt = np.where(receivers, day, state.last_receipt)
        idle = accepts0 & (day - np.maximum(state.last_qr_day, 0) > params.inactive_days)
        drop_hazard = params.inactive_drop * idle + params.fee_sensitivity * params.fee_rate
        drops = accepts0 & (u_drop < drop_hazard)
        state.accepts = (accepts0 | joins) & ~drops
        state.last_qr_day = np.where(joins, day, state.last_qr_day)
        last_use = np.where(successes > 0, day, np.where(newly, day, last_use))
        lapsing = ready0 & (day - last_use > params.lapse_days) & (u_train < params.lapse_prob)
        state.ready = (ready0 & ~lapsing) | newly
        active = state.accepts & (day - state.last_receipt <= WEEK)
        out[day] = (
            state.ready.mean(),
            state.accepts.mean(),
            qr_tx / tx if tx else 0.0,
            qr_value / value if value else 0.0,
            qr_tx,
            tx,
            qr_value,
            value,
            trained,
            active.mean(),
        )
    return out


def _bass(params: Params, days: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """The pure Bass reduction: full mixing, synchronous update, one draw per agent per day."""
    n = params.n_shoppers
    ready = rng.random(n) < params.seed_share
    out = np.zeros((days + 1, len(METRICS)))
    out[0, 0] = ready.mean()
    steps = max(params.substeps, 1)
    p, q = params.p_s / steps, params.q_s / steps
    for day in range(1, days + 1):
        for _ in range(steps):
            share = ready.mean()
            ready = ready | (rng.random(n) < p + q * share)
        out[day, 0] = ready.mean()
    return out


def bass_closed_form(p: float, q: float, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """The continuous Bass curve F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)·e^{−(p+q)t})."""
    decay = np.exp(-(p + q) * t)
    result: NDArray[np.float64] = (1 - decay) / (1 + (q / p) * decay)
    return result


def bass_recursion(p: float, q: float, days: int, f0: float = 0.0) -> NDArray[np.float64]:
    """F_{t+1} = F_t + (1 − F_t)(p + q F_t): the exact one-step expectation of `_bass`."""
    f = np.zeros(days + 1)
    f[0] = f0
    for t in range(days):
        f[t + 1] = f[t] + (1 - f[t]) * (p + q * f[t])
    return f
