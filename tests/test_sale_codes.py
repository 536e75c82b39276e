"""Per-sale codes (#9 defect 12): each carries its own reference, pays once, and an idempotent
replay of the request that paid it still replays."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from qr.vietqr import VietQR, decode, encode
from tests.conftest import World, snapshot_database
from tests.test_wallets_api import _audit, _balance, _money, _open


@pytest.fixture
def payer(client: TestClient, world: World) -> dict[str, str]:
    headers = _open(client, "0901234567")
    assert _money(client, "/wallets/me/top-ups", headers, "seed", {"amount": 1_000_000}).is_success
    return headers


def _without_keys(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {table: rows for table, rows in snapshot.items() if table != "idempotency_record"}


def _sale(client: TestClient, world: World, amount: int) -> dict[str, Any]:
    response = client.post(
        f"/stalls/{world.stall_a}/sale-code",
        headers=world.headers("vendor"),
        json={"amount": amount},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_two_sales_of_the_same_amount_get_their_own_references(
    client: TestClient, world: World
) -> None:
    first, second = _sale(client, world, 45_000), _sale(client, world, 45_000)
    assert first["payload"] != second["payload"]
    assert first["reference"] != second["reference"]
    assert decode(first["payload"]).value.bill_number == first["reference"]
    assert len(first["reference"]) <= 25


def test_a_per_sale_code_pays_once_and_its_request_still_replays(
    client: TestClient, world: World, payer: dict[str, str], engine: Engine
) -> None:
    sale = _sale(client, world, 45_000)
    body = {"payload": sale["payload"]}
    paid = _money(client, "/wallets/me/payments", payer, "once", body)
    assert paid.status_code == 201, paid.text
    replay = _money(client, "/wallets/me/payments", payer, "once", body)
    assert (replay.status_code, replay.json()) == (201, paid.json())
    assert replay.headers["Idempotent-Replayed"] == "true"
    before = _without_keys(snapshot_database(engine))
    again = _money(client, "/wallets/me/payments", payer, "twice", body)
    assert (again.status_code, again.json()["code"]) == (409, "code-used")
    assert again.headers["content-type"] == "application/problem+json"
    assert _without_keys(snapshot_database(engine)) == before  # only the refusal's key stored
    other = _open(client, "0907654321")
    _money(client, "/wallets/me/top-ups", other, "seed", {"amount": 100_000})
    by_other = _money(client, "/wallets/me/payments", other, "theirs", body)
    assert (by_other.status_code, by_other.json()["code"]) == (409, "code-used")
    assert _balance(client, other) == 100_000
    assert _balance(client, payer) == 1_000_000 - 45_000
    assert _audit(client, world) == []


def test_a_reference_the_market_never_issued_is_refused(
    client: TestClient, world: World, payer: dict[str, str]
) -> None:
    sale = decode(_sale(client, world, 45_000)["payload"]).value
    forged = encode(
        VietQR.build(
            bin=sale.bin,
            account=sale.account,
            amount=45_000,
            memo=sale.memo,
            bill_number="HD000000000000",
            store_label=sale.store_label,
            terminal_label=sale.terminal_label,
        )
    )
    refused = _money(client, "/wallets/me/payments", payer, "forged", {"payload": forged})
    assert (refused.status_code, refused.json()["code"]) == (422, "unknown-code")
    assert _balance(client, payer) == 1_000_000


def test_the_card_of_an_issued_code_draws_that_code(client: TestClient, world: World) -> None:
    sale = _sale(client, world, 20_000)
    h = world.headers("vendor")
    card = client.get(
        f"/stalls/{world.stall_a}/sale-code.png",
        headers=h,
        params={"amount": 20_000, "reference": sale["reference"]},
    )
    assert card.status_code == 200
    drawn = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.content)))
    assert [r.text for r in drawn] == [sale["payload"]]
    wrong = client.get(
        f"/stalls/{world.stall_a}/sale-code.png",
        headers=h,
        params={"amount": 30_000, "reference": sale["reference"]},
    )
    assert wrong.status_code == 404


def test_drawing_a_card_issues_no_code(client: TestClient, world: World, engine: Engine) -> None:
    """A GET changes nothing: without a reference it is refused, and nothing is issued."""
    before = snapshot_database(engine)
    for params in [{"amount": 20_000}, {"amount": 20_000, "reference": ""}]:
        card = client.get(
            f"/stalls/{world.stall_a}/sale-code.png", headers=world.headers("vendor"), params=params
        )
        assert card.status_code == 422, card.text
        assert [e["field"] for e in card.json()["errors"]] == ["reference"]
    unknown = client.get(
        f"/stalls/{world.stall_a}/sale-code.png",
        headers=world.headers("vendor"),
        params={"amount": 20_000, "reference": "HD000000000000"},
    )
    assert unknown.status_code in (404, 422), unknown.text
    assert snapshot_database(engine) == before


def test_concurrent_payments_of_one_code_pay_it_once(
    client: TestClient, world: World, engine: Engine
) -> None:
    payers = []
    for n in range(4):
        headers = _open(client, f"090765432{n}")
        assert _money(client, "/wallets/me/top-ups", headers, "seed", {"amount": 50_000}).is_success
        payers.append(headers)
    body = {"payload": _sale(client, world, 45_000)["payload"]}
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(lambda h: _money(client, "/wallets/me/payments", h, "race", body), payers)
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [201, 409, 409, 409], [a.text for a in answers]
    assert sorted(_balance(client, h) for h in payers) == [5_000, 50_000, 50_000, 50_000]
    assert _audit(client, world) == []
