"""The adoption model, vectorised: shoppers and vendors are rows of numpy arrays, one day is one
synchronous step (every decision reads yesterday's state), and a replication's randomness comes
from one `numpy.random.Generator`, split into one stream per mechanism. Within a stream the draws
have shapes fixed by the parameters, never by the state, so scenarios run on the same seed share
their random numbers (common random numbers), and switching a mechanism off leaves the others'
numbers untouched.

Mechanisms (README "Adoption simulator" gives each one's published source):
- readiness: Bass innovation `p_s`, word of mouth within the village `q_s` (or a threshold of
  ready contacts) and the community teams' training capacity (carried fractions, a yearly
  school-summer boost, an optional blitz), market-goers trained first;
- the market: visits (more before Tết, every year), purchases at stalls weighted by popularity,
  a QR payment only where the shopper is ready, the vendor accepts and the network is up, chosen
  by habit, cash preference and ticket size; ready shoppers ask non-accepting vendors;
- vendors (with or without a phone and an account): organic uptake, imitation within the goods
  category, customers asking, and a staff campaign visiting so many stalls a day;
- habit learning and loss; outages; fees weighed against the benefit of receipts and asks;
  idle vendors removing their code; optional lapsing of unused wallets.

With the `bass` parameter setting (one village, everyone able, no training, no market) the mean
ready share follows the discrete Bass recursion F' = F + (1 − F)(p + qF)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from simulator.params import Params

METRICS = (
    "shoppers_ready_share",
    "vendors_accepting_share",
    "vendors_active_share",
    "qr_tx_share",
    "qr_value_share",
    "qr_tx",
    "tx",
    "qr_value",
    "value",
    "trainings",
    "vendor_visits",
    "new_wallets",
)
N_CATEGORIES = 6
WEEK = 7
YEAR = 365
SMOOTHING = 1 / 30  # vendors weigh about a month of receipts, asks and fees


@dataclass(frozen=True)
class Streams:
    """One generator per mechanism, spawned from the replication's generator."""

    population: np.random.Generator
    readiness: np.random.Generator
    training: np.random.Generator
    market: np.random.Generator
    vendors: np.random.Generator
    network: np.random.Generator
    lapse: np.random.Generator
    contacts: np.random.Generator

    @classmethod
    def spawn(cls, rng: np.random.Generator) -> Streams:
        # drawn from the generator, not `rng.spawn`, which would advance the caller's
        # SeedSequence: the same seed object must give the same run every time it is used
        root = np.random.SeedSequence(rng.integers(0, 2**63, size=4).tolist())
        return cls(*(np.random.default_rng(child) for child in root.spawn(8)))


@dataclass(frozen=True)
class World:
    """What does not change during a run."""

    village: NDArray[np.int64]
    phone: NDArray[np.bool_]
    visit: NDArray[np.float64]
    cash_pref: NDArray[np.float64]
    contacts: NDArray[np.int64] | None  # (shoppers, contacts) in the same village, threshold only
    category: NDArray[np.int64]
    popularity_cdf: NDArray[np.float64]
    popularity_guide: NDArray[np.int64]  # first stall for each 1/(4m) of the unit interval
    vendor_phone: NDArray[np.bool_]
    campaign_order: NDArray[np.int64]
    campaign_success: NDArray[np.bool_]


def _world(params: Params, rng: np.random.Generator, contacts_rng: np.random.Generator) -> World:
    n, m = params.n_shoppers, params.n_vendors
    town = rng.random(n) < params.town_share
    others = max(params.n_villages - 1, 1)
    village = np.where(town | (params.n_villages == 1), 0, 1 + rng.integers(0, others, size=n))
    phone = rng.random(n) < params.smartphone_share
    visit = np.where(town, params.visit_town, params.visit_village)
    mean = min(max(params.cash_pref_mean, 1e-6), 1 - 1e-6)
    cash_pref = rng.beta(4 * mean, 4 * (1 - mean), size=n)
    category = rng.integers(0, N_CATEGORIES, size=m)
    popularity = rng.lognormal(0.0, params.vendor_popularity_sigma, size=m)
    vendor_phone = rng.random(m) < params.vendor_phone_share
    campaign_order = rng.permutation(m)
    campaign_success = rng.random(m) < params.campaign_efficacy
    cdf = np.cumsum(popularity) / popularity.sum()
    cdf[-1] = 1.0
    contacts = None
    if params.threshold > 0:
        order = np.argsort(village, kind="stable")
        start = np.searchsorted(village[order], village)
        size = np.bincount(village, minlength=params.n_villages)[village]
        picks = (contacts_rng.random((n, params.contacts)) * size[:, None]).astype(np.int64)
        contacts = order[start[:, None] + picks]
    return World(
        village=village,
        phone=phone,
        visit=visit,
        cash_pref=cash_pref,
        contacts=contacts,
        category=category,
        popularity_cdf=cdf,
        popularity_guide=np.searchsorted(cdf, np.arange(4 * m) / (4 * m)),
        vendor_phone=vendor_phone,
        campaign_order=campaign_order,
        campaign_success=campaign_success,
    )


@dataclass
class State:
    ready: NDArray[np.bool_]
    account: NDArray[np.bool_]
    habit: NDArray[np.float64]
    last_use: NDArray[np.int64]
    accepts: NDArray[np.bool_]
    vendor_account: NDArray[np.bool_]
    since: NDArray[np.int64]  # last QR receipt, or the day the vendor started accepting
    last_receipt: NDArray[np.int64]
    receipts: NDArray[np.float64]  # smoothed QR receipts a day
    receipt_value: NDArray[np.float64]  # smoothed QR value a day
    purchases: NDArray[np.float64]  # smoothed purchases a day
    asks: NDArray[np.float64]  # smoothed asks a day
    training_carry: float = 0.0
    campaign_carry: float = 0.0
    campaign_next: int = 0


def _in_window(day_of_year: int, start: int, end: int) -> bool:
    """Inside a yearly window [start, end] that may wrap past the year's end."""
    if start <= end:
        return start <= day_of_year <= end
    return day_of_year >= start or day_of_year <= end


def simulate(params: Params, days: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """One replication: an array (days + 1, len(METRICS)), row 0 being the starting state."""
    streams = Streams.spawn(rng)
    world = _world(params, streams.population, streams.contacts)
    n, m = params.n_shoppers, params.n_vendors
    state = State(
        ready=(streams.population.random(n) < params.seed_share) & world.phone,
        account=streams.population.random(n) < params.account_share,
        habit=np.full(n, params.habit_start),
        last_use=np.zeros(n, dtype=np.int64),
        accepts=np.zeros(m, dtype=bool),
        vendor_account=streams.population.random(m) < params.vendor_account_share,
        since=np.zeros(m, dtype=np.int64),
        last_receipt=np.full(m, -(10**6), dtype=np.int64),
        receipts=np.zeros(m),
        receipt_value=np.zeros(m),
        purchases=np.zeros(m),
        asks=np.zeros(m),
    )
    village_size = np.maximum(np.bincount(world.village, minlength=params.n_villages), 1)
    category_size = np.maximum(np.bincount(world.category, minlength=N_CATEGORIES), 1)
    ticket_scale = np.asarray(params.ticket_by_category, dtype=float)
    ticket_scale = ticket_scale / ticket_scale.mean()
    market_open = params.visit_town > 0 or params.visit_village > 0
    out = np.zeros((days + 1, len(METRICS)))
    out[0, 0] = state.ready.mean()
    for day in range(1, days + 1):
        day_of_year = (params.start_day_of_year + day - 1) % YEAR
        ready0 = state.ready
        newly = _readiness(params, world, state, streams.readiness, village_size)
        trained = _training(params, world, state, streams.training, day, day_of_year, newly)
        outage = streams.network.random() < params.outage_prob
        market = (
            _market_day(params, world, state, streams.market, day, outage, ticket_scale)
            if market_open
            else None
        )
        visits = _vendors(params, world, state, streams.vendors, day, category_size, market)
        if params.lapse_prob > 0:
            idle = ready0 & (day - state.last_use > params.lapse_days)
            lapsing = idle & (streams.lapse.random(n) < params.lapse_prob)
            state.ready = (ready0 & ~lapsing) | newly
        else:
            state.ready = ready0 | newly
        state.last_use = np.where(newly, day, state.last_use)
        active = state.accepts & (day - state.last_receipt <= params.active_days)
        qr_tx, tx, qr_value, value = market.totals if market else (0, 0, 0.0, 0.0)
        out[day] = (
            state.ready.mean(),
            state.accepts.mean(),
            active.mean(),
            qr_tx / tx if tx else 0.0,
            qr_value / value if value else 0.0,
            qr_tx,
            tx,
            qr_value,
            value,
            trained,
            visits,
            int(newly.sum()),
        )
    return out


def _readiness(
    params: Params,
    world: World,
    state: State,
    rng: np.random.Generator,
    village_size: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Who becomes ready today from innovation and word of mouth, reading yesterday's state.
    Substeps split the day (the Bass reduction's time-step convergence check)."""
    able = world.phone & state.account
    ready = state.ready.copy()
    steps = params.substeps
    p, q = params.p_s / steps, params.q_s / steps
    for _ in range(steps):
        u = rng.random(len(ready))
        if world.contacts is not None:
            influence = (ready[world.contacts].sum(axis=1) >= params.threshold).astype(float)
        elif params.n_villages == 1:
            influence = np.full(len(ready), ready.mean())
        else:
            counts = np.bincount(world.village, weights=ready, minlength=params.n_villages)
            influence = (counts / village_size)[world.village]
        hazard = p + q * influence
        ready = ready | (able & (u < hazard))
    return ready & ~state.ready


def _training(
    params: Params,
    world: World,
    state: State,
    rng: np.random.Generator,
    day: int,
    day_of_year: int,
    newly: NDArray[np.bool_],
) -> int:
    """The teams train up to their capacity (fractions carried to the next day), market-goers
    first; a success makes the wallet ready and opens an account. Returns people trained."""
    summer = _in_window(day_of_year, params.summer_start_day_of_year, params.summer_end_day_of_year)
    blitz = params.blitz_start_day <= day <= params.blitz_end_day
    members = params.members + (params.blitz_members if blitz else 0)
    boost = 1 + (params.student_boost if summer else 0.0)
    state.training_carry += members * params.trainees_per_member_week * boost / WEEK
    capacity = int(state.training_carry + 1e-9)
    state.training_carry -= capacity
    if capacity == 0:
        return 0
    u_pick, u_success = rng.random(len(newly)), rng.random(len(newly))
    eligible = ~state.ready & world.phone & ~newly
    priority = np.where(eligible, world.visit * u_pick + 1e-12, -1.0)
    count = min(capacity, int(eligible.sum()))
    if count == 0:
        return 0
    chosen = np.argpartition(-priority, count - 1)[:count]
    success = chosen[u_success[chosen] < params.training_efficacy]
    newly[success] = True
    state.account[success] = True
    return count


def _stalls(world: World, u: NDArray[np.float64]) -> NDArray[np.int64]:
    """The stall each uniform draw picks by popularity: the first with cdf ≥ u, found from a
    guide table (Chen & Asau 1974) in a few vectorised steps instead of a binary search."""
    size = len(world.popularity_guide)
    stall = world.popularity_guide[np.minimum((u * size).astype(np.int64), size - 1)]
    while True:
        behind = world.popularity_cdf[stall] < u
        if not behind.any():
            return stall
        stall = stall + behind


@dataclass(frozen=True)
class MarketDay:
    totals: tuple[int, int, float, float]  # QR payments, payments, QR value, value
    purchases: NDArray[np.float64]  # per vendor
    asks: NDArray[np.float64]
    receipts: NDArray[np.float64]
    receipt_value: NDArray[np.float64]


def _market_day(
    params: Params,
    world: World,
    state: State,
    rng: np.random.Generator,
    day: int,
    outage: bool,
    ticket_scale: NDArray[np.float64],
) -> MarketDay:
    """Visits and purchases; QR where both sides can and the shopper chooses to."""
    m, k = params.n_vendors, params.purchases_per_visit
    day_of_year = (params.start_day_of_year + day - 1) % YEAR
    tet = _in_window(
        day_of_year,
        params.tet_start_day_of_year,
        (params.tet_start_day_of_year + params.tet_days - 1) % YEAR,
    ) and (params.tet_days > 0)
    visit = world.visit * (1 + params.tet_visit_boost) if tet else world.visit
    who = np.flatnonzero(rng.random(len(visit)) < visit)
    u_pick = rng.random((len(who), k))
    u_use = rng.random((len(who), k))
    tickets = rng.lognormal(
        np.log(params.ticket_mean) - params.ticket_sigma**2 / 2,
        params.ticket_sigma,
        size=(len(who), k),
    )
    stall = _stalls(world, u_pick)
    tickets *= ticket_scale[world.category[stall]] * (1 + params.tet_ticket_boost if tet else 1.0)
    ready = state.ready[who][:, None]
    accepts = state.accepts[stall]
    appeal = tickets / (tickets + params.qr_half_ticket)
    chosen = u_use < (state.habit[who] * (1 - world.cash_pref[who]))[:, None] * appeal
    attempt = ready & accepts & chosen
    qr = attempt & (not outage)
    asked = ready & ~accepts & (u_use < params.ask_propensity)
    successes = qr.any(axis=1)
    habit = state.habit[who]
    habit = habit + params.habit_gain * (1 - habit) * successes
    if outage:
        habit = habit - params.habit_loss * habit * attempt.any(axis=1)
    state.habit[who] = habit
    state.last_use[who[successes]] = day
    qr_value = float(tickets[qr].sum())
    return MarketDay(
        totals=(int(qr.sum()), tickets.size, qr_value, float(tickets.sum())),
        purchases=np.bincount(stall.ravel(), minlength=m).astype(float),
        asks=np.bincount(stall[asked], minlength=m).astype(float),
        receipts=np.bincount(stall[qr], minlength=m).astype(float),
        receipt_value=np.bincount(stall[qr], weights=tickets[qr], minlength=m).astype(float),
    )


def _vendors(
    params: Params,
    world: World,
    state: State,
    rng: np.random.Generator,
    day: int,
    category_size: NDArray[np.int64],
    market: MarketDay | None,
) -> int:
    """Vendors join (organic, imitation, asks, the staff campaign) or stop (idle, fees), reading
    yesterday's acceptance. Returns the stalls the campaign visited today."""
    m = params.n_vendors
    accepts0 = state.accepts
    u_join, u_drop = rng.random(m), rng.random(m)
    if market is not None:
        state.purchases += SMOOTHING * (market.purchases - state.purchases)
        state.asks += SMOOTHING * (market.asks - state.asks)
        state.receipts += SMOOTHING * (market.receipts - state.receipts)
        state.receipt_value += SMOOTHING * (market.receipt_value - state.receipt_value)
        got = market.receipts > 0
        state.last_receipt = np.where(got, day, state.last_receipt)
        state.since = np.where(got, day, state.since)
    ask_share = state.asks / np.maximum(state.purchases, 1e-9)
    accepting = np.bincount(world.category, weights=accepts0, minlength=N_CATEGORIES)
    imitation = (accepting / category_size)[world.category]
    hazard = params.p_v + params.q_v * imitation + params.r_v * ask_share
    joins = ~accepts0 & world.vendor_phone & state.vendor_account & (u_join < hazard)
    visited = 0
    if day <= params.vendor_campaign_days and params.vendor_campaign_per_day > 0:
        state.campaign_carry += params.vendor_campaign_per_day
        capacity = int(state.campaign_carry + 1e-9)
        state.campaign_carry -= capacity
        stalls = world.campaign_order[state.campaign_next : state.campaign_next + capacity]
        state.campaign_next += len(stalls)
        visited = len(stalls)
        enrolled = stalls[world.vendor_phone[stalls] & world.campaign_success[stalls]]
        state.vendor_account[enrolled] = True
        joins[enrolled] = ~accepts0[enrolled]
    idle = accepts0 & (day - state.since > params.inactive_days)
    fees = params.fee_rate * state.receipt_value
    benefit = params.receipt_benefit * (state.receipts + state.asks)
    losing = accepts0 & (fees > benefit)
    drops = (idle & (u_drop < params.inactive_drop)) | (losing & (u_drop < params.fee_drop))
    state.accepts = (accepts0 | joins) & ~drops
    state.since = np.where(joins, day, state.since)
    return visited


def bass_closed_form(p: float, q: float, t: NDArray[np.float64]) -> NDArray[np.float64]:
    """The continuous Bass curve F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p)·e^{−(p+q)t})."""
    decay = np.exp(-(p + q) * t)
    result: NDArray[np.float64] = (1 - decay) / (1 + (q / p) * decay)
    return result


def bass_recursion(p: float, q: float, days: int, f0: float = 0.0) -> NDArray[np.float64]:
    """F_{t+1} = F_t + (1 − F_t)(p + q F_t): the one-step expectation of the Bass reduction."""
    f = np.zeros(days + 1)
    f[0] = f0
    for t in range(days):
        f[t + 1] = f[t] + (1 - f[t]) * (p + q * f[t])
    return f
