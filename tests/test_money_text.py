"""Money in messages a person reads: every amount printed as `150.000 ₫` (dot thousands, a
no-break space before the sign), through `qr.amounts.format_vnd`, in refusals of the API and of
the VietQR codec alike."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from qr.amounts import format_vnd
from qr.vietqr import MAX_AMOUNT, VietQR, VietQRError
from tests.conftest import World

NBSP = "\u00a0"
# An amount printed any other way: digits not grouped by dots, or ₫ after an ordinary space.
BADLY_PRINTED = re.compile(r"[0-9]{4}|[0-9],[0-9]{3}| ₫")


def _money(
    client: TestClient, path: str, headers: dict[str, str], key: str, body: dict[str, Any]
) -> httpx.Response:
    return client.post(path, headers=headers | {"Idempotency-Key": key}, json=body)


@pytest.fixture
def shopper(client: TestClient, world: World) -> dict[str, str]:
    opened = client.post(
        "/wallets", json={"phone": "0901234567", "pin": "246810", "full_name": "Người Mua"}
    )
    headers = {"Authorization": f"Bearer {opened.json()['access_token']}"}
    assert _money(client, "/wallets/me/top-ups", headers, "seed", {"amount": 1_000_000}).is_success
    return headers


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "0\u00a0₫"),
        (999, "999\u00a0₫"),
        (150_000, "150.000\u00a0₫"),
        (-1_234_567, "-1.234.567\u00a0₫"),
    ],
)
def test_format_vnd(amount: int, text: str) -> None:
    assert format_vnd(amount) == text


@given(st.integers(min_value=0, max_value=10**15))
def test_format_vnd_reads_back(amount: int) -> None:
    digits, sign = format_vnd(amount).split(NBSP)
    assert sign == "₫"
    assert re.fullmatch(r"[0-9]{1,3}(\.[0-9]{3})*", digits)
    assert int(digits.replace(".", "")) == amount


def _detail(response: httpx.Response, status: int, code: str) -> str:
    assert (response.status_code, response.json()["code"]) == (status, code), response.text
    detail: str = response.json()["detail"]
    assert not BADLY_PRINTED.search(detail), detail
    return detail


def test_a_refund_refusal_prints_its_amounts(
    client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    payload = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager")).json()[
        "payload"
    ]
    paid = _money(
        client, "/wallets/me/payments", shopper, "p", {"payload": payload, "amount": 150_000}
    ).json()
    vendor = world.headers("vendor")
    assert _money(client, f"/payments/{paid['id']}/refunds", vendor, "a", {"amount": 60_000})
    too_much = _money(client, f"/payments/{paid['id']}/refunds", vendor, "b", {"amount": 90_001})
    detail = _detail(too_much, 409, "refund-exceeds-payment")
    assert "Đã hoàn 60.000\u00a0₫ trên 150.000\u00a0₫" in detail
    assert "thêm 90.001\u00a0₫" in detail


def test_limit_refusals_print_their_limits(
    client: TestClient, world: World, shopper: dict[str, str]
) -> None:
    napas = _money(client, "/wallets/me/top-ups", shopper, "cap", {"amount": 500_000_000})
    assert "dưới 500.000.000\u00a0₫" in _detail(napas, 402, "limit-exceeded")
    payload = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager")).json()[
        "payload"
    ]
    for n in range(3):
        _money(client, "/wallets/me/top-ups", shopper, f"t{n}", {"amount": 400_000_000})
    body = {"payload": payload, "amount": 100_000_001}
    monthly = _money(client, "/wallets/me/payments", shopper, "p", body)
    assert "100.000.000\u00a0₫/tháng" in _detail(monthly, 402, "limit-exceeded")


def test_a_fixed_amount_refusal_prints_the_amount(
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
    assert "số tiền 45.000\u00a0₫" in _detail(override, 422, "amount-override")


def test_the_codec_prints_the_napas_limit() -> None:
    with pytest.raises(VietQRError) as refused:
        VietQR.build(bin="970405", account="123", amount=MAX_AMOUNT + 1)
    reason = refused.value.problems[0].reason
    assert "dưới 500.000.000\u00a0₫" in reason
    assert not BADLY_PRINTED.search(reason)
