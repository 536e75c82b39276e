"""A manager registers stalls, vendors and payout accounts; the rules hold and the audit log
records every change; bad input answers problem+json naming the field and changes nothing."""

from __future__ import annotations

import unicodedata
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import World, snapshot_database


def _problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["type"] == f"/problems/{code}"
    assert body["detail"]
    return body


def test_manager_registers_stall_vendor_account_and_finds_them(
    client: TestClient, world: World
) -> None:
    h = world.headers("manager")
    stall = client.post(
        f"/markets/{world.market_a}/stalls",
        headers=h,
        json={
            "code": "c 7",
            "zone_id": world.zone_a,
            "area_m2": 6,
            "category": "vegetables",
            "monthly_fee": 240000,
        },
    ).json()
    assert stall["code"] == "C-7"
    assert stall["category_label"] == "Rau củ"
    vendor = client.post(
        f"/markets/{world.market_a}/vendors",
        headers=h,
        json={
            "full_name": "  Hoàng   Thị  Mẩy ",
            "phone": "+84 96.123.4567",
            "national_id": "015987654321",
        },
    ).json()
    assert vendor["full_name"] == "Hoàng Thị Mẩy"
    assert vendor["phone"] == "+84961234567"
    assert vendor["national_id_masked"] == "••••••••4321"
    assert "015987654321" not in str(vendor)
    r = client.post(
        f"/stalls/{stall['id']}/assignments", headers=h, json={"vendor_id": vendor["id"]}
    )
    assert r.status_code == 201
    account = client.post(
        f"/vendors/{vendor['id']}/payout-accounts",
        headers=h,
        json={"bin": "970405", "account_number": "8888123456789"},
    ).json()
    assert account["holder_name"] == "HOANG THI MAY"
    assert account["is_default"] is True
    assert account["bank_short_name"] == "Agribank"
    assert account["account_number_masked"].endswith("6789")
    assert "8888123456789" not in str(account)
    short = client.post(
        f"/vendors/{vendor['id']}/payout-accounts",
        headers=h,
        json={"bin": "970405", "account_number": "123"},
    ).json()
    assert short["account_number_masked"] == "•••"  # a short number is hidden whole

    found = client.get(
        "/vendors", headers=h, params={"q": "may", "market_id": world.market_a}
    ).json()
    assert [v["id"] for v in found["items"]] == [vendor["id"]]
    assert found["items"][0]["stall_codes"] == ["C-7"]
    found = client.get(f"/markets/{world.market_a}/stalls", headers=h, params={"q": "c7"}).json()
    assert [s["code"] for s in found["items"]] == ["C-7"]
    assert found["items"][0]["current_vendor_name"] == "Hoàng Thị Mẩy"

    log = client.get(
        "/audit", headers=h, params={"entity": "vendor", "entity_id": vendor["id"]}
    ).json()
    assert log["items"][0]["action"] == "create"
    assert log["items"][0]["actor"] == "manager.a"
    assert log["items"][0]["after"]["full_name"] == "Hoàng Thị Mẩy"
    assert log["items"][0]["after"]["national_id"] == "••••••••4321"


@pytest.mark.parametrize(
    "query",
    [
        "huong",
        "HUONG",
        unicodedata.normalize("NFD", "Hường"),
        "0912345678",
        "912 345",
        "b12",
        "B 12",
    ],
)
def test_search_ignores_diacritics_case_and_punctuation(
    client: TestClient, world: World, query: str
) -> None:
    found = client.get("/vendors", headers=world.headers("manager"), params={"q": query}).json()
    assert [v["full_name"] for v in found["items"]] == ["Nguyễn Thị Hường"]


@pytest.mark.parametrize("query", ["b12", "B-12", "b 12", "huong"])
def test_stall_search_finds_b12(client: TestClient, world: World, query: str) -> None:
    found = client.get(
        f"/markets/{world.market_a}/stalls", headers=world.headers("manager"), params={"q": query}
    ).json()
    assert [s["code"] for s in found["items"]] == ["B-12"]


def test_stall_code_variants_are_the_same_stall(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("manager")
    before = snapshot_database(engine)
    for variant in ["b12", "B 12", "B-12", "b-12"]:
        body = _problem(
            client.post(f"/markets/{world.market_a}/stalls", headers=h, json={"code": variant}),
            409,
            "duplicate",
        )
        assert body["errors"][0]["field"] == "code"
    assert snapshot_database(engine) == before
    # the same code in another market is fine
    assert (
        client.post(
            f"/markets/{world.market_b}/stalls",
            headers=world.headers("manager_b"),
            json={"code": "b12"},
        ).status_code
        == 201
    )


def test_junk_stall_codes_are_refused_with_the_rule(
    client: TestClient, world: World, engine: Engine
) -> None:
    before = snapshot_database(engine)
    h = world.headers("manager")
    for junk in ["ô@#", "B#12", "-B12"]:
        response = client.post(f"/markets/{world.market_a}/stalls", headers=h, json={"code": junk})
        body = _problem(response, 422, "validation-error")
        assert body["errors"][0]["field"] == "code"
        assert "chữ cái và chữ số" in body["errors"][0]["message"]
        response = client.patch(f"/stalls/{world.stall_a}", headers=h, json={"code": junk})
        _problem(response, 422, "validation-error")
    assert snapshot_database(engine) == before


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("vendors", {"full_name": "Bùi Văn A", "phone": "0212345678"}, "phone"),
        ("vendors", {"full_name": "Bùi Văn A", "phone": "01234567890"}, "phone"),
        ("vendors", {"full_name": "Bùi Văn A", "phone": "hello"}, "phone"),
        ("vendors", {"full_name": "x" * 121, "phone": "0961234567"}, "full_name"),
        ("vendors", {"full_name": "", "phone": "0961234567"}, "full_name"),
        (
            "vendors",
            {"full_name": "Bùi Văn A", "phone": "0961234567", "national_id": "12345"},
            "national_id",
        ),
        ("stalls", {"code": "---"}, "code"),
        ("stalls", {"code": "A1", "monthly_fee": -5}, "monthly_fee"),
        ("stalls", {"code": "A1", "monthly_fee": 1.5}, "monthly_fee"),
        ("stalls", {"code": "A1", "category": "weapons"}, "category"),
        ("stalls", {"code": "A" * 500}, "code"),
        ("stalls", {"code": "ô@#"}, "code"),
        ("stalls", {"code": "B--12"}, "code"),
        ("stalls", {"code": "a1" * 10}, "code"),  # 20 characters, 39 once canonical
    ],
)
def test_bad_registry_input_names_the_field_and_changes_nothing(
    client: TestClient, world: World, engine: Engine, path: str, payload: dict[str, Any], field: str
) -> None:
    before = snapshot_database(engine)
    response = client.post(
        f"/markets/{world.market_a}/{path}", headers=world.headers("manager"), json=payload
    )
    body = _problem(response, 422, "validation-error")
    assert field in [e["field"] for e in body["errors"]]
    assert snapshot_database(engine) == before


@pytest.mark.parametrize(
    ("payload", "field", "status", "code"),
    [
        ({"bin": "999999", "account_number": "123456"}, "bin", 422, "validation-error"),
        ({"bin": "97040", "account_number": "123456"}, "bin", 422, "validation-error"),
        ({"bin": "970405", "account_number": "12a456"}, "account_number", 422, "validation-error"),
        ({"bin": "970405", "account_number": "1" * 20}, "account_number", 422, "validation-error"),
        ({"bin": "970405", "account_number": ""}, "account_number", 422, "validation-error"),
        (
            {"bin": "970405", "account_number": "1234", "kind": "card"},
            "account_number",
            422,
            "validation-error",
        ),
        ({"bin": "971005", "account_number": "0912345678"}, "account_number", 409, "duplicate"),
        (
            {"bin": "970405", "account_number": "123456", "holder_name": "Nguyễn 123"},
            "holder_name",
            422,
            "validation-error",
        ),
    ],
)
def test_bad_payout_account_is_refused(
    client: TestClient,
    world: World,
    engine: Engine,
    payload: dict[str, Any],
    field: str,
    status: int,
    code: str,
) -> None:
    before = snapshot_database(engine)
    response = client.post(
        f"/vendors/{world.vendor_a2}/payout-accounts",
        headers=world.headers("manager"),
        json=payload,
    )
    body = _problem(response, status, code)
    assert field in [e["field"] for e in body["errors"]]
    assert snapshot_database(engine) == before


def test_duplicate_phone_is_refused(client: TestClient, world: World, engine: Engine) -> None:
    before = snapshot_database(engine)
    body = _problem(
        client.post(
            f"/markets/{world.market_a}/vendors",
            headers=world.headers("manager"),
            json={"full_name": "Ai Đó", "phone": "091 234 5678"},
        ),
        409,
        "duplicate",
    )
    assert body["errors"][0]["field"] == "phone"
    assert snapshot_database(engine) == before


def test_a_stall_has_at_most_one_current_vendor(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("manager")
    before = snapshot_database(engine)
    body = _problem(
        client.post(
            f"/stalls/{world.stall_a}/assignments", headers=h, json={"vendor_id": world.vendor_a2}
        ),
        409,
        "stall-occupied",
    )
    assert body["errors"][0]["field"] == "vendor_id"
    assert snapshot_database(engine) == before
    # end the current one, then the new vendor may take it; the history keeps both
    ended = client.post(f"/stalls/{world.stall_a}/assignments/current/end", headers=h, json={})
    assert ended.status_code == 200
    assert client.get(f"/stalls/{world.stall_a}", headers=h).json()["status"] == "vacant"
    assert (
        client.post(
            f"/stalls/{world.stall_a}/assignments", headers=h, json={"vendor_id": world.vendor_a2}
        ).status_code
        == 201
    )
    history = client.get(f"/stalls/{world.stall_a}/assignments", headers=h).json()
    assert [a["vendor_id"] for a in history] == [world.vendor_a, world.vendor_a2]
    assert history[0]["end_date"] is not None
    assert history[1]["end_date"] is None


def test_a_vendor_may_hold_several_stalls(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    stall = client.post(
        f"/markets/{world.market_a}/stalls", headers=h, json={"code": "B-13"}
    ).json()
    assert (
        client.post(
            f"/stalls/{stall['id']}/assignments", headers=h, json={"vendor_id": world.vendor_a}
        ).status_code
        == 201
    )
    vendor = client.get(f"/vendors/{world.vendor_a}", headers=h).json()
    assert vendor["stall_codes"] == ["B-12", "B-13"]


def test_one_default_payout_account_per_vendor(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    second = client.post(
        f"/vendors/{world.vendor_a}/payout-accounts",
        headers=h,
        json={"bin": "970418", "account_number": "21510000123456"},
    ).json()
    accounts = client.get(f"/vendors/{world.vendor_a}/payout-accounts", headers=h).json()
    assert [a["id"] for a in accounts if a["is_default"]] == [second["id"]]
    # deactivating the default hands the flag to the remaining account
    assert (
        client.delete(f"/payout-accounts/{second['id']}", headers=h).json()["status"] == "inactive"
    )
    accounts = client.get(f"/vendors/{world.vendor_a}/payout-accounts", headers=h).json()
    assert [a["id"] for a in accounts if a["is_default"]] == [world.account_a]
    body = _problem(
        client.patch(f"/payout-accounts/{world.account_a}", headers=h, json={"is_default": False}),
        409,
        "invalid-state",
    )
    assert body["errors"][0]["field"] == "is_default"


def test_deactivating_a_vendor_keeps_history(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    vendor = client.delete(f"/vendors/{world.vendor_a}", headers=h).json()
    assert vendor["status"] == "inactive"
    assert vendor["stall_codes"] == []
    assert client.get(f"/vendors/{world.vendor_a}/payout-accounts", headers=h).json() == []
    inactive = client.get(
        f"/vendors/{world.vendor_a}/payout-accounts", headers=h, params={"include_inactive": True}
    ).json()
    assert [a["status"] for a in inactive] == ["inactive"]
    assert len(client.get(f"/stalls/{world.stall_a}/assignments", headers=h).json()) == 1
    actions = [e["action"] for e in client.get("/audit", headers=h).json()["items"]]
    assert {"deactivate", "unassign"} <= set(actions)


def test_closing_an_occupied_stall_is_refused(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    _problem(client.delete(f"/stalls/{world.stall_a}", headers=h), 409, "stall-occupied")
    client.post(f"/stalls/{world.stall_a}/assignments/current/end", headers=h, json={})
    assert client.delete(f"/stalls/{world.stall_a}", headers=h).json()["status"] == "closed"
    _problem(
        client.post(
            f"/stalls/{world.stall_a}/assignments", headers=h, json={"vendor_id": world.vendor_a}
        ),
        409,
        "invalid-state",
    )


def test_update_is_audited_with_before_and_after(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    r = client.patch(f"/stalls/{world.stall_a}", headers=h, json={"monthly_fee": 500000})
    assert r.json()["monthly_fee"] == 500000
    entry = client.get(
        "/audit", headers=h, params={"entity": "stall", "entity_id": world.stall_a}
    ).json()["items"][0]
    assert entry["action"] == "update"
    assert entry["before"]["monthly_fee"] == 0
    assert entry["after"]["monthly_fee"] == 500000


def test_pagination_neither_repeats_nor_skips(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    for n in range(1, 24):
        client.post(f"/markets/{world.market_a}/stalls", headers=h, json={"code": f"Z-{n}"})
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/markets/{world.market_a}/stalls", headers=h, params=params).json()
        seen += [s["code"] for s in page["items"]]
        cursor = page["next_cursor"]
        if len(seen) == 10:  # rows added between pages show up once, later
            client.post(f"/markets/{world.market_a}/stalls", headers=h, json={"code": "Z-99"})
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 26  # B-12, B-14, Z-1..Z-23, Z-99
    _problem(
        client.get(f"/markets/{world.market_a}/stalls", headers=h, params={"cursor": "!!"}),
        422,
        "validation-error",
    )


def test_filters(client: TestClient, world: World) -> None:
    h = world.headers("manager")
    client.post(
        f"/markets/{world.market_a}/stalls", headers=h, json={"code": "F-1", "category": "flowers"}
    )
    by_category = client.get(
        f"/markets/{world.market_a}/stalls", headers=h, params={"category": "flowers"}
    ).json()
    assert [s["code"] for s in by_category["items"]] == ["F-1"]
    vacant = client.get(
        f"/markets/{world.market_a}/stalls", headers=h, params={"status": "vacant"}
    ).json()
    assert [s["code"] for s in vacant["items"]] == ["B-14", "F-1"]
    covered = client.get(
        f"/markets/{world.market_a}/stalls", headers=h, params={"has_payout_account": True}
    ).json()
    assert [s["code"] for s in covered["items"]] == ["B-12"]
    by_zone = client.get(
        f"/markets/{world.market_a}/stalls", headers=h, params={"zone_id": world.zone_a}
    ).json()
    assert [s["code"] for s in by_zone["items"]] == ["B-12", "B-14"]
    without = client.get("/vendors", headers=h, params={"has_payout_account": False}).json()
    assert [v["full_name"] for v in without["items"]] == ["Trần Văn Dũng"]


def test_stats_for_manager_and_planner(client: TestClient, world: World) -> None:
    for who in ("manager", "planner"):
        stats = client.get(f"/markets/{world.market_a}/stats", headers=world.headers(who)).json()
        assert stats["stalls"] == 2
        assert stats["stalls_with_payout_account"] == 1
        assert stats["payout_coverage"] == 1.0
        assert stats["vendors_holding_stalls"] == 1


def test_oversize_body_is_refused(client: TestClient, world: World, engine: Engine) -> None:
    before = snapshot_database(engine)
    response = client.post(
        f"/markets/{world.market_a}/vendors",
        headers=world.headers("manager"),
        content=b'{"full_name": "' + b"x" * 6_000_000 + b'"}',
    )
    _problem(response, 413, "payload-too-large")
    assert snapshot_database(engine) == before


def test_problem_pages_and_docs_need_no_token(client: TestClient) -> None:
    page = client.get("/problems/stall-occupied")
    assert page.status_code == 200
    assert "Ki-ốt đã có tiểu thương" in page.text
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert client.get("/health").json()["status"] == "ok"
    _problem(client.get("/no-such-path"), 404, "not-found")


def test_admin_creates_a_market_and_its_manager_sees_the_log(
    client: TestClient, world: World
) -> None:
    admin = world.headers("admin")
    market = client.post(
        "/markets", headers=admin, json={"code": "chan-thinh", "name": "Chợ Chấn Thịnh"}
    )
    assert market.status_code == 201
    entry = client.get(
        "/audit", headers=admin, params={"entity": "market", "entity_id": market.json()["id"]}
    )
    assert entry.json()["items"][0]["market_id"] == market.json()["id"]
    duplicate = client.post("/markets", headers=admin, json={"code": "chan-thinh", "name": "Khác"})
    assert duplicate.status_code == 409


def test_control_characters_are_refused_not_crashing(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("manager")
    before = snapshot_database(engine)
    bad = client.post(
        f"/markets/{world.market_a}/vendors",
        headers=h,
        json={"full_name": "Lò\x00Văn", "phone": "0961234567"},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "full_name"
    assert client.get("/vendors", headers=h, params={"q": "hu\x00ong"}).status_code == 200
    login = client.post("/auth/token", data={"username": "ad\x00min", "password": "x"})
    assert login.status_code == 401
    assert snapshot_database(engine) == before | {
        "login_failure": snapshot_database(engine)["login_failure"]
    }


def test_a_stopped_zone_takes_no_new_stall_but_keeps_its_own(
    client: TestClient, world: World, engine: Engine
) -> None:
    h = world.headers("manager")
    market = f"/markets/{world.market_a}"
    loose = client.post(f"{market}/stalls", headers=h, json={"code": "C-1"})
    assert loose.status_code == 201, loose.text
    assert client.delete(f"{market}/zones/{world.zone_a}", headers=h).status_code == 200
    before = snapshot_database(engine)
    for refused in (
        client.post(f"{market}/stalls", headers=h, json={"code": "B-20", "zone_id": world.zone_a}),
        client.patch(f"/stalls/{loose.json()['id']}", headers=h, json={"zone_id": world.zone_a}),
    ):
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "invalid-state"
        assert "đã ngừng" in refused.json()["detail"]
        assert [e["field"] for e in refused.json()["errors"]] == ["zone_id"]
    assert snapshot_database(engine) == before
    kept = client.patch(
        f"/stalls/{world.stall_a}",
        headers=h,
        json={"zone_id": world.zone_a, "monthly_fee": 250_000},  # the page sends every field
    )
    assert kept.status_code == 200, kept.text
    assert kept.json()["zone_id"] == world.zone_a
