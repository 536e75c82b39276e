"""One source of rules, two ways of writing: PostgreSQL writes a transfer in one chained
statement, SQLite (and PostgreSQL when asked, or for a wallet with a daily limit) leg by leg.
The same 240 requests — top-ups, payments with and without a fee, transfers, refunds,
reversals, withdrawals, overdrafts, the monthly cap across a month's end, a daily limit — run
through SQLite, PostgreSQL leg by leg and PostgreSQL chained must give the same outcomes, the
same balances and monthly counters, and the same journal."""

from __future__ import annotations

import os
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from market.db import make_engine
from market.errors import DomainError
from market.money.execute import execute
from market.money.models import Entry, LedgerAccount, Transfer
from market.money.requests import (
    MoneyRequest,
    PayByQR,
    Refund,
    Reversal,
    SendToPhone,
    TopUp,
    Withdrawal,
)
from market.registry.models import User, Vendor
from market.registry.users import authenticate
from tests.live import Seeded, drop_database, fresh_database, seed

pytestmark = pytest.mark.slow

START = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)  # 21:00 in Hà Nội: the month ends mid-run
SHOPPERS = 4


@pytest.fixture
def postgresql_url(tmp_path: Path) -> Iterator[Callable[[], str]]:
    admin = os.environ.get("TEST_DATABASE_URL")
    if not admin:
        if os.environ.get("CHO_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL required")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    names = []

    def make() -> str:
        names.append(f"cho_paths_{os.getpid()}_{uuid.uuid4().hex[:6]}")
        return fresh_database("postgresql", tmp_path, admin, names[-1])

    yield make
    for name in names:
        drop_database(admin, name)


def _world(url: str, password_hash: str) -> Seeded:
    world = seed(url, shoppers=SHOPPERS, balance=0, password_hash=password_hash, extra_stalls=1)
    engine = make_engine(url)
    with Session(engine) as session:
        first = session.exec(select(Vendor).order_by(col(Vendor.id))).first()
        assert first is not None
        first.fee_bps = 250  # the first stall's vendor pays a fee: three legs per payment
        session.add(first)
        session.execute(
            update(LedgerAccount)
            .where(col(LedgerAccount.owner_user_id) == _user_of_last_shopper(session))
            .values(daily_limit=400_000)  # one wallet with a daily limit
        )
        session.commit()
    engine.dispose()
    return world


def _user_of_last_shopper(session: Session) -> int:
    user = session.exec(select(User).where(User.username == f"shopper{SHOPPERS - 1}")).one()
    assert user.id is not None
    return user.id


def _requests(world: Seeded) -> list[tuple[str, MoneyRequest]]:
    """240 requests (who sends it, what), the same for every database: refunds and reversals
    name payments by their order (resolved to ids as the run goes)."""
    rng = random.Random(14)
    plan: list[tuple[str, MoneyRequest]] = []
    for _ in range(240):
        shopper = f"shopper:{rng.randrange(SHOPPERS)}"
        roll = rng.random()
        if roll < 0.2:
            amount = rng.choice([50_000, 300_000, 2_000_000, 60_000_000])
            plan.append((shopper, TopUp(amount)))
        elif roll < 0.55:
            payload = world.stall_payloads[rng.randrange(2)]
            plan.append(
                (shopper, PayByQR(payload, rng.choice([1_000, 33_333, 250_000, 45_000_000])))
            )
        elif roll < 0.7:
            to = world.shopper_phones[rng.randrange(SHOPPERS)]
            plan.append((shopper, SendToPhone(to, rng.choice([7_000, 120_000, 30_000_000]))))
        elif roll < 0.82:
            plan.append(("vendor", Refund(rng.randrange(40), rng.choice([1_000, 20_000, 200_000]))))
        elif roll < 0.9:
            plan.append(("admin", Reversal(rng.randrange(40))))
        else:
            plan.append(
                ("vendor", Withdrawal(rng.choice([5_000, 90_000]), world.payout_account_id))
            )
    return plan


def _run(engine: Engine, world: Seeded) -> dict[str, Any]:
    """Run the plan on `engine`; what every request answered, and the ledger afterwards."""
    tokens = {"vendor": world.vendor_token, "admin": world.admin_token} | {
        f"shopper:{n}": token for n, token in enumerate(world.shopper_tokens)
    }
    outcomes: list[Any] = []
    payments: list[int] = []  # transfer ids of the payments made, in order
    for n, (who, request) in enumerate(_requests(world)):
        now = START + timedelta(minutes=n)
        if isinstance(request, Refund | Reversal):
            if not payments:
                continue
            ordinal = request.payment_id % len(payments)
            request = (
                Refund(payments[ordinal], request.amount)
                if isinstance(request, Refund)
                else Reversal(payments[ordinal])
            )
        with Session(engine, expire_on_commit=False) as session:
            actor, _token = authenticate(session, raw_token=tokens[who], now=now)
            try:
                receipt = execute(session, actor, request, now)
            except DomainError as refusal:
                session.rollback()
                outcomes.append(("refused", refusal.code, refusal.extra))
                continue
            session.commit()
        transfer = receipt.transfer
        if isinstance(request, PayByQR):
            payments.append(transfer.id or 0)
        outcomes.append(("ok", transfer.kind, transfer.amount, transfer.fee, receipt.balance))
    with Session(engine) as session:
        # accounts by what they are (ids differ: PostgreSQL's sequences skip rolled-back rows)
        names = {
            a.id: (a.kind, a.owner_user_id, a.payout_account_id)
            for a in session.exec(select(LedgerAccount))
        }
        accounts = sorted(
            (names[a.id], a.balance, a.capped_used, a.capped_month, a.daily_limit)
            for a in session.exec(select(LedgerAccount))
        )
        order = {
            t.id: n for n, t in enumerate(session.exec(select(Transfer).order_by(col(Transfer.id))))
        }
        entries = session.exec(select(Entry).order_by(col(Entry.id))).all()
        journal = sorted(
            (order[e.transfer_id], names[e.account_id], e.amount, e.balance_after) for e in entries
        )
    return {"outcomes": outcomes, "accounts": accounts, "journal": journal}


def test_sqlite_and_both_postgresql_paths_keep_the_same_ledger(
    tmp_path: Path, postgresql_url: Callable[[], str], password_hash: str
) -> None:
    sqlite = fresh_database("sqlite", tmp_path, None, "paths")
    chained, step_by_step = postgresql_url(), postgresql_url()
    results = {}
    for name, url, options in (
        ("sqlite", sqlite, {}),
        ("postgresql chained", chained, {}),
        ("postgresql leg by leg", step_by_step, {"ledger_step_by_step": True}),
    ):
        world = _world(url, password_hash)
        engine = make_engine(url)
        results[name] = _run(engine.execution_options(**options), world)
        engine.dispose()
    reference = results["sqlite"]
    kinds = {outcome[0] for outcome in reference["outcomes"]}
    codes = {outcome[1] for outcome in reference["outcomes"] if outcome[0] == "refused"}
    assert kinds == {"ok", "refused"}
    # the plan reaches the refusals the two paths name differently from a plain success
    assert {"insufficient-funds", "limit-exceeded"} <= codes, codes
    assert len(reference["journal"]) > 200
    for name, result in results.items():
        assert result["outcomes"] == reference["outcomes"], name
        assert result["accounts"] == reference["accounts"], name
        assert result["journal"] == reference["journal"], name
