"""Wallet operations through the API on both databases: the happy paths, idempotency replays,
every bad input refused with problem+json and no money moved, business days, close day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from market.money import ledger
from qr.vietqr import VietQR, encode
from tests.conftest import FrozenClock, World

PIN = "246810"


def _open(client: TestClient, phone: str, name: str = "Người Mua") -> dict[str, str]:
    response = client.post("/wallets", json={"phone": phone, "pin": PIN, "full_name": name})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _money(
    client: TestClient, path: str, headers: dict[str, str], key: str, body: dict[str, Any]
) -> Any:
    return client.post(path, headers=headers | {"Idempotency-Key": key}, json=body)


def _balance(client: TestClient, headers: dict[str, str]) -> int:
    return int(client.get("/wallets/me", headers=headers).json()["balance"])


def _audit(client: TestClient, world: World) -> list[Any]:
    result: list[Any] = client.get("/ledger/audit", headers=world.headers("admin")).json()
    return result


@pytest.fixture
def shopper(client: TestClient, world: World) -> dict[str, str]:
    headers = _open(client, "0901234567")
    assert (
        _money(client, "/wallets/me/top-ups", headers, "seed", {"amount": 1_000_000}).status_code
        == 201
    )
    return headers


@pytest.fixture
def stall_payload(client: TestClient, world: World) -> str:
    code: str = client.get(
        f"/stalls/{world.stall_a}/code", headers=world.headers("manager")
    ).json()["payload"]
    return code


def test_top_up_pay_refund_and_slip(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str
) -> None:
    paid = _money(
        client, "/wallets/me/payments", shopper, "p1", {"payload": stall_payload, "amount": 150_000}
    )
    assert paid.status_code == 201, paid.text
    assert paid.json()["balance"] == 850_000
    vendor_wallet = client.get(
        f"/payout-accounts/{world.account_a}/wallet", headers=world.headers("vendor")
    ).json()
    assert vendor_wallet["balance"] == 100_000 + 150_000  # the world's earlier sale, and this one
    refund = _money(
        client,
        f"/payments/{paid.json()['id']}/refunds",
        world.headers("vendor"),
        "r1",
        {"amount": 50_000},
    )
    assert refund.status_code == 201
    assert _balance(client, shopper) == 900_000
    slip = client.get(
        f"/vendors/{world.vendor_a}/slip", headers=world.headers("vendor"), params={"cash": 300_000}
    ).json()
    assert (slip["count"], slip["total"], slip["refunds"], slip["net"]) == (
        2,
        250_000,
        50_000,
        200_000,
    )
    assert slip["cashless_share"] == 0.4545  # 250,000 by QR of 550,000 in all
    assert _audit(client, world) == []


def test_vendor_fee_is_rounded_down_and_kept_apart(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str
) -> None:
    client.patch(
        f"/vendors/{world.vendor_a}", headers=world.headers("manager"), json={"fee_bps": 110}
    )
    paid = _money(
        client, "/wallets/me/payments", shopper, "fee", {"payload": stall_payload, "amount": 99_999}
    )
    assert (paid.json()["fee"], paid.json()["net"]) == (
        1_099,
        98_900,
    )  # 1.1 % of 99,999 = 1,099.989
    vendor_wallet = client.get(
        f"/payout-accounts/{world.account_a}/wallet", headers=world.headers("vendor")
    ).json()
    assert vendor_wallet["balance"] == 100_000 + 98_900
    reversal = _money(
        client, f"/payments/{paid.json()['id']}/reversal", world.headers("admin"), "rev", {}
    )
    assert reversal.status_code == 201
    assert _balance(client, shopper) == 1_000_000
    assert _audit(client, world) == []


def test_transfer_by_phone_after_lookup(
    client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    friend = _open(client, "0987000111", "Hoàng Văn Khải")
    seen = client.get("/wallets/lookup", headers=shopper, params={"phone": "0987 000 111"}).json()
    assert seen == {"phone_masked": "•••••••••111", "name_masked": "Hoàng V** K***"}
    sent = _money(
        client,
        "/wallets/me/transfers",
        shopper,
        "t1",
        {"to_phone": "0987000111", "amount": 200_000},
    )
    assert sent.status_code == 201
    assert _balance(client, friend) == 200_000
    assert _balance(client, shopper) == 800_000


def test_idempotency_replay_mismatch_and_refusal_stays_refused(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str
) -> None:
    body = {"payload": stall_payload, "amount": 2_000_000}
    refused = _money(client, "/wallets/me/payments", shopper, "big", body)
    assert refused.status_code == 402
    assert refused.json()["code"] == "insufficient-funds"
    _money(client, "/wallets/me/top-ups", shopper, "more", {"amount": 5_000_000})
    again = _money(client, "/wallets/me/payments", shopper, "big", body)
    assert again.status_code == 402
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == refused.json()
    ok = _money(
        client, "/wallets/me/payments", shopper, "ok", {"payload": stall_payload, "amount": 10_000}
    )
    replay = _money(
        client, "/wallets/me/payments", shopper, "ok", {"payload": stall_payload, "amount": 10_000}
    )
    assert replay.json() == ok.json()
    assert replay.status_code == 201
    changed = _money(
        client, "/wallets/me/payments", shopper, "ok", {"payload": stall_payload, "amount": 10_001}
    )
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency-mismatch"
    assert _balance(client, shopper) == 1_000_000 + 5_000_000 - 10_000
    assert _audit(client, world) == []


@pytest.mark.parametrize("amount", [0, -5, 1.5, "100", "abc", None, 10**30, [1]])
def test_bad_amounts_move_no_money(
    client: TestClient, world: World, shopper: dict[str, str], amount: Any
) -> None:
    response = _money(client, "/wallets/me/top-ups", shopper, f"bad-{amount!r}", {"amount": amount})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "amount"
    assert _balance(client, shopper) == 1_000_000


def test_amount_above_the_napas_cap_is_refused(
    client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    response = _money(client, "/wallets/me/top-ups", shopper, "cap", {"amount": 500_000_000})
    assert response.status_code == 402
    assert response.json()["code"] == "limit-exceeded"
    assert _balance(client, shopper) == 1_000_000


def test_missing_key_is_refused(client: TestClient, world: World, shopper: dict[str, str]) -> None:
    response = client.post("/wallets/me/top-ups", headers=shopper, json={"amount": 1000})
    assert response.status_code == 400
    assert response.json()["code"] == "missing-idempotency-key"
    assert _balance(client, shopper) == 1_000_000


def test_bad_codes_are_refused(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str
) -> None:
    tampered = stall_payload.replace("0912345678", "0912345679")
    foreign = encode(VietQR.build(bin="970436", account="0011001234567"))
    cases = [
        (tampered, 422, "invalid-vietqr"),
        ("hello", 422, "invalid-vietqr"),
        (foreign, 422, "unknown-code"),
    ]
    for index, (payload, status, code) in enumerate(cases):
        response = _money(
            client,
            "/wallets/me/payments",
            shopper,
            f"bad-{index}",
            {"payload": payload, "amount": 1000},
        )
        assert (response.status_code, response.json()["code"]) == (status, code)
    # a replaced board stops paying; a revoked one too
    client.post(f"/stalls/{world.stall_a}/code/reprint", headers=world.headers("manager"))
    old = _money(
        client, "/wallets/me/payments", shopper, "old", {"payload": stall_payload, "amount": 1000}
    )
    assert (old.status_code, old.json()["code"]) == (409, "code-revoked")
    new = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager")).json()[
        "payload"
    ]
    client.patch(
        f"/stalls/{world.stall_a}", headers=world.headers("manager"), json={"status": "suspended"}
    )
    suspended = _money(
        client, "/wallets/me/payments", shopper, "susp", {"payload": new, "amount": 1000}
    )
    assert (suspended.status_code, suspended.json()["code"]) == (409, "code-revoked")
    assert _balance(client, shopper) == 1_000_000
    assert _audit(client, world) == []


def test_dynamic_code_fixes_the_amount(
    client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    sale = client.post(
        f"/stalls/{world.stall_a}/sale-code",
        headers=world.headers("vendor"),
        json={"amount": 45_000},
    ).json()["payload"]
    override = _money(
        client, "/wallets/me/payments", shopper, "o", {"payload": sale, "amount": 1000}
    )
    assert (override.status_code, override.json()["code"]) == (422, "amount-override")
    paid = _money(client, "/wallets/me/payments", shopper, "d", {"payload": sale})
    assert paid.status_code == 201
    assert paid.json()["amount"] == 45_000
    static = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager")).json()[
        "payload"
    ]
    missing = _money(client, "/wallets/me/payments", shopper, "m", {"payload": static})
    assert missing.json()["code"] == "amount-override"


def test_paying_oneself_and_unknown_phone(
    client: TestClient, world: World, stall_payload: str
) -> None:
    own = _open(client, "0912345678", "Nguyễn Thị Hường")  # the vendor's own phone
    _money(client, "/wallets/me/top-ups", own, "seed", {"amount": 10_000})
    self_pay = _money(
        client, "/wallets/me/payments", own, "self", {"payload": stall_payload, "amount": 1000}
    )
    assert (self_pay.status_code, self_pay.json()["code"]) == (422, "self-payment")
    self_send = _money(
        client, "/wallets/me/transfers", own, "self2", {"to_phone": "0912345678", "amount": 1000}
    )
    assert self_send.json()["code"] == "self-payment"
    nobody = _money(
        client, "/wallets/me/transfers", own, "nobody", {"to_phone": "0977777777", "amount": 1000}
    )
    assert (nobody.status_code, nobody.json()["code"]) == (404, "wallet-not-found")
    assert _balance(client, own) == 10_000


def test_refunds_never_exceed_the_payment(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str
) -> None:
    paid = _money(
        client, "/wallets/me/payments", shopper, "p", {"payload": stall_payload, "amount": 100_000}
    ).json()
    vendor = world.headers("vendor")
    assert (
        _money(
            client, f"/payments/{paid['id']}/refunds", vendor, "a", {"amount": 60_000}
        ).status_code
        == 201
    )
    too_much = _money(client, f"/payments/{paid['id']}/refunds", vendor, "b", {"amount": 40_001})
    assert (too_much.status_code, too_much.json()["code"]) == (409, "refund-exceeds-payment")
    assert (
        _money(
            client, f"/payments/{paid['id']}/refunds", vendor, "c", {"amount": 40_000}
        ).status_code
        == 201
    )
    other_vendor = _money(
        client, f"/payments/{paid['id']}/refunds", world.headers("vendor_b"), "d", {"amount": 1}
    )
    assert other_vendor.status_code == 404
    assert _audit(client, world) == []


def test_monthly_customer_cap(
    client: TestClient, world: World, stall_payload: str, clock: FrozenClock
) -> None:
    rich = _open(client, "0903333333")
    for n in range(3):
        _money(client, "/wallets/me/top-ups", rich, f"t{n}", {"amount": 400_000_000})
    assert (
        _money(
            client,
            "/wallets/me/payments",
            rich,
            "p1",
            {"payload": stall_payload, "amount": 99_000_000},
        ).status_code
        == 201
    )
    over = _money(
        client, "/wallets/me/payments", rich, "p2", {"payload": stall_payload, "amount": 2_000_000}
    )
    assert (over.status_code, over.json()["code"]) == (402, "limit-exceeded")
    assert (
        _money(client, "/wallets/me/withdrawals", rich, "w", {"amount": 2_000_000}).status_code
        == 201
    )
    clock.now = datetime(2026, 12, 1, 0, 5, tzinfo=UTC)  # 07:05 on 1 December in Vietnam
    token = client.post("/wallets/token", json={"phone": "0903333333", "pin": PIN}).json()
    rich = {"Authorization": f"Bearer {token['access_token']}"}
    assert (
        _money(
            client,
            "/wallets/me/payments",
            rich,
            "p3",
            {"payload": stall_payload, "amount": 2_000_000},
        ).status_code
        == 201
    )
    assert client.get("/wallets/me", headers=rich).json()["monthly_used"] == 2_000_000


def test_audit_catches_a_monthly_cap_counter_out_of_step(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str, engine: Engine
) -> None:
    paid = _money(
        client, "/wallets/me/payments", shopper, "p", {"payload": stall_payload, "amount": 5_000}
    )
    assert paid.status_code == 201
    assert _audit(client, world) == []
    wallet_id = client.get("/wallets/me", headers=shopper).json()["id"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE ledger_account SET capped_used = capped_used - 5000 WHERE id = :id"),
            {"id": wallet_id},
        )
    found = _audit(client, world)
    assert [v["invariant"] for v in found] == ["I3"]
    assert "monthly cap counter" in found[0]["detail"]


def test_audit_is_one_query_per_check_and_finds_a_tampered_balance(
    client: TestClient, world: World, shopper: dict[str, str], stall_payload: str, engine: Engine
) -> None:
    for n in range(3):
        body = {"payload": stall_payload, "amount": 1_000 + n}
        assert _money(client, "/wallets/me/payments", shopper, f"q{n}", body).status_code == 201
    statements: list[str] = []

    def count(*args: Any) -> None:
        if not args[2].startswith("BEGIN"):  # SQLite's transaction start
            statements.append(args[2])

    with Session(engine) as session:
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert ledger.audit(session) == []
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == len(ledger.CHECKS)  # however many payments there are
    wallet_id = client.get("/wallets/me", headers=shopper).json()["id"]
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE ledger_account SET balance = balance + 1 WHERE id = :id"),
            {"id": wallet_id},
        )
    assert sorted(v["invariant"] for v in _audit(client, world)) == ["I1", "I3"]


def test_business_day_boundaries_and_closing(
    client: TestClient,
    world: World,
    shopper: dict[str, str],
    stall_payload: str,
    clock: FrozenClock,
) -> None:
    clock.now = datetime(2026, 11, 26, 16, 59, 59, tzinfo=UTC)  # 23:59:59 local
    late = _money(
        client, "/wallets/me/payments", shopper, "late", {"payload": stall_payload, "amount": 1000}
    ).json()
    clock.now = datetime(2026, 11, 26, 17, 0, 0, tzinfo=UTC)  # 00:00:00 local, next day
    early = _money(
        client, "/wallets/me/payments", shopper, "early", {"payload": stall_payload, "amount": 2000}
    ).json()
    assert (late["business_day"], early["business_day"]) == ("2026-11-26", "2026-11-27")
    manager = world.headers("manager")
    not_over = client.post(f"/markets/{world.market_a}/days/2026-11-27/close", headers=manager)
    assert (not_over.status_code, not_over.json()["code"]) == (409, "day-not-over")
    closed = client.post(f"/markets/{world.market_a}/days/2026-11-26/close", headers=manager)
    assert closed.status_code == 200
    totals = closed.json()["totals"]["vendor_wallets"]
    assert [t["gross"] for t in totals.values()] == [100_000 + 1000]
    logged = client.get(
        "/audit", params={"entity": "day_close"}, headers=world.headers("admin")
    ).json()["items"]
    assert [(e["action"], e["market_id"]) for e in logged] == [("close", world.market_a)]
    # a refund of the closed day's payment lands on today and leaves the closed day unchanged
    _money(
        client, f"/payments/{late['id']}/refunds", world.headers("vendor"), "r", {"amount": 1000}
    )
    assert (
        client.post(f"/markets/{world.market_a}/days/2026-11-26/close", headers=manager).json()[
            "code"
        ]
        == "day-closed"
    )
    assert _audit(client, world) == []


def test_statement_pages_neither_repeat_nor_skip_under_writes(
    client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    for n in range(12):
        _money(client, "/wallets/me/top-ups", shopper, f"s{n}", {"amount": 1000 + n})
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = client.get("/wallets/me/statement", headers=shopper, params=params).json()
        seen += [line["entry_id"] for line in page["items"]]
        if len(seen) == 5:  # new money arrives between pages: it is newer, so not in later pages
            _money(client, "/wallets/me/top-ups", shopper, "during", {"amount": 7})
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 13  # the seed top-up and the twelve
    assert seen == sorted(seen, reverse=True)


def test_posted_rows_cannot_be_changed(
    engine: Engine, client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    for statement in (
        "UPDATE entry SET amount = amount + 1",
        "DELETE FROM entry",
        "UPDATE transfer SET amount = 1",
        "DELETE FROM transfer",
    ):
        with pytest.raises(DBAPIError), engine.begin() as conn:
            conn.execute(text(statement))
    with Session(engine) as session:
        assert ledger.audit(session) == []


def test_wallet_login_and_pin_rules(client: TestClient, world: World) -> None:
    bad_pin = client.post(
        "/wallets", json={"phone": "0904444444", "pin": "12ab56", "full_name": "A"}
    )
    assert bad_pin.status_code == 422
    assert bad_pin.json()["errors"][0]["field"] == "pin"
    bad_phone = client.post(
        "/wallets", json={"phone": "0212345678", "pin": "123456", "full_name": "A"}
    )
    assert bad_phone.status_code == 422
    assert bad_phone.json()["errors"][0]["field"] == "phone"
    both = client.post("/wallets", json={"phone": "0212345678", "pin": "12", "full_name": "A"})
    assert both.status_code == 422
    assert [(e["field"], e["message"]) for e in both.json()["errors"]] == [
        ("phone", "không phải số di động Việt Nam (not a Vietnamese mobile number)"),
        ("pin", "mã PIN gồm đúng 6 chữ số (6 digits)"),
    ]
    _open(client, "0904444444")
    again = client.post("/wallets", json={"phone": "090 444 4444", "pin": PIN, "full_name": "B"})
    assert again.status_code == 409
    login = client.post("/wallets/token", json={"phone": "+84904444444", "pin": PIN})
    assert login.status_code == 200
    wrong = client.post("/wallets/token", json={"phone": "0904444444", "pin": "000000"})
    assert wrong.status_code == 401
    assert wrong.json()["detail"] == "Sai số điện thoại hoặc mã PIN (wrong phone number or PIN)."
    nobody = client.post("/wallets/token", json={"phone": "0905555555", "pin": "000000"})
    assert (nobody.status_code, nobody.json()["detail"]) == (401, wrong.json()["detail"])
