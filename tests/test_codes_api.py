"""Stall codes through the API: the live code follows the vendor and account, reprints get new
serials, revoked codes are known, pictures carry ETags, sheets and per-sale codes scan."""

from __future__ import annotations

import io
from typing import Any

import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine

from qr.vietqr import Initiation, decode
from tests.conftest import World, snapshot_database


def _code(client: TestClient, world: World, who: str = "manager") -> dict[str, Any]:
    response = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_the_live_code_pays_the_default_account(client: TestClient, world: World) -> None:
    code = _code(client, world)
    value = decode(code["payload"]).value
    assert (value.bin, value.account) == ("971005", "0912345678")
    assert value.initiation is Initiation.STATIC
    assert value.amount is None
    assert value.terminal_label == code["serial"]
    assert value.store_label == "B-12"
    assert code["account_number_masked"].endswith("5678")
    assert code["holder_name"] == "NGUYEN THI HUONG"
    assert _code(client, world, "vendor")["serial"] == code["serial"]  # the vendor sees its own


def test_reprint_replaces_and_history_keeps_the_old_serial(
    client: TestClient, world: World
) -> None:
    h = world.headers("manager")
    first = _code(client, world)
    second = client.post(f"/stalls/{world.stall_a}/code/reprint", headers=h).json()
    assert second["serial"] != first["serial"]
    assert second["payload"] != first["payload"]
    history = client.get(f"/stalls/{world.stall_a}/boards", headers=h).json()
    assert [(b["serial"], b["status"]) for b in history] == [
        (first["serial"], "replaced"),
        (second["serial"], "live"),
    ]


def test_leaving_the_stall_or_changing_account_revokes(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    first = _code(client, world)
    client.post(
        f"/vendors/{world.vendor_a}/payout-accounts",
        headers=h,
        json={"bin": "970405", "account_number": "8800123456789"},
    )
    second = _code(client, world)
    assert decode(second["payload"]).value.bin == "970405"
    client.post(f"/stalls/{world.stall_a}/assignments/current/end", headers=h, json={})
    gone = client.get(f"/stalls/{world.stall_a}/code", headers=h)
    assert gone.status_code == 409
    assert gone.json()["code"] == "invalid-state"
    history = client.get(f"/stalls/{world.stall_a}/boards", headers=h).json()
    assert [b["status"] for b in history] == ["revoked", "revoked"]
    assert history[0]["serial"] == first["serial"]
    assert history[0]["end_reason"]
    # a new vendor with an account gets a new live code
    client.post(
        f"/stalls/{world.stall_a}/assignments", headers=h, json={"vendor_id": world.vendor_a2}
    )
    assert client.get(f"/stalls/{world.stall_a}/code", headers=h).status_code == 409
    client.post(
        f"/vendors/{world.vendor_a2}/payout-accounts",
        headers=h,
        json={"bin": "970418", "account_number": "21510000123456"},
    )
    assert decode(_code(client, world)["payload"]).value.account == "21510000123456"


def test_suspending_a_stall_revokes_and_reopening_reissues(
    client: TestClient, world: World
) -> None:
    h = world.headers("manager")
    client.patch(f"/stalls/{world.stall_a}", headers=h, json={"status": "suspended"})
    assert client.get(f"/stalls/{world.stall_a}/code", headers=h).status_code == 409
    client.patch(f"/stalls/{world.stall_a}", headers=h, json={"status": "occupied"})
    assert _code(client, world)["status"] == "live"


def test_board_pictures_scan_and_carry_etags(client: TestClient, world: World) -> None:
    h = world.headers("vendor")
    payload = _code(client, world)["payload"]
    for kind, media in [("png", "image/png"), ("pdf", "application/pdf"), ("svg", "image/svg+xml")]:
        response = client.get(f"/stalls/{world.stall_a}/board.{kind}", headers=h)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media)
        tag = response.headers["etag"]
        again = client.get(
            f"/stalls/{world.stall_a}/board.{kind}", headers={**h, "If-None-Match": tag}
        )
        assert again.status_code == 304
    png = client.get(f"/stalls/{world.stall_a}/board.png", headers=h)
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [
        payload
    ]
    bare = client.get(f"/stalls/{world.stall_a}/code.png", headers=h)
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(bare.content)))] == [
        payload
    ]
    assert client.get(f"/stalls/{world.stall_a}/code.svg", headers=h).text.startswith("<?xml")
    client.post(f"/stalls/{world.stall_a}/code/reprint", headers=world.headers("manager"))
    changed = client.get(
        f"/stalls/{world.stall_a}/board.png", headers={**h, "If-None-Match": png.headers["etag"]}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != png.headers["etag"]


def test_sale_code_for_an_amount(client: TestClient, world: World, engine: Engine) -> None:
    h = world.headers("vendor")
    sale = client.post(f"/stalls/{world.stall_a}/sale-code", headers=h, json={"amount": 150000})
    assert sale.status_code == 200
    body = sale.json()
    assert body["amount_text"] == "150.000\u00a0₫"
    assert body["amount_words"] == "Một trăm năm mươi nghìn đồng"
    value = decode(body["payload"]).value
    assert value.initiation is Initiation.DYNAMIC
    assert value.amount == 150000
    card = client.get(
        f"/stalls/{world.stall_a}/sale-code.png",
        headers=h,
        params={"amount": 150000, "reference": body["reference"]},
    )
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(card.content)))] == [
        body["payload"]
    ]
    before = snapshot_database(engine)
    for bad in [0, -5, 1.5, "abc", 500_000_000, 10**20]:
        response = client.post(
            f"/stalls/{world.stall_a}/sale-code", headers=h, json={"amount": bad}
        )
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["field"] == "amount"
    memo = client.post(
        f"/stalls/{world.stall_a}/sale-code", headers=h, json={"amount": 5000, "memo": "x" * 26}
    )
    assert memo.status_code == 422
    assert snapshot_database(engine) == before


def test_market_and_zone_sheets(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    sheet = client.get(f"/markets/{world.market_a}/sheet.pdf", headers=h)
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"%PDF")
    zone = client.get(
        f"/markets/{world.market_a}/sheet.pdf", headers=h, params={"zone_id": world.zone_a}
    )
    assert zone.status_code == 200
    assert (
        client.get(
            f"/markets/{world.market_a}/sheet.pdf", headers=world.headers("manager_b")
        ).status_code
        == 404
    )


def test_decode_endpoint_explains(client: TestClient, world: World) -> None:
    h = world.headers("shopper")
    good = client.post(
        "/qr/decode", headers=h, json={"payload": _code(client, world)["payload"]}
    ).json()
    assert good["valid"]
    assert good["fields"]["bank"] == "ViettelMoney"
    broken = client.post(
        "/qr/decode",
        headers=h,
        json={
            "payload": "00020101021138570010A000000727012700069704030112001101234567"
            "80208QRIBFTTA53037045802VN6304F4E5"
        },
    ).json()
    assert not broken["valid"]
    assert broken["problems"][0]["code"] == "length-mismatch"
    vnpay = client.post(
        "/qr/decode",
        headers=h,
        json={
            "payload": "00020101021126280010A00000077501100108799042520459775303704"
            "5802VN5909MYPHAMHER6005HANOI62260311MY PHAM HER0707MPHER0163041C50"
        },
    ).json()
    assert vnpay["scheme"] == "vnpay-qr"
    assert vnpay["fields"]["merchant_name"] == "MYPHAMHER"
