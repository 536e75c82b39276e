"""The manager's console in a real browser (Debian's chromium) against a real server, on SQLite
and PostgreSQL: the whole journey, bad input through the pages, and every page scanned by axe-core
and photographed at 360 and 1280 px."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import FilePayload, Page, expect
from sqlmodel import Session, col, select

from market.clock import business_day, utc_now
from market.registry.models import (
    Board,
    BoardStatus,
    PayoutAccount,
    Stall,
    StallAssignment,
    Vendor,
    Zone,
)
from tests.conftest import snapshot_database
from tests.web.conftest import OTHER_MANAGER, Site, axe_violations, screenshots, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HEADER = (
    "Khu,Mã ki-ốt,Ngành hàng,Phí tháng (đồng),Họ tên tiểu thương,Số điện thoại,"
    "Ngân hàng (BIN),Số tài khoản\n"
)


def _csv(phone: str) -> bytes:
    rows = [
        "X,X-02,Rau củ,200000,Đinh Thị Nụ,0915000222,970405,1234567800\n",
        f"X,X-03,Trái cây,200000,Hoàng Văn Lộc,{phone},970436,0451000123456\n",
    ]
    return (HEADER + "".join(rows)).encode("utf-8")


def _upload(page: Page, name: str, content: bytes) -> None:
    payload: FilePayload = {"name": name, "mimeType": "text/csv", "buffer": content}
    page.get_by_label("Tệp Excel (.xlsx) hoặc CSV").set_input_files(files=[payload])
    page.get_by_role("button", name="Kiểm tra tệp").click()


def _scan_pdf(pdf: bytes, folder: Path) -> list[str]:
    source = folder / "sheet.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(source), str(folder / "p")], check=True)
    found = []
    for png in sorted(folder.glob("p-*.png")):
        found += [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    return found


def test_the_manager_journey(site: Site, console: Page, tmp_path: Path) -> None:
    page = console
    market = f"/m/{site.market_id}"
    # sign in
    sign_in(page, "quanly.maua")
    expect(page).to_have_url(re.compile(rf"{market}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hôm nay")
    # search without diacritics
    page.get_by_role("navigation").get_by_role("link", name="Tiểu thương").click()
    page.get_by_label("Tìm theo tên, số điện thoại hoặc mã ki-ốt").fill("huong")
    hit = page.locator("#results tr").filter(has_text="B-12")
    expect(hit.get_by_role("link", name="Nguyễn Thị Hường")).to_be_visible()
    # add a zone, a stall, a vendor with a payout account; assign the stall
    page.goto(f"{market}/zones")
    page.get_by_label("Mã khu").fill("X")
    page.get_by_label("Tên khu").fill("Khu X - Chợ tạm")
    page.get_by_role("button", name="Thêm khu").click()
    expect(page.get_by_role("cell", name="Khu X - Chợ tạm")).to_be_visible()
    page.goto(f"{market}/stalls")
    page.get_by_label("Mã ki-ốt", exact=True).fill("x-01")
    page.locator("#stall-form").get_by_label("Khu").select_option(label="X — Khu X - Chợ tạm")
    page.get_by_label("Phí tháng (đồng)").fill("240.000")
    page.get_by_role("button", name="Thêm ki-ốt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ki-ốt X-01")
    stall_url = page.url
    page.goto(f"{market}/vendors")
    page.get_by_label("Họ tên", exact=True).fill("Lò Thị Mai")
    page.get_by_label("Số điện thoại di động").fill("0912 000 111")
    page.get_by_role("button", name="Thêm tiểu thương").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lò Thị Mai")
    page.get_by_label("Mã BIN ngân hàng").fill("970405")
    page.get_by_label("Số tài khoản / số thẻ / số ví").fill("1234567890")
    page.get_by_role("button", name="Thêm tài khoản").click()
    expect(page.locator("#accounts table")).to_contain_text("Agribank")
    page.goto(stall_url)
    page.get_by_label("Gán tiểu thương").select_option(label="Lò Thị Mai — 0912 000 111")
    page.get_by_role("button", name="Gán", exact=True).click()
    expect(page.get_by_role("link", name="Lò Thị Mai")).to_be_visible()
    expect(page.locator("#boards .tag.live")).to_have_count(1)
    # import a file with a bad row: see the reason, fix it, apply
    page.get_by_role("navigation").get_by_role("link", name="Nhập / xuất Excel").click()
    _upload(page, "ki-ot.csv", _csv("0212345678"))
    bad = page.locator("#bad-rows tbody tr")
    expect(bad).to_have_count(1)
    expect(bad.first).to_contain_text("3")
    expect(bad.first).to_contain_text("Số điện thoại")
    expect(bad.first).to_contain_text("0212345678")
    expect(bad.first).to_contain_text("không phải số di động Việt Nam")
    with Session(site.engine) as s:
        assert s.exec(select(Stall).where(Stall.code == "X-02")).first() is None
    _upload(page, "ki-ot.csv", _csv("0915000333"))
    expect(page.locator("#bad-rows")).to_have_count(0)
    page.get_by_role("button", name="Nhập 2 dòng").click()
    expect(page.get_by_role("status")).to_contain_text("Đã nhập xong")
    # print zone X's sheet: every board on it scans back to a live payload
    page.get_by_role("navigation").get_by_role("link", name="In bảng mã").click()
    link = page.get_by_role("link", name="In khu X (PDF A4)")
    response = page.request.get(link.get_attribute("href") or "")
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    with Session(site.engine) as s:
        zone = s.exec(select(Zone).where(Zone.market_id == site.market_id, Zone.code == "X")).one()
        live = set(
            s.exec(
                select(Board.payload)
                .join(Stall, col(Stall.id) == Board.stall_id)
                .where(Stall.zone_id == zone.id, Board.status == BoardStatus.LIVE)
            ).all()
        )
    assert len(live) == 3
    assert sorted(_scan_pdf(response.body(), tmp_path)) == sorted(live)
    # close yesterday and read its report
    yesterday = business_day(utc_now()) - timedelta(days=1)
    page.get_by_role("navigation").get_by_role("link", name="Chốt ngày").click()
    expect(page.get_by_label("Ngày cần chốt")).to_have_value(yesterday.isoformat())
    page.get_by_role("button", name="Chốt ngày").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Chốt ngày {yesterday:%d/%m/%Y}")
    row = page.get_by_role("row").filter(has_text="B-12")
    expect(row).to_contain_text("100.000\u00a0₫")
    report = page.request.get(f"{market}/days/{yesterday.isoformat()}/report.pdf")
    assert report.ok
    assert report.body().startswith(b"%PDF")
    # find the change in the audit log
    page.get_by_role("navigation").get_by_role("link", name="Nhật ký").click()
    page.get_by_label("Loại").select_option("stall")
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("#results")).to_contain_text("Mã: X-01")
    expect(page.locator("#results")).to_contain_text("quanly.maua")
    # sign out: the session ends
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(market)
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_bad_input_is_refused_with_its_message_and_changes_nothing(
    site: Site, console: Page
) -> None:
    page = console
    market = f"/m/{site.market_id}"
    sign_in(page, "quanly.maua")
    before = snapshot_database(site.engine)
    # duplicate stall
    page.goto(f"{market}/stalls")
    page.get_by_label("Mã ki-ốt", exact=True).fill("b12")
    page.get_by_role("button", name="Thêm ki-ốt").click()
    expect(page.locator("#e-code")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("B-12")
    expect(page.get_by_label("Mã ki-ốt", exact=True)).to_have_attribute("aria-invalid", "true")
    # wrong phone
    page.goto(f"{market}/vendors")
    page.get_by_label("Họ tên", exact=True).fill("Lò Văn Páo")
    page.get_by_label("Số điện thoại di động").fill("0212345678")
    page.get_by_role("button", name="Thêm tiểu thương").click()
    expect(page.locator("#e-phone")).to_contain_text("không phải số di động Việt Nam")
    # bad BIN
    page.goto(f"{market}/vendors?q=huong")
    page.locator("#results tr").filter(has_text="B-12").get_by_role("link").click()
    page.get_by_label("Mã BIN ngân hàng").fill("123456")
    page.get_by_label("Số tài khoản / số thẻ / số ví").fill("1234567")
    page.get_by_role("button", name="Thêm tài khoản").click()
    expect(page.locator("#e-bin")).to_contain_text("mã BIN không có trong danh mục ngân hàng")
    # oversize upload
    page.goto(f"{market}/import")
    _upload(page, "lon.csv", b"x" * (1024 * 1024 + 10))
    expect(page.locator("#e-file")).to_contain_text("Tệp lớn hơn 1 MB")
    # another manager's market in the URL
    response = page.goto(f"/m/{site.other_market_id}/vendors")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")
    # a stale CSRF token
    page.goto(f"{market}/stalls")
    page.get_by_label("Mã ki-ốt", exact=True).fill("Z-99")
    page.locator("#stall-form input[name=csrf]").evaluate("e => e.value = 'stale-token'")
    page.get_by_role("button", name="Thêm ki-ốt").click()
    expect(page.get_by_text("Biểu mẫu đã cũ hoặc không hợp lệ")).to_be_visible()
    assert snapshot_database(site.engine) == before
    # the other manager sees their own market, not this one
    page.context.clear_cookies()
    sign_in(page, OTHER_MANAGER)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hôm nay")
    assert page.goto(market) is not None
    expect(page.get_by_role("heading", level=1)).to_have_text("Không tìm thấy")


PAGES = [
    ("today", ""),
    ("vendors", "/vendors?q=huong"),
    ("stalls", "/stalls"),
    ("zones", "/zones"),
    ("import", "/import"),
    ("boards", "/boards"),
    ("days", "/days"),
    ("audit", "/audit"),
]


def test_every_page_is_accessible_and_photographed(site: Site, console: Page) -> None:
    page = console
    market = f"/m/{site.market_id}"
    page.goto("/login")
    assert axe_violations(page) == []
    screenshots(page, "login", site.backend)
    sign_in(page, "quanly.maua")
    with Session(site.engine) as s:
        stall = s.exec(
            select(Stall).where(Stall.market_id == site.market_id, Stall.code == "B-12")
        ).one()
        vendor = s.exec(
            select(Vendor)
            .join(StallAssignment, col(StallAssignment.vendor_id) == Vendor.id)
            .where(StallAssignment.stall_id == stall.id, StallAssignment.end_date == None)  # noqa: E711
        ).one()
        assert s.exec(select(PayoutAccount).where(PayoutAccount.vendor_id == vendor.id)).first()
    pages = [
        *PAGES,
        ("vendor", f"/vendors/{vendor.id}"),
        ("stall", f"/stalls/{stall.id}"),
        ("webhooks", f"/vendors/{vendor.id}/webhooks"),
    ]
    problems = {}
    for name, path in pages:
        response = page.goto(market + path)
        assert response is not None
        assert response.status == 200, name
        found = axe_violations(page)
        if found:
            problems[name] = found
        screenshots(page, name, site.backend)
    # the English switch sticks across pages
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(market)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    screenshots(page, "today-en", site.backend)
    page.get_by_role("button", name="Tiếng Việt").click()
    page.get_by_role("button", name="Đăng xuất").click()
    sign_in(page, "admin")
    page.goto("/admin/users")
    found = axe_violations(page)
    if found:
        problems["users"] = found
    screenshots(page, "users", site.backend)
    assert problems == {}
