"""Stalls listed for people (A4 sheets, exports, the console's pages) come in natural order: G-2
before G-10. The API's keyset pages stay in id order."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from market.registry import stall_codes, stalls
from market.registry.access import SYSTEM
from market.registry.models import AssignmentCreate, StallCreate
from market.text import natural_key
from tests.conftest import World
from tests.web.test_web_fast import sign_in

CODES = ["G-10", "G-2", "A-1", "G-11"]


@pytest.fixture
def g_stalls(world: World, engine: Engine) -> None:
    """Stalls G-10, G-2, A-1, G-11 (created in that order), each with a live code."""
    with Session(engine) as session:
        for code in CODES:
            stall = stalls.create_stall(
                session, actor=SYSTEM, market_id=world.market_b, data=StallCreate(code=code)
            )
            stalls.assign_vendor(
                session,
                actor=SYSTEM,
                stall_id=stall.id or 0,
                data=AssignmentCreate(vendor_id=world.vendor_b),
            )
        session.commit()


def test_sheets_list_stalls_in_natural_order(g_stalls: None, engine: Engine, world: World) -> None:
    with Session(engine) as session:
        codes = stall_codes.market_codes(session, actor=SYSTEM, market_id=world.market_b)
        assert [c.stall.code for c in codes] == ["A-01", "A-1", "G-2", "G-10", "G-11"]


def test_exports_list_stalls_in_natural_order(
    g_stalls: None, client: TestClient, world: World
) -> None:
    response = client.get(f"/markets/{world.market_b}/export.csv", headers=world.headers("admin"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row[1] for row in rows[1:]] == ["A-01", "A-1", "G-2", "G-10", "G-11"]


def test_a_vendors_stalls_and_a_markets_zones_in_natural_order(
    g_stalls: None, client: TestClient, world: World
) -> None:
    h = world.headers("admin")
    vendor = client.get(f"/vendors/{world.vendor_b}", headers=h).json()
    assert vendor["stall_codes"] == ["A-01", "A-1", "G-2", "G-10", "G-11"]
    for code in ["Z10", "Z2"]:
        created = client.post(
            f"/markets/{world.market_b}/zones", headers=h, json={"code": code, "name": code}
        )
        assert created.status_code == 201, created.text
    zones = client.get(f"/markets/{world.market_b}/zones", headers=h).json()
    assert [z["code"] for z in zones] == ["Z2", "Z10"]


def test_the_console_lists_stalls_in_natural_order(
    g_stalls: None, client: TestClient, world: World
) -> None:
    sign_in(client, "manager.b")
    market = f"/m/{world.market_b}"
    listed = client.get(f"{market}/stalls")
    codes = re.findall(rf'<a href="{market}/stalls/[0-9]+">([^<]+)</a>', listed.text)
    assert codes == ["A-01", "A-1", "G-2", "G-10", "G-11"]
    found = client.get(f"{market}/stalls?q=g", headers={"HX-Request": "true"})
    assert re.findall(r'/stalls/[0-9]+">([^<]+)</a>', found.text) == ["G-2", "G-10", "G-11"]
    vendor = client.get(f"{market}/vendors/{world.vendor_b}")
    held = re.findall(rf'<a href="{market}/stalls/[0-9]+">([^<]+)</a>', vendor.text)
    assert held == ["A-01", "A-1", "G-2", "G-10", "G-11"]


def test_the_api_pages_stalls_in_id_order(g_stalls: None, client: TestClient, world: World) -> None:
    h = world.headers("admin")
    first = client.get(f"/markets/{world.market_b}/stalls?limit=3", headers=h).json()
    rest = client.get(
        f"/markets/{world.market_b}/stalls",
        params={"limit": 3, "cursor": first["next_cursor"]},
        headers=h,
    ).json()
    assert [s["code"] for s in first["items"] + rest["items"]] == ["A-01", *CODES]


def test_natural_key_examples() -> None:
    assert sorted(["G-10", "G-11", "G-2", "A-1", "B-12", "B-3-A", "B-3"], key=natural_key) == [
        "A-1",
        "B-3",
        "B-3-A",
        "B-12",
        "G-2",
        "G-10",
        "G-11",
    ]


@given(st.text(alphabet="AB", min_size=1, max_size=2), st.lists(st.integers(0, 999), min_size=2))
def test_natural_key_orders_numbers_by_value(letters: str, numbers: list[int]) -> None:
    codes = [f"{letters}-{n}" for n in numbers]
    ordered = sorted(codes, key=natural_key)
    assert [int(c.rsplit("-", 1)[1]) for c in ordered] == sorted(numbers)
