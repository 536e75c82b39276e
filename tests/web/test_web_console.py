"""The manager console as a newcomer met it: every vendor of a big market listed, an audit log
that reads like the pages, a confirmation before anything that cannot be undone, and an assign
form that picks nobody by itself."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from market.registry.models import Vendor
from market.text import fold
from tests.conftest import World
from tests.web.test_web_fast import form_csrf, sign_in


def test_the_vendor_list_shows_every_vendor_of_a_big_market(
    client: TestClient, world: World, engine: Engine
) -> None:
    with Session(engine) as s:
        for n in range(250):
            name = f"Lê Thị Số {n:03d}"
            s.add(
                Vendor(
                    market_id=world.market_a,
                    full_name=name,
                    name_key=fold(name),
                    phone=f"+849070{n:05d}",
                    phone_keys=f"09070{n:05d}",
                )
            )
        s.commit()
    sign_in(client, "manager.a")
    page = client.get(f"/m/{world.market_a}/vendors")
    assert page.status_code == 200
    rows = re.findall(r'<a href="/m/\d+/vendors/\d+">([^<]*)</a>', page.text)
    assert "Lê Thị Số 000" in rows
    assert "Lê Thị Số 249" in rows
    assert f"{len(rows)} tiểu thương" in page.text
    assert len(rows) > 250  # the fixture's vendors too
    assert rows.index("Lê Thị Số 009") < rows.index("Lê Thị Số 010")  # by name
    found = client.get(f"/m/{world.market_a}/vendors?q=le thi so 24")
    assert "10 tiểu thương" in found.text  # 240…249


def test_the_audit_log_shows_values_as_the_pages_do(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    market = f"/m/{world.market_a}"
    vendor = f"{market}/vendors/{world.vendor_a2}"
    added = client.post(
        f"{vendor}/accounts",
        data={"csrf": form_csrf(client, vendor), "bin": "970405", "account_number": "123"},
    )
    assert added.status_code == 200, added.text
    stall = f"{market}/stalls/{world.stall_vacant}"
    client.post(f"{stall}/edit", data={"csrf": form_csrf(client, stall), "monthly_fee": "240.000"})
    log = client.get(f"{market}/audit")
    assert log.status_code == 200
    cells = re.findall(r"<td[^>]*>(.*?)</td>", log.text)
    changes = " ".join(cells)
    assert "Phí tháng: 240.000\u00a0₫" in cells
    assert "Loại tài khoản: Tài khoản ngân hàng" in changes
    assert "Mặc định: Có" in changes
    assert "Số tài khoản: ••••;" in changes  # "123": masked like the long ones
    assert "Ngành hàng: Khác" in changes
    assert "Trạng thái: Còn trống" in changes
    assert "Kết thúc lúc: –" in changes
    assert re.search(r"In lúc: \d\d/\d\d/2026 \d\d:\d\d", changes)
    assert re.search(r"Nội dung mã QR: [^;]{24}…", changes)
    for raw in ("bank_account", "vacant", "True", "None", "Z;", "240000", "Diện tích (m²): 0.0"):
        assert raw not in changes, raw
    assert '<td class="mono">' not in log.text  # accents stay whole in the text font
