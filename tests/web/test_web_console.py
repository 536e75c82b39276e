"""The manager console as a newcomer met it: every vendor of a big market listed, an audit log
that reads like the pages, a confirmation before anything that cannot be undone, and an assign
form that picks nobody by itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from market.registry.models import Vendor
from market.text import fold
from tests.conftest import World, snapshot_database
from tests.web.test_web_fast import csrf_of, form_csrf, sign_in


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


def test_phones_read_as_people_write_them(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    listed = client.get(f"/m/{world.market_a}/vendors").text
    assert "<td>0912 345 678</td>" in listed  # stored +84912345678
    assert "+84912345678</td>" not in listed
    page = client.get(f"/m/{world.market_a}/vendors/{world.vendor_a}").text
    assert 'href="tel:+84912345678">0912 345 678</a>' in page
    assert 'value="0912 345 678"' in page  # the edit form takes it back as written


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
    assert "Điện thoại: 0912 345 678" in changes  # as the vendor page writes it
    assert "+849" not in changes
    assert re.search(r"In lúc: \d\d/\d\d/2026 \d\d:\d\d", changes)
    assert re.search(r"Nội dung mã QR: [^;]{24}…", changes)
    for raw in ("bank_account", "vacant", "True", "None", "Z;", "240000", "Diện tích (m²): 0.0"):
        assert raw not in changes, raw
    assert '<td class="mono">' not in log.text  # accents stay whole in the text font


def _irreversible(world: World) -> list[tuple[str, str, str, str]]:
    """(the page with the button, the action it posts, who signs in, what the question says)."""
    market = f"/m/{world.market_a}"
    stall, vendor = f"{market}/stalls/{world.stall_a}", f"{market}/vendors/{world.vendor_a}"
    vacant = f"{market}/stalls/{world.stall_vacant}"
    return [
        (f"{market}/zones", f"{market}/zones/{world.zone_a}/deactivate", "manager.a", "Ngừng khu"),
        (vacant, f"{vacant}/close", "manager.a", "Đóng ki-ốt B-14?"),
        (stall, f"{stall}/end", "manager.a", "Kết thúc hợp đồng thuê ki-ốt B-12 của"),
        (vendor, f"{vendor}/deactivate", "manager.a", "ngừng hoạt động?"),
        (
            vendor,
            f"{vendor}/accounts/{world.account_a}/deactivate",
            "manager.a",
            "Ngừng tài khoản nhận tiền ••",
        ),
        ("/admin/users", f"/admin/users/{world.user_ids['manager_b']}/deactivate", "admin", "Khóa"),
    ]


@pytest.mark.parametrize("case", range(6))
def test_an_irreversible_action_asks_to_confirm_first(
    client: TestClient, world: World, engine: Engine, case: int
) -> None:
    page, action, who, question = _irreversible(world)[case]
    sign_in(client, who)
    before = snapshot_database(engine)
    asked = client.post(action, data={"csrf": form_csrf(client, page)}, follow_redirects=False)
    assert asked.status_code == 200
    assert "<h1>Xác nhận</h1>" in asked.text
    assert question in asked.text
    assert f'action="{action}"' in asked.text
    assert 'name="confirm" value="yes"' in asked.text
    assert f'href="{page}' in asked.text  # the way back
    assert snapshot_database(engine) == before  # the first click changed nothing
    done = client.post(
        action, data={"csrf": csrf_of(asked.text), "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert snapshot_database(engine) != before


def test_the_assign_form_starts_on_nobody_and_refuses_an_empty_choice(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "manager.a")
    stall = f"/m/{world.market_a}/stalls/{world.stall_vacant}"
    page = client.get(stall)
    select = page.text[page.text.index('<select id="f-vendor_id"') :]
    select = select[: select.index("</select>")]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[0] == ("", "— chọn tiểu thương —")
    assert "selected" not in select
    free, renting = select.index("Chưa thuê ki-ốt"), select.index("Đang thuê ki-ốt khác")
    assert free < select.index(f'value="{world.vendor_a2}"') < renting  # no stall: first
    assert renting < select.index(f'value="{world.vendor_a}"')  # holds B-12
    before = snapshot_database(engine)
    refused = client.post(f"{stall}/assign", data={"csrf": csrf_of(page.text), "vendor_id": ""})
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="e-vendor_id"' in refused.text
    assert re.search(r'id="e-vendor_id">Chọn một tiểu thương', refused.text)
    assert snapshot_database(engine) == before


def test_the_vendor_page_names_webhooks_and_the_fee_unit_in_vietnamese(
    client: TestClient, world: World
) -> None:
    sign_in(client, "manager.a")
    vendor = f"/m/{world.market_a}/vendors/{world.vendor_a}"
    page = client.get(vendor)
    assert f'href="{vendor}/webhooks">Thông báo tự động (webhook)</a>' in page.text
    assert "Phí giao dịch (phần vạn: 100 = 1 %)" in page.text
    assert re.search(r"Ví dụ 150 là 1,5 %; hiện nay \d+,\d\u00a0%", page.text)
    webhooks = client.get(f"{vendor}/webhooks")
    assert "<h1>Thông báo tự động (webhook) của" in webhooks.text
    listing = client.get(f"/m/{world.market_a}/vendors")
    assert "Phí giao dịch (phần vạn: 100 = 1 %)" in listing.text
    assert "Ví dụ 150 là 1,5 %; để trống là 0" in listing.text


def test_a_stopped_zone_is_named_on_the_zone_list_after_confirming(
    client: TestClient, world: World
) -> None:
    sign_in(client, "manager.a")
    zones = f"/m/{world.market_a}/zones"
    action = f"{zones}/{world.zone_a}/deactivate"
    asked = client.post(action, data={"csrf": form_csrf(client, zones)})
    # the question says what stopping does to the stalls already there
    assert "vẫn bán hàng và nhận tiền bằng bảng mã hiện có" in asked.text
    done = client.post(action, data={"csrf": csrf_of(asked.text), "confirm": "yes"})
    assert done.status_code == 200
    assert str(done.url).endswith(f"{zones}?stopped={world.zone_a}")
    notice = re.search(r'<p class="notice" role="status">([^<]*)</p>', done.text)
    assert notice is not None
    assert notice.group(1).startswith("Đã ngừng khu ")
    # the add-stall form no longer offers it; the list's filter marks it
    stalls = client.get(f"/m/{world.market_a}/stalls").text
    add_form = stalls[stalls.index('<select id="f-zone_id"') :]
    add_form = add_form[: add_form.index("</select>")]
    assert f'value="{world.zone_a}"' not in add_form
    assert "(đã ngừng)" in stalls
    # so does the boards page's print-by-zone table
    boards = client.get(f"/m/{world.market_a}/boards").text
    assert len(re.findall(r"<td>[^<]* — [^<]* \(đã ngừng\)</td>", boards)) == 1
    # a link naming a zone that is still active, or no zone of this market, claims nothing
    added = client.post(zones, data={"csrf": csrf_of(done.text), "code": "Z9", "name": "Khu chín"})
    assert added.status_code == 200
    active = re.search(rf'href="/m/{world.market_a}/stalls\?zone=(\d+)">Z9<', added.text)
    assert active is not None
    for stopped in (active.group(1), "999999"):
        shown = client.get(f"{zones}?stopped={stopped}")
        assert shown.status_code == 200
        assert "Đã ngừng khu" not in shown.text


def test_a_buttons_address_opened_as_a_page_says_so_in_words(
    client: TestClient, world: World
) -> None:
    sign_in(client, "manager.a")
    action = f"/m/{world.market_a}/zones/{world.zone_a}/deactivate"  # a confirmation page's URL
    opened = client.get(action, headers={"Accept": "text/html,application/xhtml+xml"})
    assert opened.status_code == 405
    assert opened.headers["content-type"].startswith("text/html")
    assert "không mở thành trang được" in opened.text
    assert 'href="/"' in opened.text
    api = client.get(f"/markets/{world.market_a}/import", headers={"Accept": "application/json"})
    assert api.status_code == 405
    assert api.headers["content-type"] == "application/problem+json"  # the API keeps problems


def test_a_stall_and_its_vendor_read_in_english(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    client.cookies.set("cho_lang", "en")
    stall = client.get(f"/m/{world.market_a}/stalls/{world.stall_a}").text
    assert "<p>Zone: " in stall
    assert "Vendor renting the stall" in stall
    vendor = client.get(f"/m/{world.market_a}/vendors/{world.vendor_a}").text
    listed = re.search(r"</a> — ([^,<]+), monthly fee", vendor)
    assert listed is not None
    assert listed.group(1) in stall  # the category as the stall page names it, in English
    assert listed.group(1).isascii(), listed.group(1)  # not the Vietnamese label
