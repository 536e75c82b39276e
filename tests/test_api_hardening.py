"""Issue 9, the API layer: ids and numbers bounded the same way on both databases, strict
integers, booleans and ISO dates, 413 for oversized chunked bodies, a required Idempotency-Key in
the OpenAPI document, Vietnamese-first field messages with the stated limits, and the role check
before body validation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Any, get_args, get_origin

import pytest
from annotated_types import Interval
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, BeforeValidator, Strict
from pydantic.fields import FieldInfo
from sqlalchemy import Engine

from api.app import create_app
from market import inputs
from market.inputs import MAX_ID
from market.settings import Settings
from tests.conftest import FrozenClock, World, snapshot_database

HUGE = "99999999999999999999"  # above 2⁶³
JSON = {"content-type": "application/json"}


def _assert_validation_problem(response: Any, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == "validation-error"
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, body
    return body


# ---------------------------------------------------------------------------------------------
# 1. Ids above 2⁶³: the same 422 on SQLite and PostgreSQL


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/markets/{HUGE}", "market_id"),
        (f"/vendors?market_id={HUGE}", "market_id"),
        (f"/audit?entity_id={HUGE}", "entity_id"),
        (f"/audit?market_id={HUGE}", "market_id"),
        (f"/stalls/{HUGE}", "stall_id"),
        (f"/markets/1/stalls?vendor_id={HUGE}", "vendor_id"),
        (f"/users/{HUGE}", "user_id"),
        (f"/payout-accounts/{HUGE}", "account_id"),
        (f"/markets/{MAX_ID + 1}", "market_id"),
        ("/markets/0", "market_id"),
        ("/markets/-1", "market_id"),
    ],
)
def test_an_id_out_of_range_is_a_validation_problem(
    client: TestClient, world: World, path: str, field: str
) -> None:
    body = _assert_validation_problem(client.get(path, headers=world.headers("admin")), field)
    assert "Dữ liệu không hợp lệ" in body["detail"]
    # the connection and the service are fine afterwards
    assert client.get("/health").status_code == 200


def test_the_largest_id_is_looked_up(client: TestClient, world: World) -> None:
    response = client.get(f"/markets/{MAX_ID}", headers=world.headers("admin"))
    assert response.status_code == 404, response.text


def test_an_id_in_a_body_out_of_range_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    response = client.post(
        f"/stalls/{world.stall_vacant}/assignments",
        headers=world.headers("admin") | JSON,
        content='{"vendor_id": ' + HUGE + "}",
    )
    _assert_validation_problem(response, "vendor_id")
    users = client.post(
        "/users",
        headers=world.headers("admin") | JSON,
        content='{"username": "big.one", "password": "a-long-password", "role": "manager", '
        '"market_ids": [' + HUGE + "]}",
    )
    _assert_validation_problem(users, "market_ids.0")
    assert snapshot_database(engine) == before


@pytest.mark.parametrize(
    "path",
    [
        f"/payout-accounts/{HUGE}/wallet",
        f"/simulations/{HUGE}",
        f"/stalls/{HUGE}/code",
        f"/vendors/{HUGE}/webhooks",
        f"/vendors/{HUGE}/slip",
    ],
)
def test_other_routes_answer_huge_ids_the_same_way(
    client: TestClient, world: World, path: str
) -> None:
    response = client.get(path, headers=world.headers("admin"))
    _assert_validation_problem(response)


# ---------------------------------------------------------------------------------------------
# 9. Strict integers, booleans and ISO dates


def test_a_day_is_an_iso_date_only(client: TestClient, world: World, engine: Engine) -> None:
    before = snapshot_database(engine)
    h = world.headers("admin")
    for day in ("0", "1700000000", "2026-11-25T00:00:00", "25-11-2026", "2026-02-30"):
        response = client.post(f"/markets/{world.market_a}/days/{day}/close", headers=h)
        _assert_validation_problem(response, "day")
    slip = client.get(f"/vendors/{world.vendor_a}/slip", params={"day": "0"}, headers=h)
    _assert_validation_problem(slip, "day")
    assert snapshot_database(engine) == before


def test_a_day_before_2000_is_not_closed(client: TestClient, world: World, engine: Engine) -> None:
    before = snapshot_database(engine)
    h = world.headers("manager")
    for day in ("1900-01-01", "1999-12-31"):
        response = client.post(f"/markets/{world.market_a}/days/{day}/close", headers=h)
        body = _assert_validation_problem(response, "day")
        assert "từ 01/01/2000 đến hôm qua" in body["detail"]
    assert snapshot_database(engine) == before
    first = client.post(f"/markets/{world.market_a}/days/2000-01-01/close", headers=h)
    assert first.status_code == 200, first.text


def test_a_day_is_not_closed_for_a_market_that_does_not_exist(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    missing = max(world.market_a, world.market_b) + 100
    response = client.post(
        f"/markets/{missing}/days/2026-01-01/close", headers=world.headers("admin")
    )
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "not-found"
    assert snapshot_database(engine) == before


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "/stalls/{sv}/assignments", {"vendor_id": False}, "vendor_id"),
        ("POST", "/stalls/{sv}/assignments", {"vendor_id": "1.0"}, "vendor_id"),
        ("POST", "/stalls/{sv}/assignments", {"vendor_id": 1.0}, "vendor_id"),
        ("POST", "/stalls/{sv}/assignments", {"vendor_id": 1, "start_date": 0}, "start_date"),
        (
            "POST",
            "/stalls/{sv}/assignments",
            {"vendor_id": 1, "start_date": "2026-11-25T00:00:00"},
            "start_date",
        ),
        ("PATCH", "/stalls/{sa}", {"area_m2": True}, "area_m2"),
        ("PATCH", "/stalls/{sa}", {"monthly_fee": True}, "monthly_fee"),
        ("PATCH", "/stalls/{sa}", {"monthly_fee": "1.000"}, "monthly_fee"),
        ("PATCH", "/stalls/{sa}", {"monthly_fee": 1e3}, "monthly_fee"),
        ("PATCH", "/stalls/{sa}", {"zone_id": True}, "zone_id"),
        ("PATCH", "/payout-accounts/{aa}", {"is_default": 0}, "is_default"),
        ("PATCH", "/payout-accounts/{aa}", {"is_default": "yes"}, "is_default"),
        ("PATCH", "/vendors/{va}", {"fee_bps": False}, "fee_bps"),
        ("PATCH", "/users/{u}", {"market_ids": [True]}, "market_ids.0"),
        ("POST", "/wallets/me/top-ups", {"amount": True}, "amount"),
        ("POST", "/stalls/{sa}/sale-code", {"amount": True}, "amount"),
    ],
)
def test_numbers_booleans_and_dates_are_strict(
    client: TestClient,
    world: World,
    engine: Engine,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    ids = {
        "sa": world.stall_a,
        "sv": world.stall_vacant,
        "aa": world.account_a,
        "va": world.vendor_a,
        "u": world.user_ids["manager"],
    }
    who = "shopper" if path.startswith("/wallets") else "admin"
    before = snapshot_database(engine)
    response = client.request(
        method,
        path.format(**ids),
        json=body,
        headers=world.headers(who) | {"Idempotency-Key": "strict-1"},
    )
    _assert_validation_problem(response, field)
    assert snapshot_database(engine) == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/vendors?has_payout_account=0", "has_payout_account"),
        ("/vendors?has_payout_account=yes", "has_payout_account"),
        ("/vendors?limit=5.0", "limit"),
        ("/vendors?limit=1_0", "limit"),
        ("/vendors?limit=%205", "limit"),
        ("/vendors?market_id=true", "market_id"),
        ("/vendors/{va}/payout-accounts?include_inactive=1", "include_inactive"),
        ("/markets/{a}/stalls?zone_id=1.0", "zone_id"),
        ("/markets/1e0", "market_id"),
        ("/vendors/{va}/events?follow=0", "follow"),
    ],
)
def test_query_and_path_values_are_strict(
    client: TestClient, world: World, path: str, field: str
) -> None:
    path = path.format(a=world.market_a, va=world.vendor_a)
    _assert_validation_problem(client.get(path, headers=world.headers("admin")), field)


def test_plain_query_values_still_work(client: TestClient, world: World) -> None:
    h = world.headers("admin")
    listed = client.get("/vendors", params={"has_payout_account": "true", "limit": "2"}, headers=h)
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) <= 2
    assert client.get(f"/markets/{world.market_a}", headers=h).status_code == 200


# ---------------------------------------------------------------------------------------------
# 6. An oversized chunked body is 413, for JSON and multipart alike


@pytest.fixture
def small_client(
    db_url: str, engine: Engine, clock: FrozenClock, world: World
) -> Iterator[TestClient]:
    settings = Settings(DATABASE_URL=db_url, webhook_worker=False, max_body_bytes=1024)
    app = create_app(settings, engine=engine, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def _chunks(*parts: bytes) -> Iterator[bytes]:
    yield from parts


def _assert_too_large(response: Any) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload-too-large"


def test_an_oversized_chunked_json_body_is_413(
    small_client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    body = b'{"code": "cho-lon", "name": "' + b"x" * 3000 + b'"}'
    response = small_client.post(
        "/markets",
        content=_chunks(body[:500], body[500:1500], body[1500:]),
        headers=world.headers("admin") | {"content-type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    _assert_too_large(response)
    assert snapshot_database(engine) == before


def test_an_oversized_chunked_money_request_is_413_and_claims_no_key(
    small_client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    body = b'{"amount": 1000, "padding": "' + b"x" * 3000 + b'"}'
    headers = world.headers("shopper") | {"content-type": "application/json"}
    response = small_client.post(
        "/wallets/me/top-ups",
        content=_chunks(body[:500], body[500:1500], body[1500:]),
        headers=headers | {"Idempotency-Key": "too-large-1"},
    )
    _assert_too_large(response)
    assert snapshot_database(engine) == before


def test_an_oversized_chunked_multipart_body_is_413(
    small_client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    boundary = "cho-boundary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
        f"Content-Type: text/csv\r\n\r\nMã ki-ốt\r\n{'Q-1' * 1000}\r\n--{boundary}--\r\n"
    ).encode()
    response = small_client.post(
        f"/markets/{world.market_a}/import?dry_run=false",
        content=_chunks(body[:700], body[700:]),
        headers=world.headers("admin")
        | {"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    _assert_too_large(response)
    assert snapshot_database(engine) == before


def test_a_chunked_body_under_the_limit_passes(small_client: TestClient, world: World) -> None:
    body = b'{"code": "cho-nho", "name": "Ch\xe1\xbb\xa3 nh\xe1\xbb\x8f"}'
    response = small_client.post(
        "/markets",
        content=_chunks(body[:10], body[10:]),
        headers=world.headers("admin") | {"content-type": "application/json"},
    )
    assert response.status_code == 201, response.text


# ---------------------------------------------------------------------------------------------
# 10. The OpenAPI document says Idempotency-Key is required where it is


def test_idempotency_key_is_required_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    keyed = {
        (method.upper(), path): parameter
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"].lower() == "idempotency-key"
    }
    assert ("POST", "/wallets/me/top-ups") in keyed
    assert ("POST", "/payments/{payment_id}/refunds") in keyed
    assert len(keyed) >= 7
    for parameter in keyed.values():
        assert parameter["required"] is True
        assert parameter["schema"]["type"] == "string"


def test_a_money_request_without_the_key_is_still_its_own_problem(
    client: TestClient, world: World
) -> None:
    response = client.post(
        "/wallets/me/top-ups", json={"amount": 1000}, headers=world.headers("shopper")
    )
    assert response.status_code == 400
    assert response.json()["code"] == "missing-idempotency-key"


# ---------------------------------------------------------------------------------------------
# 15. Field messages: Vietnamese first, English second, the stated limits


def _messages(response: Any) -> dict[str, str]:
    body = _assert_validation_problem(response)
    return {e["field"]: e["message"] for e in body["errors"]}


def _vietnamese_first(message: str) -> None:
    assert "Input should" not in message
    assert "Value error" not in message
    assert not message.isascii(), message  # Vietnamese (with its diacritics) comes first
    vietnamese, _, english = message.partition(" (")
    assert vietnamese, message
    assert not vietnamese.isascii(), message
    assert english.endswith(")"), message
    assert english.isascii(), message


def test_field_messages_are_vietnamese_first_with_the_stated_limits(
    client: TestClient, world: World
) -> None:
    h = world.headers("admin")
    market = _messages(
        client.post(
            "/markets",
            headers=h,
            json={"code": "Chợ!", "name": "x" * 121, "address": "y" * 201, "commune": 5},
        )
    )
    assert market["name"] == "tối đa 120 ký tự (at most 120 characters)"
    assert market["address"] == "tối đa 200 ký tự (at most 200 characters)"
    assert market["code"] == (
        "không đúng định dạng: chữ thường không dấu, chữ số và dấu gạch ngang giữa các phần,"
        " ví dụ mau-a (lowercase letters and digits in parts joined by single hyphens, e.g. mau-a)"
    )
    assert market["commune"] == "phải là chuỗi ký tự (must be text)"
    vendor = _messages(
        client.post(
            f"/markets/{world.market_a}/vendors",
            headers=h,
            json={"full_name": "", "phone": "12345", "fee_bps": 5000},
        )
    )
    assert vendor["full_name"] == "không được để trống (must not be empty)"
    assert vendor["phone"] == "không phải số di động Việt Nam (not a Vietnamese mobile number)"
    assert vendor["fee_bps"] == "quá lớn, tối đa là 1.000 (too large: at most 1,000)"
    stall = _messages(
        client.post(
            f"/markets/{world.market_a}/stalls",
            headers=h,
            json={"category": "fish", "monthly_fee": -1, "area_m2": "big", "zone_id": "x"},
        )
    )
    assert stall["code"] == "bắt buộc phải có (required)"
    assert stall["category"].startswith("phải là một trong: 'vegetables', ")
    assert "hoặc 'other'" in stall["category"]
    assert stall["monthly_fee"] == "phải từ 0 trở lên (must be at least 0)"
    assert stall["area_m2"] == "phải là số (must be a number)"
    assert stall["zone_id"] == "phải là số nguyên (must be a whole number)"
    assignment = _messages(
        client.post(
            f"/stalls/{world.stall_vacant}/assignments",
            headers=h,
            json={"vendor_id": 0, "start_date": "26/11/2026"},
        )
    )
    assert assignment["vendor_id"] == "phải từ 1 trở lên (must be at least 1)"
    assert (
        assignment["start_date"]
        == "phải là ngày dạng YYYY-MM-DD (must be a date written YYYY-MM-DD)"
    )
    user = _messages(
        client.post(
            "/users",
            headers=h,
            json={
                "username": "ab",
                "password": "short",
                "role": "boss",
                "market_ids": list(range(1, 102)),
                "vendor_id": True,
            },
        )
    )
    assert user["password"] == "phải có ít nhất 8 ký tự (at least 8 characters)"
    assert user["market_ids"] == "tối đa 100 mục (at most 100 items)"
    assert user["vendor_id"] == "phải là số nguyên (must be a whole number)"
    query = _messages(client.get("/vendors", params={"has_payout_account": "1"}, headers=h))
    assert query["has_payout_account"] == "phải là true hoặc false (must be true or false)"
    for messages in (market, vendor, stall, assignment, user, query):
        for message in messages.values():
            _vietnamese_first(message)


def test_unreadable_json_is_about_the_body_and_says_where(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    response = client.post(
        f"/markets/{world.market_a}/stalls",
        content=b'{"code": "C-01", ',
        headers=world.headers("manager") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    [error] = response.json()["errors"]
    assert error["field"] == "body"  # not "17", the character position
    assert error["code"] == "json_invalid"
    assert error["message"].startswith("JSON không đọc được ở ký tự 17 (invalid JSON at")
    assert snapshot_database(engine) == before


def test_a_too_large_amount_is_refused_as_too_large_and_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    huge = 10**20
    before = snapshot_database(engine)
    shopper = {**world.headers("shopper"), "Idempotency-Key": "huge-top-up"}
    top_up = _messages(client.post("/wallets/me/top-ups", headers=shopper, json={"amount": huge}))
    assert top_up["amount"] == (
        "quá lớn, tối đa là 1.000.000.000.000 (too large: at most 1,000,000,000,000)"
    )
    h = world.headers("manager")
    fee = _messages(
        client.post(
            f"/markets/{world.market_a}/stalls",
            headers=h,
            json={"code": "Z-1", "monthly_fee": huge},
        )
    )
    assert fee["monthly_fee"].startswith("quá lớn, tối đa là 1.000.000.000.000 (")
    card = _messages(
        client.get(
            f"/stalls/{world.stall_a}/sale-code.png",
            params={"amount": str(huge), "reference": "HD000000000001"},
            headers=h,
        )
    )
    assert card["amount"] == "quá lớn, tối đa là 499.999.999 (too large: at most 499,999,999)"
    longer = _messages(
        client.get(f"/vendors/{world.vendor_a}/slip", params={"cash": "9" * 41}, headers=h)
    )
    assert longer["cash"] == "số quá lớn (number too large)"
    rows = "Mã ki-ốt,Phí tháng (đồng)\nZ-1,100000000000000000000\n"
    imported = client.post(
        f"/markets/{world.market_a}/import",
        params={"dry_run": "false"},
        files={"file": ("ki-ot.csv", rows.encode(), "text/csv")},
        headers=h,
    )
    assert imported.status_code == 422, imported.text
    assert imported.headers["content-type"] == "application/problem+json"
    [error] = imported.json()["errors"]
    assert "quá lớn, tối đa là 1.000.000.000.000" in error["message"]
    assert "số nguyên" not in error["message"]
    assert snapshot_database(engine) == before


def test_format_refusals_state_the_rule_never_the_expression(
    client: TestClient, world: World
) -> None:
    h = world.headers("admin")
    market = _messages(client.post("/markets", headers=h, json={"code": "Chợ!", "name": "X"}))
    zone = _messages(
        client.post(
            f"/markets/{world.market_a}/zones", headers=h, json={"code": "G!!", "name": "G"}
        )
    )
    vendor = _messages(
        client.post(
            f"/markets/{world.market_a}/vendors",
            headers=h,
            json={"full_name": "A", "national_id": "12ab", "tax_code": "1-2"},
        )
    )
    account = _messages(
        client.post(
            f"/vendors/{world.vendor_a}/payout-accounts",
            headers=h,
            json={"bin": "97", "account_number": "12-34"},
        )
    )
    user = _messages(
        client.post(
            "/users",
            headers=h,
            json={
                "username": "A!",
                "password": "long-enough-1",
                "full_name": "A",
                "role": "planner",
            },
        )
    )
    refusals = [
        market["code"],
        zone["code"],
        vendor["national_id"],
        vendor["tax_code"],
        account["bin"],
        account["account_number"],
        user["username"],
    ]
    for message in refusals:
        assert message.startswith("không đúng định dạng: "), message
        assert not set("^[{$") & set(message), message
        _vietnamese_first(message)
    assert vendor["national_id"] == "không đúng định dạng: gồm đúng 12 chữ số (exactly 12 digits)"


def test_domain_field_messages_are_vietnamese_first_too(client: TestClient, world: World) -> None:
    h = world.headers("admin")
    duplicate = client.post(f"/markets/{world.market_a}/stalls", headers=h, json={"code": "B-12"})
    assert duplicate.status_code == 409
    [error] = duplicate.json()["errors"]
    assert error == {
        "field": "code",
        "code": "duplicate",
        "message": "đã tồn tại (stall code already exists in this market)",
    }
    keyless = client.post(
        "/wallets/me/top-ups", json={"amount": 1000}, headers=world.headers("shopper")
    )
    [error] = keyless.json()["errors"]
    assert error["message"] == "bắt buộc phải có (1-255 printable characters)"
    _vietnamese_first(error["message"])


# ---------------------------------------------------------------------------------------------
# 21. The role check comes before body validation


INVALID_BODIES: list[tuple[str, str, dict[str, Any], set[str]]] = [
    # (method, path, an invalid body, roles refused by role)
    ("POST", "/markets", {"code": "!!", "name": ""}, {"manager", "vendor", "planner", "shopper"}),
    ("PATCH", "/markets/{a}", {"name": ""}, {"vendor", "planner", "shopper"}),
    ("POST", "/markets/{a}/zones", {"code": "?"}, {"vendor", "planner", "shopper"}),
    ("PATCH", "/markets/{a}/zones/{za}", {"name": 5}, {"vendor", "planner", "shopper"}),
    ("POST", "/markets/{a}/stalls", {"code": ""}, {"vendor", "planner", "shopper"}),
    ("PATCH", "/stalls/{sa}", {"area_m2": -1}, {"vendor", "planner", "shopper"}),
    ("POST", "/stalls/{sv}/assignments", {"vendor_id": "x"}, {"vendor", "planner", "shopper"}),
    ("POST", "/markets/{a}/vendors", {"phone": "1"}, {"vendor", "planner", "shopper"}),
    ("PATCH", "/vendors/{va}", {"fee_bps": -1}, {"vendor", "planner", "shopper"}),
    ("POST", "/vendors/{va}/payout-accounts", {"bin": "1"}, {"vendor", "planner", "shopper"}),
    ("PATCH", "/payout-accounts/{aa}", {"kind": "?"}, {"vendor", "planner", "shopper"}),
    ("POST", "/users", {"role": "boss"}, {"manager", "vendor", "planner", "shopper"}),
    ("PATCH", "/users/{u}", {"password": "1"}, {"manager", "vendor", "planner", "shopper"}),
    # money routes: the caller's role is checked before the amount is read
    ("POST", "/wallets/me/top-ups", {"amount": -1}, {"manager", "vendor", "planner"}),
    ("POST", "/wallets/me/withdrawals", {"amount": "x"}, {"manager", "vendor", "planner"}),
    ("POST", "/wallets/me/transfers", {"amount": 0}, {"manager", "vendor", "planner"}),
    ("POST", "/wallets/me/payments", {"payload": 5}, {"manager", "vendor", "planner"}),
    ("POST", "/payout-accounts/{aa}/withdrawals", {"amount": 0}, {"planner", "shopper"}),
    ("POST", "/payments/{pa}/refunds", {"amount": 1.5}, {"manager", "planner", "shopper"}),
]
# the routes on the caller's own wallet: an admin has none, so it is the shopper who is allowed
OWN_WALLET = ("/wallets/me/",)


@pytest.mark.parametrize(
    ("method", "path", "body", "refused"),
    INVALID_BODIES,
    ids=[f"{m} {p}" for m, p, _, _ in INVALID_BODIES],
)
def test_a_forbidden_caller_is_refused_before_its_body_is_read(
    client: TestClient,
    world: World,
    method: str,
    path: str,
    body: dict[str, Any],
    refused: set[str],
) -> None:
    ids = {
        "a": world.market_a,
        "za": world.zone_a,
        "sa": world.stall_a,
        "sv": world.stall_vacant,
        "va": world.vendor_a,
        "aa": world.account_a,
        "u": world.user_ids["shopper"],
        "pa": world.payment_a,
    }
    url = path.format(**ids)
    anonymous = client.request(method, url, json=body)
    assert anonymous.status_code == 401, anonymous.text
    for who in refused:
        response = client.request(method, url, json=body, headers=world.headers(who))
        assert response.status_code == 403, (who, response.text)
        assert response.json()["code"] == "forbidden"
    allowed_caller = "shopper" if url.startswith(OWN_WALLET) else "admin"
    headers = world.headers(allowed_caller) | {"Idempotency-Key": "hardening-1"}
    allowed = client.request(method, url, json=body, headers=headers)
    assert allowed.status_code == 422, allowed.text


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("vendor", "/users/not-a-number"),
        ("shopper", "/audit?entity_id=x"),
        ("planner", "/markets/abc/export.csv"),
        ("shopper", f"/stalls/{HUGE}"),
        ("planner", "/vendors?market_id=abc"),
        ("manager", "/users?role=boss"),
    ],
)
def test_a_forbidden_caller_is_refused_before_its_parameters_are_read(
    client: TestClient, world: World, who: str, path: str
) -> None:
    response = client.get(path.format(a=world.market_a), headers=world.headers(who))
    assert response.status_code == 403, response.text


def test_an_import_by_a_forbidden_caller_is_403_before_the_file_is_read(
    client: TestClient, world: World
) -> None:
    response = client.post(
        f"/markets/{world.market_a}/import",
        params={"dry_run": "maybe"},
        files={"file": ("s.csv", io.BytesIO(b"junk"), "text/csv")},
        headers=world.headers("planner"),
    )
    assert response.status_code == 403, response.text


# ---------------------------------------------------------------------------------------------
# The rules hold for every route, present and future: every number, boolean and date a route
# reads (path, query, header, body, at any depth) uses a type of market.inputs or pydantic's
# strict mode, and every path or query parameter named like an id is bounded.

_OURS = {
    inputs._whole_number,
    inputs._number,
    inputs._boolean,
    inputs._iso_date,
}


def _lax(tp: Any, metadata: tuple[Any, ...], where: str, seen: set[type]) -> list[str]:
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extra = get_args(tp)
        return _lax(base, (*metadata, *extra), where, seen)
    if origin is not None:  # unions, lists, dicts: every argument
        return [
            found
            for arg in get_args(tp)
            if arg is not type(None)
            for found in _lax(arg, metadata, where, seen)
        ]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in seen:
            return []
        seen.add(tp)
        return [
            found
            for name, info in tp.model_fields.items()
            for found in _lax(info.annotation, tuple(info.metadata), f"{where}.{name}", seen)
        ]
    if tp in (int, float, bool, date, datetime):
        metadata = tuple(
            inner
            for m in metadata
            for inner in ((m, *m.metadata) if isinstance(m, FieldInfo) else (m,))
        )
        strict = any(
            (isinstance(m, BeforeValidator) and m.func in _OURS)
            or (isinstance(m, Strict) and m.strict)
            for m in metadata
        )
        return [] if strict else [f"{where}: {tp.__name__}"]
    return []


def _parameters(dependant: Any) -> Iterator[tuple[str, Any]]:
    for kind in ("path_params", "query_params", "header_params", "body_params"):
        for field in getattr(dependant, kind):
            yield kind, field
    for sub in dependant.dependencies:
        yield from _parameters(sub)


def test_every_route_reads_numbers_booleans_and_dates_strictly(tmp_path: Any) -> None:
    app = create_app(Settings(DATABASE_URL=f"sqlite:///{tmp_path}/x.db", webhook_worker=False))
    lax: list[str] = []
    unbounded: list[str] = []
    routes = list(_api_routes(app.routes))
    assert len(routes) > 60
    for route in routes:
        for kind, field in _parameters(route.dependant):
            info = field.field_info
            where = f"{route.path} {field.name}"
            lax += _lax(info.annotation, tuple(info.metadata), where, set())
            is_id = field.name.endswith("_id")
            if kind in {"path_params", "query_params"} and is_id:
                flat = [m for arg in _leaves(info.annotation) for m in arg] + list(info.metadata)
                if not any(isinstance(m, Interval) and m.le == inputs.MAX_ID for m in flat):
                    unbounded.append(where)
    assert lax == []
    assert unbounded == []


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # a router included into the app
            yield from _api_routes(route.original_router.routes)


def _leaves(tp: Any) -> list[tuple[Any, ...]]:
    """The Annotated metadata of each member of a (possibly optional) type."""
    if get_origin(tp) is Annotated:
        return [tuple(get_args(tp)[1:])]
    return [leaf for arg in get_args(tp) for leaf in _leaves(arg)]
