"""The access matrix: every route × every role → allowed, 401, 403 or 404, as README "Roles" says.
A route missing from the matrix fails the test, so new routes must state their rules."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from market.settings import Settings
from tests.conftest import PASSWORD, World

# every route × eight callers: a walk over the whole API, for the slow loop (CI runs it)
pytestmark = pytest.mark.slow

WHO = ["anonymous", "admin", "manager", "manager_b", "vendor", "vendor_b", "planner", "shopper"]
SIGNED_IN = set(WHO) - {"anonymous"}
USERNAMES = {
    "manager": "manager.a",
    "manager_b": "manager.b",
    "vendor": "vendor.a",
    "vendor_b": "vendor.b",
}


@dataclass(frozen=True)
class Rule:
    method: str
    path: (
        str  # with {a} market A, {za} zone, {sa} stall A, {va} vendor A, {aa} account A, {u} user,
    )
    # {ref} a fresh per-sale code of stall A
    allowed: frozenset[str]
    body: Callable[[str], dict[str, Any]] | None = None
    files: bool = False
    params: dict[str, Any] = field(default_factory=dict)


def R(
    method: str,
    path: str,
    allowed: set[str],
    body: Callable[[str], dict[str, Any]] | None = None,
    files: bool = False,
) -> Rule:
    return Rule(method, path, frozenset(allowed), body, files)


ADMIN = {"admin"}
MANAGE_A = {"admin", "manager"}
READ_A = {"admin", "manager", "vendor"}
SHOPPER = {"shopper"}
PLAN = {"admin", "planner"}
# Domain refusals that come after every access check passed (the route was open to the caller).
# ("invalid-state": cancelling the seeded simulation, which has finished)
STATE_REFUSALS = {"insufficient-funds", "invalid-vietqr", "self-payment", "invalid-state"}

RULES = [
    R("GET", "/health", set(WHO)),
    R("POST", "/auth/token", set(WHO)),
    R("GET", "/auth/me", SIGNED_IN),
    R("POST", "/auth/logout", SIGNED_IN),
    R("GET", "/banks", SIGNED_IN),
    R("GET", "/banks/970405", SIGNED_IN),
    R("GET", "/categories", SIGNED_IN),
    R("GET", "/markets", SIGNED_IN),
    R(
        "POST",
        "/markets",
        ADMIN,
        lambda w: {"code": f"cho-{w.replace('_', '-')}", "name": "Chợ mới"},
    ),
    R("GET", "/markets/{a}", SIGNED_IN),
    R("PATCH", "/markets/{a}", MANAGE_A, lambda w: {"address": f"Tổ 5 ({w})"}),
    R("DELETE", "/markets/{a}", ADMIN),
    R("GET", "/markets/{a}/stats", {"admin", "manager", "planner"}),
    R("GET", "/markets/{a}/zones", MANAGE_A),
    R("POST", "/markets/{a}/zones", MANAGE_A, lambda w: {"code": f"Z{len(w)}", "name": "Khu mới"}),
    R("PATCH", "/markets/{a}/zones/{za}", MANAGE_A, lambda w: {"name": f"Khu {w}"}),
    R("DELETE", "/markets/{a}/zones/{za}", MANAGE_A),
    R("GET", "/markets/{a}/stalls", READ_A | {"vendor_b"}),
    R("POST", "/markets/{a}/stalls", MANAGE_A, lambda w: {"code": f"N-{len(w)}"}),
    R("GET", "/stalls/{sa}", READ_A),
    R("PATCH", "/stalls/{sa}", MANAGE_A, lambda w: {"area_m2": len(w)}),
    R("DELETE", "/stalls/{sv}", MANAGE_A),
    R("GET", "/stalls/{sa}/assignments", READ_A),
    R("POST", "/stalls/{sv}/assignments", MANAGE_A, lambda w: {"vendor_id": 0}),
    R("POST", "/stalls/{sa}/assignments/current/end", MANAGE_A, lambda w: {}),
    R("GET", "/vendors", {"admin", "manager", "manager_b", "vendor", "vendor_b"}),
    R(
        "POST",
        "/markets/{a}/vendors",
        MANAGE_A,
        lambda w: {"full_name": "Đỗ Thị Mới", "phone": f"09610000{len(w):02d}"},
    ),
    R("GET", "/vendors/{va}", READ_A),
    R("PATCH", "/vendors/{va}", MANAGE_A, lambda w: {"tax_code": f"01234567{len(w):02d}"}),
    R("DELETE", "/vendors/{va}", MANAGE_A),
    R("GET", "/vendors/{va}/payout-accounts", READ_A),
    R(
        "POST",
        "/vendors/{va}/payout-accounts",
        MANAGE_A,
        lambda w: {"bin": "970418", "account_number": f"1200000{len(w)}"},
    ),
    R("GET", "/payout-accounts/{aa}", READ_A),
    R("PATCH", "/payout-accounts/{aa}", MANAGE_A, lambda w: {"kind": "ewallet"}),
    R("DELETE", "/payout-accounts/{aa}", MANAGE_A),
    R("GET", "/users", ADMIN),
    R(
        "POST",
        "/users",
        ADMIN,
        lambda w: {"username": f"new.{w}", "password": "a-long-password", "role": "planner"},
    ),
    R("GET", "/users/{u}", ADMIN),
    R("PATCH", "/users/{u}", ADMIN, lambda w: {"full_name": "Tên mới"}),
    R("DELETE", "/users/{u}", ADMIN),
    R("POST", "/users/{u}/revoke-tokens", ADMIN),
    R("GET", "/audit", {"admin", "manager", "manager_b"}),
    R("GET", "/import-template.xlsx", {"admin", "manager", "manager_b"}),
    R("POST", "/markets/{a}/import", MANAGE_A, files=True),
    R("GET", "/markets/{a}/export.xlsx", MANAGE_A),
    R("GET", "/markets/{a}/export.csv", MANAGE_A),
    R("GET", "/stalls/{sa}/code", READ_A),
    R("POST", "/stalls/{sa}/code/reprint", READ_A),
    R("GET", "/stalls/{sa}/boards", READ_A),
    R("GET", "/stalls/{sa}/board.png", READ_A),
    R("GET", "/stalls/{sa}/code.svg", READ_A),
    R("POST", "/stalls/{sa}/sale-code", READ_A, lambda w: {"amount": 150000}),
    R("GET", "/stalls/{sa}/sale-code.png?amount=20000&reference={ref}", READ_A),
    R("GET", "/markets/{a}/sheet.pdf", MANAGE_A),
    R("POST", "/qr/decode", SIGNED_IN, lambda w: {"payload": "000201"}),
    R(
        "POST",
        "/wallets",
        set(WHO),
        lambda w: {"phone": f"09050000{WHO.index(w):02d}", "pin": "123456", "full_name": "Ví mới"},
    ),
    R("POST", "/wallets/token", set(WHO), lambda w: {"phone": "0901111111", "pin": PASSWORD}),
    R("GET", "/wallets/me", SHOPPER),
    R("GET", "/wallets/lookup?phone=0901111111", SHOPPER),
    R("GET", "/wallets/me/statement", SHOPPER),
    R("POST", "/wallets/me/top-ups", SHOPPER, lambda w: {"amount": 1000}),
    R("POST", "/wallets/me/withdrawals", SHOPPER, lambda w: {"amount": 1000}),
    R("POST", "/wallets/me/transfers", SHOPPER, lambda w: {"to_phone": "0901111111", "amount": 1}),
    R("POST", "/wallets/me/payments", SHOPPER, lambda w: {"payload": "x", "amount": 1}),
    R("GET", "/payout-accounts/{aa}/wallet", READ_A),
    R("GET", "/payout-accounts/{aa}/statement", READ_A),
    R("POST", "/payout-accounts/{aa}/withdrawals", READ_A, lambda w: {"amount": 1000}),
    R("POST", "/payments/{pa}/refunds", {"admin", "vendor"}, lambda w: {"amount": 1000}),
    R("POST", "/payments/{pa}/reversal", ADMIN, lambda w: {}),
    R("GET", "/vendors/{va}/slip", READ_A),
    R("POST", "/markets/{a}/days/2026-11-25/close", MANAGE_A),
    R("GET", "/ledger/audit", ADMIN),
    R("GET", "/vendors/{va}/events?follow=false", READ_A),
    R("POST", "/vendors/{va}/webhooks", READ_A, lambda w: {"url": "http://127.0.0.1:9/hook"}),
    R("GET", "/vendors/{va}/webhooks", READ_A),
    R(
        "POST",
        "/simulations",
        PLAN,
        lambda w: {"scenario": "bass", "params": {"n_shoppers": 50}, "runs": 1, "days": 3},
    ),
    R("GET", "/simulations", PLAN),
    R("GET", "/simulations/observed?market_id={a}&start=2026-01-01&end=2026-02-28", PLAN),
    R("GET", "/simulations/{job}", PLAN),
    R("GET", "/simulations/{job}/files/summary.json", PLAN),
    R("POST", "/simulations/{job}/cancel", PLAN),
    R("POST", "/simulations/{job}/rerun", PLAN),
]


def test_every_route_is_in_the_matrix(tmp_path: Any) -> None:
    app = create_app(Settings(DATABASE_URL=f"sqlite:///{tmp_path}/x.db"))
    names = {
        "a": "market_id",
        "za": "zone_id",
        "sa": "stall_id",
        "sv": "stall_id",
        "va": "vendor_id",
        "aa": "account_id",
        "u": "user_id",
        "pa": "payment_id",
        "job": "job_id",
    }
    covered = set()
    for rule in RULES:
        path = rule.path
        for short, long in names.items():
            path = path.replace("{" + short + "}", "{" + long + "}")
        path = (
            path.split("?")[0]
            .replace("board.png", "board.{kind}")
            .replace("code.svg", "code.{kind}")
            .replace("2026-11-25", "{day}")
            .replace("summary.json", "{name}")
        )
        covered.add((rule.method, path))
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    routes = {(m, p.replace("{bin_code}", "970405")) for m, p in routes}
    assert routes - covered == set(), "routes without an access rule"
    assert covered - routes == set(), "rules for routes that do not exist"


def _expected_refusal(who: str, rule: Rule) -> int:
    if who == "anonymous":
        return 401
    role = who.removesuffix("_b")
    allowed_roles = {w.removesuffix("_b") for w in rule.allowed}
    return 404 if role in allowed_roles else 403


def _call(client: TestClient, world: World, rule: Rule, who: str) -> Any:
    ids = {
        "a": world.market_a,
        "za": world.zone_a,
        "sa": world.stall_a,
        "sv": world.stall_vacant,
        "va": world.vendor_a,
        "aa": world.account_a,
        "u": world.user_ids["shopper"],
        "pa": world.payment_a,
        "job": world.job,
    }
    if "{ref}" in rule.path:  # a per-sale code issued by the vendor
        ids["ref"] = client.post(
            f"/stalls/{world.stall_a}/sale-code",
            headers=world.headers("vendor"),
            json={"amount": 20000},
        ).json()["reference"]
    path = rule.path.format(**ids)
    headers = {} if who == "anonymous" else world.headers(who)
    if rule.path == "/auth/token":
        username = USERNAMES.get(who, "admin")
        return client.post(path, data={"username": username, "password": PASSWORD})
    kwargs: dict[str, Any] = {"headers": headers | {"Idempotency-Key": f"access-{who}"}}
    if rule.body is not None:
        body = rule.body(who)
        if "vendor_id" in body:
            body["vendor_id"] = world.vendor_a2
        kwargs["json"] = body
    if rule.files:
        kwargs["files"] = {
            "file": ("stalls.csv", io.BytesIO("Mã ki-ốt\nQ-1\n".encode()), "text/csv")
        }
    return client.request(rule.method, path, **kwargs)


@pytest.mark.parametrize("rule", RULES, ids=[f"{r.method} {r.path}" for r in RULES])
def test_access_matrix(client: TestClient, world: World, rule: Rule) -> None:
    refused = [w for w in WHO if w not in rule.allowed]
    for who in refused:  # refusals first: they must change nothing
        response = _call(client, world, rule, who)
        assert response.status_code == _expected_refusal(who, rule), (who, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    allowed = [w for w in WHO if w in rule.allowed]
    for index, who in enumerate(allowed):
        response = _call(client, world, rule, who)
        ok = (
            response.status_code < 400
            or (index > 0 and response.status_code == 409)
            or response.json().get("code") in STATE_REFUSALS
        )
        assert ok, (who, response.status_code, response.text)


def test_a_vendor_sees_only_its_own_data(client: TestClient, world: World) -> None:
    h = world.headers("vendor")
    listed = client.get("/vendors", headers=h).json()["items"]
    assert [v["id"] for v in listed] == [world.vendor_a]
    assert client.get(f"/vendors/{world.vendor_b}", headers=h).status_code == 404
    assert client.get(f"/payout-accounts/{world.account_b}", headers=h).status_code == 404
    assert client.get(f"/vendors/{world.vendor_b}/payout-accounts", headers=h).status_code == 404
    assert client.get(f"/stalls/{world.stall_b}", headers=h).status_code == 404
    assert client.get(f"/markets/{world.market_b}/stalls", headers=h).json()["items"] == []
    own = client.get(f"/markets/{world.market_a}/stalls", headers=h).json()["items"]
    assert [s["id"] for s in own] == [world.stall_a]


def test_a_manager_cannot_see_another_market(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    assert client.get(f"/markets/{world.market_b}/stalls", headers=h).status_code == 404
    assert client.get(f"/vendors/{world.vendor_b}", headers=h).status_code == 404
    assert (
        client.get("/vendors", headers=h, params={"market_id": world.market_b}).status_code == 404
    )
    listed = client.get("/vendors", headers=h).json()["items"]
    assert {v["market_id"] for v in listed} == {world.market_a}
    audit = client.get("/audit", headers=h, params={"limit": 200}).json()["items"]
    assert audit
    assert {e["market_id"] for e in audit} == {world.market_a}
    assert (
        client.patch(f"/stalls/{world.stall_b}", headers=h, json={"area_m2": 3}).status_code == 404
    )
