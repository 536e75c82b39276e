"""The payee as registered (#9 defect 13): decoding a live stall code shows its market, stall and
holder (masked for shoppers), and payments and statements name the stall, market and vendor
instead of the board serial."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from qr.vietqr import VietQR, encode
from tests.conftest import World
from tests.test_wallets_api import _money, _open


@pytest.fixture
def payer(client: TestClient, world: World) -> dict[str, str]:
    headers = _open(client, "0901234567")
    assert _money(client, "/wallets/me/top-ups", headers, "seed", {"amount": 1_000_000}).is_success
    return headers


def _code(client: TestClient, world: World) -> dict[str, Any]:
    code: dict[str, Any] = client.get(
        f"/stalls/{world.stall_a}/code", headers=world.headers("manager")
    ).json()
    return code


def test_decoding_a_live_stall_code_shows_who_it_pays(
    client: TestClient, world: World, payer: dict[str, str]
) -> None:
    code = _code(client, world)
    holder = code["holder_name"]
    shown = client.post("/qr/decode", headers=payer, json={"payload": code["payload"]}).json()
    assert shown["registered"] == {
        "market": "Chợ Mậu A",
        "stall": "B-12",
        "holder": holder.split()[0] + " T** H****",
        "vendor": "Nguyễn T** H****",
    }
    managed = client.post(
        "/qr/decode", headers=world.headers("manager"), json={"payload": code["payload"]}
    ).json()
    assert managed["registered"] == {
        "market": "Chợ Mậu A",
        "stall": "B-12",
        "holder": holder,
        "vendor": "Nguyễn Thị Hường",
    }
    elsewhere = encode(VietQR.build(bin="970436", account="0011004455667"))
    unknown = client.post("/qr/decode", headers=payer, json={"payload": elsewhere}).json()
    assert (unknown["valid"], unknown["registered"]) == (True, None)


def test_payments_and_statements_name_the_stall_market_and_vendor(
    client: TestClient, world: World, payer: dict[str, str]
) -> None:
    code = _code(client, world)
    paid = _money(
        client, "/wallets/me/payments", payer, "named", {"payload": code["payload"], "amount": 5000}
    ).json()
    payee = {"stall": "B-12", "market": "Chợ Mậu A", "vendor": "Nguyễn T** H****"}
    assert paid["payee"] == payee
    assert "B-12" in paid["memo"]
    assert code["serial"] not in paid["memo"]
    line = client.get("/wallets/me/statement", headers=payer).json()["items"][0]
    assert (line["transfer_id"], line["payee"]) == (paid["id"], payee)
    assert code["serial"] not in line["memo"]
    vendor_line = client.get(
        f"/payout-accounts/{world.account_a}/statement", headers=world.headers("vendor")
    ).json()["items"][0]
    assert vendor_line["payee"] == payee | {"vendor": "Nguyễn Thị Hường"}
