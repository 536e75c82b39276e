"""Money routes served in one thread hop (`api.money.MoneyRoute`, issue 14): the caller is
refused before anything in the request is read, even unreadable JSON; the body is read as
FastAPI reads one; the OpenAPI document is what FastAPI makes of the endpoint's signature."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from api.money import MoneyRoute
from market.money.models import LedgerAccount
from market.registry.models import Role, User
from market.registry.users import issue_token
from market.settings import Settings
from tests.conftest import FrozenClock, World, count_rows
from tests.test_api_hardening import _api_routes

TOP_UP = "/wallets/me/top-ups"
UNREADABLE = b'{"amount": '


def _keyed(world: World, who: str, key: str, content_type: str | None = "application/json") -> Any:
    headers = world.headers(who) | {"Idempotency-Key": key}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("vendor", TOP_UP),
        ("admin", "/wallets/me/payments"),
        ("shopper", "/payments/{payment}/refunds"),
        ("vendor", "/payments/{payment}/reversal"),
        ("planner", "/payout-accounts/{account}/withdrawals"),
    ],
)
def test_a_forbidden_caller_is_refused_before_unreadable_json_is_parsed(
    client: TestClient, world: World, who: str, path: str
) -> None:
    url = path.format(payment=world.payment_a, account=world.account_a)
    anonymous = client.post(url, content=UNREADABLE, headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 401, anonymous.text
    forbidden = client.post(url, content=UNREADABLE, headers=_keyed(world, who, "r-1"))
    assert forbidden.status_code == 403, forbidden.text
    assert forbidden.json()["code"] == "forbidden"


def test_an_allowed_caller_learns_where_the_json_breaks(client: TestClient, world: World) -> None:
    response = client.post(TOP_UP, content=UNREADABLE, headers=_keyed(world, "shopper", "r-2"))
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["field"] == "body"
    assert error["code"] == "json_invalid"
    assert "11" in error["message"]  # the character where the JSON stops making sense


@pytest.mark.parametrize(
    ("content", "content_type", "code"),
    [
        (b"", "application/json", "missing"),
        (b'{"amount": 1000}', "text/plain", "model_attributes_type"),
        (b'{"amount": 1000}', None, "model_attributes_type"),
        (b"[1000]", "application/json", "model_attributes_type"),
    ],
    ids=["empty", "text/plain", "no content type", "a list"],
)
def test_a_body_that_is_not_a_json_object_is_refused_at_body_and_changes_nothing(
    client: TestClient,
    world: World,
    content: bytes,
    content_type: str | None,
    code: str,
) -> None:
    before = client.get("/wallets/me", headers=world.headers("shopper")).json()["balance"]
    headers = _keyed(world, "shopper", f"r-{code}-{content_type}", content_type)
    response = client.post(TOP_UP, content=content, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [(e["field"], e["code"]) for e in response.json()["errors"]] == [("body", code)]
    after = client.get("/wallets/me", headers=world.headers("shopper")).json()["balance"]
    assert after == before


@pytest.mark.parametrize(
    "content", [b'\xbc{"amount": 1000}', b"[" * 100_000 + b"]" * 100_000], ids=["latin-1", "deep"]
)
def test_bytes_the_json_parser_cannot_read_are_a_bad_request(
    client: TestClient, world: World, content: bytes
) -> None:
    response = client.post(TOP_UP, content=content, headers=_keyed(world, "shopper", "r-5"))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "bad-request"
    again = client.post(TOP_UP, json={"amount": 1000}, headers=_keyed(world, "shopper", "r-5"))
    assert again.status_code == 201  # the refused body claimed nothing under its key


def test_a_json_media_type_with_a_suffix_is_read_as_json(client: TestClient, world: World) -> None:
    headers = _keyed(world, "shopper", "r-3", "application/vnd.cho+json; charset=utf-8")
    response = client.post(TOP_UP, content=b'{"amount": 1000}', headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == 1000
    replayed = client.post(TOP_UP, content=b'{"amount": 1000}', headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == response.json()


def test_path_ids_and_body_are_reported_together(client: TestClient, world: World) -> None:
    response = client.post(
        "/payout-accounts/0/withdrawals", json={"amount": -1}, headers=_keyed(world, "admin", "r-4")
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"account_id", "amount"}


def test_money_routes_are_documented_from_their_signatures(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    pay = paths["/wallets/me/payments"]["post"]
    assert pay["requestBody"]["required"] is True
    assert pay["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PayBody"
    }
    assert pay["security"] == [{"OAuth2PasswordBearer": []}]
    assert pay["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TransferPublic"
    }
    assert {"400", "401", "402", "403", "404", "409", "413", "422"} <= set(pay["responses"])
    refund = paths["/payments/{payment_id}/refunds"]["post"]
    names = {(p["in"], p["name"]) for p in refund["parameters"]}
    assert names == {("path", "payment_id"), ("header", "Idempotency-Key")}


def test_every_route_taking_an_idempotency_key_is_a_money_route(client: TestClient) -> None:
    routes = list(_api_routes(client.app.routes))  # type: ignore[attr-defined]
    keyed = {
        route.path
        for route in routes
        if any(p.alias.lower() == "idempotency-key" for p in _header_params(route))
    }
    money = {route.path for route in routes if isinstance(route, MoneyRoute)}
    assert len(money) == 7
    assert keyed == money


def _header_params(route: Any) -> list[Any]:
    found = list(route.dependant.header_params)
    for sub in route.dependant.dependencies:
        found += sub.header_params
    return found


def test_an_app_started_again_serves_money_requests_again(client: TestClient, world: World) -> None:
    """The money threads stop with the app's lifespan and start afresh with the next one."""
    app = client.app
    for key in ("first-life", "second-life"):
        with TestClient(app) as again:
            answer = again.post(
                TOP_UP, json={"amount": 10_000}, headers=_keyed(world, "shopper", key)
            )
            assert answer.status_code == 201, answer.text


def test_a_shoppers_first_money_request_opens_their_wallet_and_later_ones_find_it(
    client: TestClient, world: World, engine: Engine, settings: Settings, clock: FrozenClock
) -> None:
    """The wallet is read with the token (`wallets.signed_in_shopper`); a shopper whose account
    was made without one gets it on their first money request, and the next finds it."""
    with Session(engine) as session:
        user = User(username="new.shopper", password_hash="x", role=Role.SHOPPER, full_name="Mới")
        session.add(user)
        session.flush()
        token, _row = issue_token(session, user=user, settings=settings, now=clock())
        session.commit()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    before = count_rows(engine, LedgerAccount)
    balances = [
        client.post(
            TOP_UP, json={"amount": amount}, headers=headers | {"Idempotency-Key": f"first-{n}"}
        ).json()["balance"]
        for n, amount in enumerate((30_000, 12_000))
    ]
    assert balances == [30_000, 42_000]
    assert count_rows(engine, LedgerAccount) == before + 1
    wallet = client.get("/wallets/me", headers=headers).json()
    assert wallet["balance"] == 42_000
