"""The pages through TestClient (fast): sign-in cookie flags, the session ending with its token,
CSRF refusals that change nothing, the language switch, formats, refusals shown next to their
field, another manager's market answering 404, and the catalog and vendored files kept true."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from market.registry.models import CATEGORY_LABELS, PayoutAccount, Stall, Vendor
from tests.conftest import PASSWORD, World, count_rows, snapshot_database
from web import i18n

ROOT = Path(__file__).resolve().parents[2]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": username, "password": password, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def form_csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def test_sign_in_sets_a_http_only_lax_session_cookie(client: TestClient, world: World) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "HttpOnly" in page.headers["set-cookie"]
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": "manager.a", "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookies = {c.split("=")[0]: c for c in response.headers.get_list("set-cookie")}
    session = cookies["cho_session"]
    assert "HttpOnly" in session
    assert "SameSite=lax" in session
    assert "Secure" not in session  # plain http here; over https the flag is set (next test)
    assert cookies["cho_csrf"].split(";")[0] != f"cho_csrf={csrf_of(page.text)}"  # rotated
    home = client.get("/", follow_redirects=True)
    assert home.url.path == f"/m/{world.market_a}"
    assert "Chợ Mậu A" in home.text


def test_the_cookie_is_secure_over_https(client: TestClient, world: World) -> None:
    client.base_url = client.base_url.copy_with(scheme="https")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "username": "manager.a", "password": PASSWORD},
        follow_redirects=False,
    )
    session = next(c for c in response.headers.get_list("set-cookie") if "cho_session" in c)
    assert "Secure" in session
    assert "HttpOnly" in session


def test_pages_need_a_session(client: TestClient, world: World) -> None:
    response = client.get(f"/m/{world.market_a}/vendors?q=huong", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fm%2F")


def test_a_wrong_password_is_refused_and_throttled_like_the_api(
    client: TestClient, world: World
) -> None:
    statuses, texts = [], []
    for _ in range(5):
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"csrf": csrf_of(page.text), "username": "manager.a", "password": "nope"},
        )
        statuses.append(response.status_code)
        texts.append(response.text)
    assert statuses[0] == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in texts[0]
    assert 429 in statuses  # the same throttle as POST /auth/token
    assert "chờ" in texts[statuses.index(429)]


def test_sign_out_and_revocation_end_the_page_session(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    path = f"/m/{world.market_a}"
    assert client.get(path).status_code == 200
    old = client.cookies.get("cho_session")
    response = client.post(
        "/logout", data={"csrf": form_csrf(client, path)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get(path, follow_redirects=False).status_code == 303
    # the old cookie's token was revoked, like POST /auth/logout
    client.cookies.set("cho_session", old or "")
    assert client.get(path, follow_redirects=False).status_code == 303
    # a token revoked through the API ends the page session too
    client.cookies.clear()
    sign_in(client, "manager.a")
    assert client.get(path).status_code == 200
    revoked = client.post(
        f"/users/{world.user_ids['manager']}/revoke-tokens", headers=world.headers("admin")
    )
    assert revoked.status_code == 200
    assert client.get(path, follow_redirects=False).status_code == 303


def test_a_stale_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "manager.a")
    path = f"/m/{world.market_a}/stalls"
    form_csrf(client, path)
    before = snapshot_database(engine)
    for token in ("stale-token", ""):
        response = client.post(path, data={"csrf": token, "code": "Z-99"})
        assert response.status_code == 403
        assert "Biểu mẫu đã cũ hoặc không hợp lệ" in response.text
    cross = client.post(
        path,
        data={"csrf": client.cookies.get("cho_csrf"), "code": "Z-98"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert snapshot_database(engine) == before


def test_the_language_switch_sticks(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    path = f"/m/{world.market_a}"
    page = client.get(path)
    assert '<html lang="vi">' in page.text
    assert "Đăng xuất" in page.text
    response = client.post(
        "/lang",
        data={"csrf": csrf_of(page.text), "lang": "en", "next": path},
        follow_redirects=False,
    )
    assert response.headers["location"] == path
    assert "cho_lang=en" in response.headers["set-cookie"]
    english = client.get(f"/m/{world.market_a}/vendors")
    assert '<html lang="en">' in english.text
    assert "Sign out" in english.text
    assert "Add a vendor" in english.text
    assert english.headers["content-language"] == "en"


def test_formats() -> None:
    assert i18n.money(150_000) == "150.000\u00a0₫"
    assert i18n.money(1_250_000_000) == "1.250.000.000\u00a0₫"
    assert i18n.day(date(2026, 12, 1)) == "01/12/2026"
    assert i18n.moment(datetime(2026, 11, 30, 23, 30, tzinfo=UTC)) == "01/12/2026 06:30"
    assert i18n.day(datetime(2026, 11, 30, 17, 5, tzinfo=UTC)) == "01/12/2026"  # local midnight
    assert i18n.percent(0.425) == "42,5\u00a0%"
    assert i18n.percent(0.425, "en") == "42.5\u00a0%"
    assert i18n.percent(None) == "–"
    assert i18n.area(12.0) == "12 m²"
    assert i18n.area(6.5) == "6,5 m²"
    assert i18n.area(1234.25, "en") == "1234.25 m²"
    assert i18n.measure(1234.25) == "1234,25"  # as the stall form reads it back


def test_another_managers_market_is_not_found(client: TestClient, world: World) -> None:
    sign_in(client, "manager.b")
    for path in (
        f"/m/{world.market_a}",
        f"/m/{world.market_a}/vendors",
        f"/m/{world.market_a}/vendors/{world.vendor_a}",
        f"/m/{world.market_b}/vendors/{world.vendor_a}",  # own market, other market's vendor
        f"/m/{world.market_b}/stalls/{world.stall_a}",
        f"/m/{world.market_a}/boards/sheet.pdf",
        f"/m/{world.market_a}/audit",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Không tìm thấy" in response.text
    assert client.get(f"/m/{world.market_b}").status_code == 200


def test_a_vendor_user_has_no_console(client: TestClient, world: World) -> None:
    sign_in(client, "vendor.a")
    assert client.get("/", follow_redirects=False).headers["location"] == "/v"  # their phone page
    assert client.get(f"/m/{world.market_a}").status_code == 403  # a role refusal, as in the API
    assert client.get("/admin/users").status_code == 403


def test_a_planner_lands_on_the_workbench(client: TestClient, world: World) -> None:
    sign_in(client, "planner")
    assert client.get("/", follow_redirects=False).headers["location"] == "/plan"
    assert client.get("/plan").status_code == 200
    assert client.get(f"/m/{world.market_a}").status_code == 403


def test_refusals_show_the_message_by_the_field_and_change_nothing(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "manager.a")
    stalls = f"/m/{world.market_a}/stalls"
    before = snapshot_database(engine)
    duplicate = client.post(stalls, data={"csrf": form_csrf(client, stalls), "code": "b12"})
    assert duplicate.status_code == 422
    assert 'id="e-code"' in duplicate.text
    assert "đã tồn tại" in duplicate.text.lower() or "đã có" in duplicate.text.lower()
    vendors = f"/m/{world.market_a}/vendors"
    phone = client.post(
        vendors,
        data={"csrf": form_csrf(client, vendors), "full_name": "Lò Văn Páo", "phone": "0212345678"},
    )
    assert phone.status_code == 422
    assert "không phải số di động Việt Nam" in phone.text
    assert 'aria-invalid="true" aria-describedby="e-phone' in phone.text
    vendor_page = f"/m/{world.market_a}/vendors/{world.vendor_a2}"
    bad_bin = client.post(
        f"{vendor_page}/accounts",
        data={"csrf": form_csrf(client, vendor_page), "bin": "123456", "account_number": "1234"},
    )
    assert bad_bin.status_code == 422
    assert "mã BIN không có trong danh mục ngân hàng" in bad_bin.text
    assert 'id="e-bin"' in bad_bin.text
    assert snapshot_database(engine) == before


def test_a_stall_vendor_and_account_added_through_the_pages(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "manager.a")
    stalls = f"/m/{world.market_a}/stalls"
    counts = {m: count_rows(engine, m) for m in (Stall, Vendor, PayoutAccount)}
    added = client.post(
        stalls,
        data={
            "csrf": form_csrf(client, stalls),
            "code": "b-15",
            "zone_id": str(world.zone_a),
            "category": "fruit",
            "area_m2": "6,5",
            "monthly_fee": "240k",  # as the wallet reads amounts
        },
    )
    assert added.status_code == 200
    assert "Ki-ốt B-15" in added.text
    assert "6,5 m²" in added.text  # the area as it was written, not "6.5"
    assert re.search(r'name="area_m2"[^>]*value="6,5"', added.text)  # the edit form, likewise
    assert "240.000\u00a0₫" in added.text
    vendors = f"/m/{world.market_a}/vendors"
    vendor = client.post(
        vendors,
        data={
            "csrf": form_csrf(client, vendors),
            "full_name": "Hà Thị Mơ",
            "phone": "0903 111 222",
        },
    )
    assert vendor.status_code == 200
    assert "+84903111222" in vendor.text
    account = client.post(
        str(vendor.url).replace("?created=1", "") + "/accounts",
        data={"csrf": csrf_of(vendor.text), "bin": "970405", "account_number": "1234567890"},
    )
    assert account.status_code == 200
    assert "Agribank" in account.text
    assert {m: count_rows(engine, m) for m in counts} == {m: n + 1 for m, n in counts.items()}


def test_a_stall_without_a_measured_area_says_so(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    stalls = f"/m/{world.market_a}/stalls"
    form = client.get(stalls).text
    assert "Để trống nếu chưa đo" in form
    added = client.post(
        stalls,
        data={"csrf": csrf_of(form), "code": "b-16", "zone_id": str(world.zone_a), "area_m2": ""},
    )
    assert added.status_code == 200
    assert "Ki-ốt B-16" in added.text
    assert "chưa đo diện tích" in added.text
    assert "0 m²" not in added.text
    assert re.search(r'name="area_m2"[^>]*value=""', added.text)  # not "0" to be corrected
    edit = str(added.url).split("?")[0] + "/edit"
    measured = client.post(edit, data={"csrf": csrf_of(added.text), "area_m2": "7,5"})
    assert "7,5 m²" in measured.text
    # emptying the box (its hint says so) makes the stall unmeasured again
    emptied = client.post(edit, data={"csrf": csrf_of(measured.text), "area_m2": ""})
    assert emptied.status_code == 200
    assert "chưa đo diện tích" in emptied.text
    assert "7,5 m²" not in emptied.text


def test_htmx_requests_get_one_block(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    partial = client.get(f"/m/{world.market_a}/vendors?q=huong", headers={"HX-Request": "true"})
    assert partial.text.lstrip().startswith('<div id="results"')
    assert "Nguyễn Thị Hường" in partial.text
    assert "<html" not in partial.text
    assert "Trần Văn Dũng" not in partial.text
    restore = client.get(
        f"/m/{world.market_a}/vendors?q=huong",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.text  # "back" after a pushed search gets the whole page


def test_page_routes_are_not_in_the_api_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith(("/m/", "/login", "/admin", "/lang"))]


def test_every_message_has_an_english_translation() -> None:
    with (ROOT / "web/locale/en/LC_MESSAGES/messages.po").open("rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.string}
    method_map = [("web/**.py", "python"), ("web/templates/**.html", "jinja2")]
    options = {"web/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT),
        method_map,
        options,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None},
    ):
        found.add(message if isinstance(message, str) else message[0])
    assert found - translated == set()
    assert set(i18n.CATEGORY_MSGIDS) == set(CATEGORY_LABELS.values())


def test_vendored_files_match_their_recorded_hashes() -> None:
    vendor = ROOT / "web/static/vendor"
    lines = [
        line.split()
        for line in (vendor / "VERSIONS.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert lines
    for _package, _version, path, digest in lines:
        assert hashlib.sha256((vendor / path).read_bytes()).hexdigest() == digest
        assert (vendor / path).with_name("LICENSE").exists()


@pytest.mark.parametrize("name", ["BeVietnamPro-Regular.ttf", "BeVietnamPro-Bold.ttf", "OFL.txt"])
def test_the_font_is_served(client: TestClient, name: str) -> None:
    response = client.get(f"/static/fonts/{name}")
    assert response.status_code == 200
    assert len(response.content) > 1000


def test_reprint_sheets_and_board_history(client: TestClient, world: World) -> None:
    sign_in(client, "manager.a")
    market = f"/m/{world.market_a}"
    stall = f"{market}/stalls/{world.stall_a}"
    before = client.get(stall)
    assert before.text.count('class="tag live"') == 1
    reprinted = client.post(f"{stall}/reprint", data={"csrf": csrf_of(before.text)})
    assert reprinted.status_code == 200
    assert reprinted.text.count('class="tag live"') == 1
    assert reprinted.text.count('class="tag replaced"') == 1
    for path in (f"{stall}/board.pdf", f"{market}/boards/sheet.pdf"):
        pdf = client.get(path)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")
    vacant = client.post(
        f"{market}/stalls/{world.stall_vacant}/reprint", data={"csrf": csrf_of(before.text)}
    )
    assert vacant.status_code == 409
    assert "Ki-ốt chưa có mã QR để in lại" in vacant.text


def test_users_and_roles_for_the_admin(client: TestClient, world: World) -> None:
    sign_in(client, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200
    assert "manager.a" in page.text
    refused = client.post(
        "/admin/users",
        data={
            "csrf": csrf_of(page.text),
            "username": "quanly.moi",
            "password": "mat-khau-dai-9",
            "role": "manager",
        },
    )
    assert refused.status_code == 422
    assert 'id="e-market_id"' in refused.text
    created = client.post(
        "/admin/users",
        data={
            "csrf": csrf_of(page.text),
            "username": "quanly.moi",
            "password": "mat-khau-dai-9",
            "role": "manager",
            "market_id": str(world.market_a),
        },
    )
    assert created.status_code == 200
    assert "quanly.moi" in created.text


def test_the_audit_log_names_actions_and_fields_in_vietnamese(
    client: TestClient, world: World
) -> None:
    sign_in(client, "manager.a")
    stall = f"/m/{world.market_a}/stalls/{world.stall_vacant}"
    edited = client.post(
        f"{stall}/edit", data={"csrf": form_csrf(client, stall), "monthly_fee": "240.000"}
    )
    assert edited.status_code == 200
    log = client.get(f"/m/{world.market_a}/audit?entity=stall&entity_id={world.stall_vacant}")
    assert log.status_code == 200
    cells = re.findall(r"<td[^>]*>(.*?)</td>", log.text)
    assert "Thêm mới" in cells  # created by the fixture
    assert "Sửa" in cells
    assert "Phí tháng: 240.000\u00a0₫" in cells
    assert any("Mã: B-14; Diện tích (m²): 0;" in c for c in cells)
    assert not {"create", "update"} & set(cells)
    assert "monthly_fee" not in log.text
    assert "code=" not in log.text
    client.cookies.set("cho_lang", "en")
    english = re.findall(r"<td[^>]*>(.*?)</td>", client.get(log.url).text)
    assert {"Created", "Edited", "Monthly fee: 240.000\u00a0₫"} <= set(english)


def test_closing_a_day_and_its_report(
    client: TestClient, world: World, clock: object, engine: Engine
) -> None:
    sign_in(client, "manager.a")
    days = f"/m/{world.market_a}/days"
    page = client.get(days)
    assert 'min="2000-01-01" max="2026-11-25"' in page.text
    before = snapshot_database(engine)
    absurd = client.post(days, data={"csrf": csrf_of(page.text), "day": "1900-01-01"})
    assert absurd.status_code == 422
    assert 'id="e-day"' in absurd.text
    assert "từ 01/01/2000 đến hôm qua" in absurd.text
    assert snapshot_database(engine) == before
    today = client.post(days, data={"csrf": csrf_of(page.text), "day": "2026-11-26"})
    assert today.status_code == 409  # the clock's day is not over
    assert 'id="e-day"' in today.text
    closed = client.post(days, data={"csrf": csrf_of(page.text), "day": "2026-11-25"})
    assert closed.status_code == 200
    assert "Chốt ngày 25/11/2026" in closed.text
    again = client.post(days, data={"csrf": csrf_of(page.text), "day": "2026-11-25"})
    assert again.status_code == 409
    assert "đã được chốt" in again.text
    pdf = client.get(f"{days}/2026-11-25/report.pdf")
    assert pdf.content.startswith(b"%PDF")
    assert client.get(f"{days}/2026-11-24").status_code == 404


def test_a_form_refusal_speaks_vietnamese_by_each_field(
    client: TestClient, world: World, engine: Engine
) -> None:
    sign_in(client, "manager.a")
    stalls = f"/m/{world.market_a}/stalls"
    before = snapshot_database(engine)
    bad = client.post(
        stalls,
        data={"csrf": form_csrf(client, stalls), "code": "Q-1", "area_m2": "abc"},
    )
    assert bad.status_code == 422
    assert "phải là số (must be a number)" in bad.text
    assert "Input should be" not in bad.text
    assert "area_m2" not in re.sub(r'(name|id|for|aria-describedby)="[^"]*"', "", bad.text)
    huge = client.post(
        stalls,
        data={"csrf": form_csrf(client, stalls), "code": "Q-1", "monthly_fee": "10" + "0" * 19},
    )
    assert "quá lớn, tối đa là 1.000.000.000.000 (too large" in huge.text
    # a refusal by the registry's own rules: Vietnamese first by the field, too
    duplicate = client.post(stalls, data={"csrf": form_csrf(client, stalls), "code": "B-12"})
    assert "đã tồn tại (stall code already exists in this market)" in duplicate.text
    assert snapshot_database(engine) == before


@pytest.mark.parametrize(
    "path", ["/m/abc/vendors", "/m/1/stalls/99999999999999999999", "/m/1/vendors/0"]
)
def test_a_malformed_page_address_is_the_not_found_page(
    client: TestClient, world: World, path: str
) -> None:
    sign_in(client, "admin")
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


def test_an_unknown_address_is_a_page_for_a_browser_and_a_problem_for_a_client(
    client: TestClient,
) -> None:
    page = client.get("/nope", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Không tìm thấy trang" in page.text
    api = client.get("/nope", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
