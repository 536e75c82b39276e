"""A payment by QR in one statement on PostgreSQL (`market.money.one_statement`, issue 14): three
statements in autocommit, writing what the ordinary path writes; a refusal in it writes nothing
(not even the legs before the refused one) and is then stored by the ordinary path; a key seen
before is replayed by the ordinary path."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text

from market.money import one_statement
from tests.conftest import World
from tests.test_wallets_api import _audit, _balance, _money, _open

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
PAY = "/wallets/me/payments"


class Statements:
    """The statements an engine runs while counting, and whether each ran in autocommit."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[tuple[str, bool]] = []
        self.engine = engine

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.seen.append((statement, bool(connection.connection.dbapi_connection.autocommit)))


def _rows(engine: Engine, transfer_id: int) -> dict[str, Any]:
    """What a payment wrote: its transfer, entries, event and stored answer."""
    with engine.connect() as connection:

        def one(sql: str) -> dict[str, Any]:
            return dict(connection.execute(text(sql), {"id": transfer_id}).mappings().one())

        def many(sql: str) -> list[dict[str, Any]]:
            return [dict(r) for r in connection.execute(text(sql), {"id": transfer_id}).mappings()]

        return {
            "transfer": one(
                "SELECT kind, amount, fee, debit_account_id, credit_account_id, original_id,"
                " board_id, market_id, memo, source_label, business_day, created_at"
                " FROM transfer WHERE id = :id"
            ),
            "entries": many(
                "SELECT account_id, amount FROM entry WHERE transfer_id = :id ORDER BY account_id"
            ),
            "event": one(
                "SELECT vendor_id, type, data FROM outbox_event"
                " WHERE (data->>'transfer_id')::int = :id"
            ),
            "record": one(
                "SELECT outcome, response, request_hash IS NOT NULL AS hashed"
                " FROM idempotency_record WHERE transfer_id = :id"
            ),
        }


def test_a_payment_is_three_statements_in_autocommit_writing_what_the_ordinary_path_writes(
    client: TestClient,
    world: World,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shopper = _open(client, "0901234567")
    assert _money(client, "/wallets/me/top-ups", shopper, "seed", {"amount": 500_000}).status_code
    payload = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager"))
    body = {"payload": payload.json()["payload"], "amount": 25_000}
    with Statements(engine) as statements:
        fast = _money(client, PAY, shopper, "fast", body)
    assert fast.status_code == 201, fast.text
    assert len(statements.seen) == 3, [s for s, _ in statements.seen]
    assert all(autocommit for _, autocommit in statements.seen)
    # the same payment through the ordinary path (the shortcut declines it)
    monkeypatch.setattr(one_statement, "pay", lambda *_a, **_k: None)
    with Statements(engine) as statements:
        ordinary = _money(client, PAY, shopper, "ordinary", body)
    assert ordinary.status_code == 201, ordinary.text
    assert not any(autocommit for _, autocommit in statements.seen[1:])
    written = {
        name: _rows(engine, answer.json()["id"])
        for name, answer in (("fast", fast), ("ordinary", ordinary))
    }
    for rows, answer in ((written["fast"], fast), (written["ordinary"], ordinary)):
        assert rows["event"]["data"]["transfer_id"] == answer.json()["id"]
        assert rows["record"] == {"outcome": "ok", "response": answer.json(), "hashed": True}
        assert sum(e["amount"] for e in rows["entries"]) == 0
    for part in ("transfer", "entries"):
        assert written["fast"][part] == written["ordinary"][part]
    for rows in written.values():
        del rows["event"]["data"]["transfer_id"]
    assert written["fast"]["event"] == written["ordinary"]["event"]
    unlike = {"id", "balance"}
    assert {k: v for k, v in fast.json().items() if k not in unlike} == {
        k: v for k, v in ordinary.json().items() if k not in unlike
    }
    assert ordinary.json()["balance"] == fast.json()["balance"] - 25_000 == 450_000
    # a key seen before is replayed (by the ordinary path), whichever path stored it
    monkeypatch.undo()
    for key, first in (("fast", fast), ("ordinary", ordinary)):
        again = _money(client, PAY, shopper, key, body)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.content == first.content  # byte for byte, whichever path stored it
    assert _balance(client, shopper) == 450_000
    assert _audit(client, world) == []


def test_a_refusal_in_one_statement_undoes_the_legs_before_it_and_is_stored_as_refused(
    client: TestClient, world: World
) -> None:
    # a wallet opened now has a higher id than the stall's: the vendor's credit leg runs first
    shopper = _open(client, "0907654321")
    assert _money(client, "/wallets/me/top-ups", shopper, "seed", {"amount": 10_000}).status_code
    payload = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager"))
    vendor = world.headers("vendor")
    before = client.get(f"/payout-accounts/{world.account_a}/wallet", headers=vendor).json()
    body = {"payload": payload.json()["payload"], "amount": 10_001}
    refused = _money(client, PAY, shopper, "too-much", body)
    assert refused.status_code == 402
    assert refused.json()["code"] == "insufficient-funds"
    after = client.get(f"/payout-accounts/{world.account_a}/wallet", headers=vendor).json()
    assert after == before
    again = _money(client, PAY, shopper, "too-much", body)
    assert again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true"
    assert _balance(client, shopper) == 10_000
    assert _audit(client, world) == []


def test_a_vendors_fee_is_a_third_leg_of_the_one_statement(
    client: TestClient, world: World, engine: Engine
) -> None:
    """The first fee ever charged creates the fees account (the ordinary path: the shortcut
    writes no account); later payments with a fee are one statement of three legs."""
    changed = client.patch(
        f"/vendors/{world.vendor_a}", headers=world.headers("manager"), json={"fee_bps": 110}
    )
    assert changed.status_code == 200, changed.text
    shopper = _open(client, "0905555666")
    assert _money(client, "/wallets/me/top-ups", shopper, "seed", {"amount": 500_000}).status_code
    payload = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager"))
    body = {"payload": payload.json()["payload"], "amount": 100_000}
    answers = []
    for key in ("first-fee", "second-fee"):
        with Statements(engine) as statements:
            paid = _money(client, PAY, shopper, key, body)
        assert paid.status_code == 201, paid.text
        answers.append((paid.json(), statements.seen))
    (first, first_seen), (second, seen) = answers
    assert not all(autocommit for _, autocommit in first_seen)  # the ordinary path took it
    assert first["fee"] == second["fee"] == 1_100
    assert second["net"] == 98_900
    assert all(autocommit for _, autocommit in seen)  # the fees account exists now
    assert len(seen) == 4  # token, board, the fees account, the one write
    assert second["balance"] == 300_000
    with engine.connect() as connection:
        fees = connection.execute(text("SELECT balance FROM ledger_account WHERE kind = 'fees'"))
        assert fees.scalar_one() >= 2_200
    assert _audit(client, world) == []
