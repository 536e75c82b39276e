"""T4: a Hypothesis state machine drives the wallet operations (top-up, withdraw, transfer, pay
by QR, refund, replaying an old key) on the real database and checks every step against a plain
in-memory model of balances, refunds and used keys, and the ledger's own audit."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine
from sqlmodel import Session, select

from market.db import require_id
from market.errors import DomainError
from market.money import idempotency, ledger
from market.money.execute import execute
from market.money.models import IdempotencyRecord, LedgerAccount
from market.money.requests import (
    MoneyRequest,
    PayByQR,
    Refund,
    SendToPhone,
    TopUp,
    Withdrawal,
    fingerprint_parts,
)
from market.registry.access import Actor
from market.registry.models import Role, User
from tests import factories

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
_counter = itertools.count()


@dataclass(frozen=True)
class _Context:
    """What the state machine runs against: the test's database, one stall's code, its vendor."""

    engine: Engine
    vendor: Actor
    payload: str
    vendor_wallet_id: int


class Wallets(RuleBasedStateMachine):
    """The wallets under random operations, beside a plain model of what they should hold."""

    ctx: ClassVar[_Context]

    def __init__(self) -> None:
        super().__init__()
        self.balances: dict[int, int] = {}  # wallet id → model balance
        self.actors: dict[int, Actor] = {}
        self.phones: dict[int, str] = {}
        self.payments: dict[int, tuple[int, int, int]] = {}  # id → (payer, amount, refunded)
        self.keys: dict[str, tuple[MoneyRequest, Any]] = {}  # key → (request, answer)
        self.vendor_balance = self._balance(self.ctx.vendor_wallet_id)
        self.vendor = self.ctx.vendor

    def _balance(self, wallet_id: int) -> int:
        with Session(self.ctx.engine) as session:
            account = session.get(LedgerAccount, wallet_id)
            assert account is not None
            return account.balance

    @initialize()
    def open_wallets(self) -> None:
        with Session(self.ctx.engine) as session:
            for _ in range(3):
                n = next(_counter)
                phone = f"+8493{n:07d}"
                user = User(
                    username=f"sm{uuid.uuid4().hex[:10]}",
                    password_hash="x",
                    role=Role.SHOPPER,
                    phone=phone,
                    full_name="Máy trạng thái",
                )
                session.add(user)
                session.flush()
                wallet = ledger.shopper_wallet(session, user.id or 0)
                self.balances[wallet.id or 0] = 0
                self.actors[wallet.id or 0] = Actor(
                    user_id=user.id, username=user.username, role=Role.SHOPPER
                )
                self.phones[wallet.id or 0] = "0" + phone[3:]
            session.commit()

    def _run(self, actor: Actor, request: MoneyRequest, key: str | None = None) -> tuple[bool, Any]:
        key = key or uuid.uuid4().hex

        def once(session: Session) -> tuple[dict[str, Any], int | None]:
            receipt = execute(session, actor, request, NOW)
            return {"id": receipt.transfer.id, "balance": receipt.balance}, receipt.transfer.id

        with Session(self.ctx.engine, expire_on_commit=False) as session:
            outcome = idempotency.idempotent(
                session,
                user_id=actor.user_id or 0,
                key=key,
                fingerprint=idempotency.request_hash(*fingerprint_parts(request)),
                operation=lambda: once(session),
            )
            session.commit()
        if not outcome.replayed:
            self.keys[key] = (request, (outcome.ok, outcome.response))
        return outcome.ok, outcome.response

    wallets_ids = st.integers(0, 2)
    amounts = st.integers(1, 60_000)

    @rule(index=wallets_ids, amount=amounts)
    def top_up(self, index: int, amount: int) -> None:
        wallet_id = sorted(self.balances)[index]
        ok, _ = self._run(self.actors[wallet_id], TopUp(amount))
        assert ok
        self.balances[wallet_id] += amount

    @rule(index=wallets_ids, amount=amounts)
    def withdraw(self, index: int, amount: int) -> None:
        wallet_id = sorted(self.balances)[index]
        ok, response = self._run(self.actors[wallet_id], Withdrawal(amount))
        assert ok == (amount <= self.balances[wallet_id]), response
        if ok:
            self.balances[wallet_id] -= amount

    @rule(payer=wallets_ids, payee=wallets_ids, amount=amounts)
    def transfer(self, payer: int, payee: int, amount: int) -> None:
        source, target = sorted(self.balances)[payer], sorted(self.balances)[payee]
        actor = self.actors[source]
        ok, response = self._run(actor, SendToPhone(self.phones[target], amount))
        if source == target:
            assert not ok
            assert response["code"] == "self-payment"
            return
        assert ok == (amount <= self.balances[source]), response
        if ok:
            self.balances[source] -= amount
            self.balances[target] += amount

    @rule(payer=wallets_ids, amount=amounts)
    def pay(self, payer: int, amount: int) -> None:
        source = sorted(self.balances)[payer]
        actor = self.actors[source]
        ok, response = self._run(actor, PayByQR(self.ctx.payload, amount))
        assert ok == (amount <= self.balances[source]), response
        if ok:
            self.balances[source] -= amount
            self.vendor_balance += amount
            self.payments[response["id"]] = (source, amount, 0)

    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        if not self.payments:
            return
        payment_id = data.draw(st.sampled_from(sorted(self.payments)))
        payer, amount, refunded = self.payments[payment_id]
        part = data.draw(st.integers(1, amount))
        ok, response = self._run(self.vendor, Refund(payment_id, part))
        expected = refunded + part <= amount and part <= self.vendor_balance
        assert ok == expected, response
        if ok:
            self.payments[payment_id] = (payer, amount, refunded + part)
            self.balances[payer] += part
            self.vendor_balance -= part

    @rule(data=st.data())
    def replay_an_old_key(self, data: st.DataObject) -> None:
        if not self.keys:
            return
        key = data.draw(st.sampled_from(sorted(self.keys)))
        request, answer = self.keys[key]
        op, body = fingerprint_parts(request)
        with Session(self.ctx.engine) as session:
            record = session.exec(
                select(IdempotencyRecord).where(IdempotencyRecord.key == key)
            ).one()
            user_id = record.user_id
            outcome = idempotency.idempotent(
                session,
                user_id=user_id,
                key=key,
                fingerprint=idempotency.request_hash(op, body),
                operation=lambda: (_ for _ in ()).throw(AssertionError("must not run")),
            )
            session.commit()
        assert outcome.replayed
        assert (outcome.ok, outcome.response) == answer
        try:
            with Session(self.ctx.engine) as session:
                idempotency.idempotent(
                    session,
                    user_id=user_id,
                    key=key,
                    fingerprint=idempotency.request_hash(op, body | {"x": 1}),
                    operation=lambda: ({}, None),
                )
            raise AssertionError("a changed body must be refused")
        except DomainError as refusal:
            assert refusal.code == "idempotency-mismatch"

    @invariant()
    def balances_match_the_model(self) -> None:
        for wallet_id, expected in self.balances.items():
            assert self._balance(wallet_id) == expected
        assert self._balance(self.ctx.vendor_wallet_id) == self.vendor_balance

    @invariant()
    def ledger_audit_is_clean(self) -> None:
        with Session(self.ctx.engine) as session:
            assert ledger.audit(session) == []


@pytest.mark.parametrize(
    "examples",
    [pytest.param(6, id="quick"), pytest.param(40, id="full", marks=pytest.mark.slow)],
)
def test_t4_wallets_match_a_plain_model(engine: Engine, examples: int) -> None:
    with Session(engine) as session:
        seller = factories.seller(session, require_id(factories.market(session)))
        _user, vendor = factories.user(session, Role.VENDOR, vendor_id=require_id(seller.vendor))
        vendor_wallet_id = require_id(ledger.vendor_wallet(session, require_id(seller.account)))
        Wallets.ctx = _Context(engine, vendor, seller.payload, vendor_wallet_id)
        session.commit()

    run: Any = run_state_machine_as_test  # typed in some Hypothesis releases, not in others
    run(
        Wallets,
        settings=settings(
            max_examples=examples,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
