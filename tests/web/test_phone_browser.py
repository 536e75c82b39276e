"""The phone pages in a real browser (Debian's chromium) against a real server, on SQLite and
PostgreSQL. The shopper's camera is Chromium's fake capture fed with the stall's real board,
rendered by the project's own renderer and turned into a Y4M video; the shopper scans it with the
vendored decoder, sees the masked name, pays; the vendor's soundbox, open meanwhile, shows the
payment and plays its clips. The clip sequences of 5.000, 15.000, 105.000, 1.250.000 and
21.000.000 ₫ are read off the page; a lost connection yields one catch-up summary and no repeated
announcement; a per-sale code, decoded from the vendor's screen, turns paid; every page passes
axe with no serious or critical violation and calls no other host."""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Route, expect
from sqlmodel import Session, select

from api.demo import DEMO_PASSWORD, DEMO_SHOPPER_PIN
from market.clock import utc_now
from market.db import unit_of_work
from market.money import ledger, payments, wallets
from market.registry import boards, stall_codes, stalls
from market.registry.access import SYSTEM, Actor
from market.registry.models import Role, User
from market.settings import Settings
from market.text import normalise_mobile
from qr.board import board_png
from tests.web.conftest import CHROMIUM_ARGS, Site, axe_violations, screenshots
from web import voice

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "phone"
FRAME = (800, 800)  # the fake camera's picture, in pixels (even, for 4:2:0)
VENDOR = "tieuthuong.b12"
AMOUNTS = [5_000, 15_000, 105_000, 1_250_000, 21_000_000]


def board_video(site: Site, folder: Path) -> Path:
    """The live B-12 board as the project prints it, framed as a camera would see it, written as
    a Y4M video (raw I420 frames) for Chromium's fake capture."""
    with Session(site.engine) as session:
        stall = stalls.find_stall_by_code(session, market_id=site.market_id, code="B-12")
        assert stall is not None
        code = stall_codes.stall_code(session, actor=SYSTEM, stall_id=stall.id or 0)
        picture = Image.open(io.BytesIO(board_png(stall_codes.board_content(code), dpi=150)))
    picture.thumbnail((FRAME[0] - 80, FRAME[1] - 80))
    frame = Image.new("RGB", FRAME, (200, 200, 190))  # a grey stall wall behind the board
    frame.paste(picture, ((FRAME[0] - picture.width) // 2, (FRAME[1] - picture.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (FRAME[0] // 2, FRAME[1] // 2)
    planes = y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes()
    video = folder / "board.y4m"
    header = f"YUV4MPEG2 W{FRAME[0]} H{FRAME[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
    video.write_bytes(header + b"".join(b"FRAME\n" + planes for _ in range(5)))
    return video


@pytest.fixture
def phone_browser(browser_type: BrowserType, site: Site, tmp_path: Path) -> Iterator[Browser]:
    """Chromium with the board in front of its fake camera and audio allowed without a tap."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    browser = browser_type.launch(
        executable_path=chromium,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={board_video(site, tmp_path)}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )
    yield browser
    browser.close()


class Phones:
    """Browser contexts at 360 px whose requests to any other host fail the test."""

    def __init__(self, browser: Browser, site: Site) -> None:
        self.browser, self.site = browser, site
        self.contexts: list[BrowserContext] = []
        self.outside: list[str] = []

    def open(self, **options: Any) -> Page:
        context = self.browser.new_context(
            base_url=self.site.url,
            viewport={"width": 360, "height": 760},
            locale="vi-VN",
            **options,
        )
        context.route("**/*", self._guard)
        context.set_default_timeout(20_000)
        self.contexts.append(context)
        return context.new_page()

    def _guard(self, route: Route) -> None:
        url = route.request.url
        if url.startswith(self.site.url + "/") or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def phones(phone_browser: Browser, site: Site) -> Iterator[Phones]:
    opened = Phones(phone_browser, site)
    yield opened
    opened.close()
    assert opened.outside == [], f"requests to other hosts: {opened.outside}"


def pay_at_b12(site: Site, amount: int, phone: str) -> None:
    """Another shopper pays B-12 (through the money service, as another phone would)."""
    with unit_of_work(site.engine) as session:
        holder = session.exec(select(User).where(User.phone == normalise_mobile(phone))).first()
        if holder is None:
            _raw, holder, wallet = wallets.open_wallet(
                session,
                phone=phone,
                pin="135790",
                full_name="Khách Thử",
                settings=Settings(),
                now=utc_now(),
            )
            wallets.top_up(session, wallet=wallet, amount=30_000_000, now=utc_now())
        stall = stalls.find_stall_by_code(session, market_id=site.market_id, code="B-12")
        assert stall is not None
        board = boards.live_board(session, stall.id or 0)
        assert board is not None
        actor = Actor(holder.id, holder.username, Role.SHOPPER, phone=holder.phone)
        wallet = ledger.shopper_wallet(session, holder.id or 0)
        payments.pay_by_qr(
            session, actor=actor, wallet=wallet, payload=board.payload, amount=amount, now=utc_now()
        )


def sign_in_vendor(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(VENDOR)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Loa báo tiền")


def spoken(page: Page) -> list[str]:
    clips: list[str] = page.locator("#spoken li").evaluate_all(
        "items => items.map(i => i.dataset.clips)"
    )
    return clips


def expect_spoken(page: Page, count: int) -> None:
    expect(page.locator("#spoken li")).to_have_count(count)


def check_page(page: Page, name: str, backend: str) -> None:
    assert axe_violations(page) == [], name
    screenshots(page, f"phone-{name}", backend)
    page.set_viewport_size({"width": 360, "height": 760})
    if backend == "sqlite":
        doc_shot(page, name)


def doc_shot(page: Page, name: str) -> None:
    """A 360 px picture for README (docs/phone/), remade only when asked: CHO_DOC_SHOTS=1."""
    if os.environ.get("CHO_DOC_SHOTS") != "1":
        return
    DOCS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 360, "height": 760})
    page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def test_scan_pay_and_the_soundbox_announces(site: Site, phones: Phones) -> None:
    vendor = phones.open()
    sign_in_vendor(vendor)
    vendor.get_by_role("button", name="Bật âm thanh").click()
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "live")
    expect(vendor.locator("#soundbox")).to_have_attribute("data-audio", "on")
    expect(vendor.locator("#sound-state")).to_have_text("Âm thanh đã bật")
    # the Wake Lock was asked for: the page says whether the screen stays on
    expect(vendor.locator("#wake-state")).to_have_text(
        re.compile("^(Màn hình luôn sáng|Không giữ được màn hình sáng.*)$")
    )
    expect(vendor.locator("#voice-box")).to_be_hidden()  # headless chromium has no vi voice
    check_page(vendor, "soundbox", site.backend)

    shopper = phones.open(permissions=["camera"])
    shopper.goto("/w")
    expect(shopper).to_have_url(f"{site.url}/w/login")
    check_page(shopper, "wallet-login", site.backend)
    shopper.get_by_label("Họ tên").fill("Hà Thị Mơ")
    shopper.get_by_label("Số điện thoại di động").fill("0977 123 456")
    shopper.get_by_label("Chọn mã PIN (6 số)").fill("864213")
    shopper.get_by_role("button", name="Mở ví").click()
    expect(shopper.get_by_role("heading", level=1)).to_have_text("Ví của tôi")
    shopper.get_by_label("Số tiền nạp (đồng)").fill("100.000")
    shopper.get_by_role("button", name="Nạp tiền").click()
    expect(shopper.locator("#balance")).to_have_text("100.000\u00a0₫")
    check_page(shopper, "wallet", site.backend)
    # scan the printed board with the camera: the recipient, masked, before paying
    shopper.get_by_role("navigation").get_by_role("link", name="Quét mã").click()
    check_page(shopper, "scan", site.backend)
    shopper.get_by_role("button", name="Mở máy ảnh").click()
    expect(shopper.get_by_role("heading", level=1)).to_have_text("Trả tiền cho")
    expect(shopper.locator("#recipient")).to_contain_text("B-12")
    expect(shopper.locator("#recipient")).to_contain_text("Mậu A")
    expect(shopper.locator("#holder")).to_contain_text("*")
    check_page(shopper, "pay", site.backend)
    shopper.get_by_label("Số tiền (đồng)").fill("15.000")
    shopper.get_by_role("button", name="Trả tiền").click()
    expect(shopper.get_by_role("heading", level=1)).to_have_text("Thành công")
    expect(shopper.locator("#balance")).to_have_text("85.000\u00a0₫")
    check_page(shopper, "receipt", site.backend)
    # the vendor's page shows it large and plays its clips once
    expect(vendor.locator("#last .big-amount")).to_have_text("Đã nhận 15.000\u00a0₫")
    expect(vendor.locator("#feed li")).to_have_count(1)
    expect_spoken(vendor, 1)
    assert spoken(vendor) == [" ".join(voice.announcement(15_000))]
    expect(vendor.locator("#spoken li").last).to_have_attribute("data-played", "yes")
    # the other amounts, paid by other phones
    for amount in AMOUNTS:
        if amount != 15_000:
            pay_at_b12(site, amount, "0966000111")
    expect_spoken(vendor, len(AMOUNTS))
    assert spoken(vendor)[1:] == [" ".join(voice.announcement(a)) for a in AMOUNTS if a != 15_000]
    assert vendor.locator("#spoken li").nth(3).text_content() == (
        "đã nhận một triệu hai trăm năm mươi nghìn đồng"
    )
    expect(vendor.locator("#today-count")).to_have_text(str(len(AMOUNTS)))
    if site.backend == "sqlite":
        doc_shot(vendor, "soundbox")  # after the five amounts
    # the shopper's statement and a transfer to a phone after confirming the masked name
    shopper.goto("/w/statement")
    expect(shopper.locator("#statement")).to_contain_text("ki-ốt B-12")
    for width in (390, 360):  # the whole statement fits a phone: nothing to scroll sideways
        shopper.set_viewport_size({"width": width, "height": 760})
        box = shopper.locator(".table-wrap")
        assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), width
        assert shopper.evaluate("document.documentElement.scrollWidth <= innerWidth"), width
        after = shopper.locator("#statement tbody tr td").nth(3)  # "Số dư sau", all on screen
        assert after.evaluate("e => e.getBoundingClientRect().right <= innerWidth"), width
    check_page(shopper, "statement", site.backend)
    shopper.goto("/w/send")
    shopper.get_by_label("Số điện thoại người nhận").fill("0966000111")
    shopper.get_by_label("Số tiền (đồng)").fill("5000")
    shopper.get_by_role("button", name="Tiếp tục").click()
    expect(shopper.locator("#recipient-name")).to_have_text("Khách T**")
    check_page(shopper, "send", site.backend)
    shopper.get_by_role("button", name="Đúng người, chuyển tiền").click()
    expect(shopper.locator("#balance")).to_have_text("80.000\u00a0₫")


def test_a_lost_connection_gives_one_summary_and_no_repeats(site: Site, phones: Phones) -> None:
    vendor = phones.open()
    sign_in_vendor(vendor)
    vendor.get_by_role("button", name="Bật âm thanh").click()
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "live")
    pay_at_b12(site, 10_000, "0966000222")
    expect_spoken(vendor, 1)
    vendor.context.set_offline(True)
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "lost")
    pay_at_b12(site, 20_000, "0966000222")
    pay_at_b12(site, 200, "0966000222")  # a tiny credit while away
    vendor.context.set_offline(False)
    expect_spoken(vendor, 2)
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "live")
    assert spoken(vendor) == [
        " ".join(voice.announcement(10_000)),
        " ".join(voice.summary(2, 20_200)),
    ]
    expect(vendor.locator("#last")).to_contain_text("đã nhận 2 khoản, tổng 20.200\u00a0₫")
    expect(vendor.locator("#feed li")).to_have_count(3)
    expect(vendor.locator("#feed li.tiny")).to_have_count(1)
    # a tiny credit on its own is announced with the warning
    pay_at_b12(site, 200, "0966000222")
    expect_spoken(vendor, 3)
    assert spoken(vendor)[-1].endswith("dong canh_bao")
    expect(vendor.locator("#last .warn")).to_be_visible()
    # reopening the page announces nothing again
    vendor.reload()
    vendor.get_by_role("button", name="Bật âm thanh").click()
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "live")
    vendor.wait_for_timeout(2500)
    expect_spoken(vendor, 0)
    # the test sound plays the clips of 150.000 ₫
    vendor.get_by_role("button", name="Thử âm thanh").click()
    expect_spoken(vendor, 1)
    assert spoken(vendor) == [" ".join(voice.announcement(150_000))]
    # signing out (here in another tab) ends the feed, and the page says so
    other = vendor.context.new_page()
    other.goto("/v/today")
    other.get_by_role("button", name="Đăng xuất").click()
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "ended", timeout=20_000)
    pay_at_b12(site, 30_000, "0966000222")
    vendor.wait_for_timeout(2500)
    expect_spoken(vendor, 1)  # nothing is announced to a signed-out page


def test_a_page_asleep_in_a_pocket_catches_up_with_one_summary(site: Site, phones: Phones) -> None:
    """The page's script is suspended (as Android does to a tab in a pocket) while payments
    arrive; when it wakes, what the stream buffered meanwhile is said as one summary."""
    vendor = phones.open()
    sign_in_vendor(vendor)
    vendor.get_by_role("button", name="Bật âm thanh").click()
    expect(vendor.locator("#conn")).to_have_attribute("data-state", "live")
    debugger = vendor.context.new_cdp_session(vendor)
    debugger.send("Debugger.enable")
    debugger.send("Debugger.pause")  # the script stops at its next tick
    pay_at_b12(site, 50_000, "0966000333")
    pay_at_b12(site, 70_000, "0966000333")
    pay_at_b12(site, 5_000, "0966000333")
    time.sleep(6)  # asleep longer than the page's 5 s tick gap
    debugger.send("Debugger.resume")
    debugger.send("Debugger.disable")
    expect_spoken(vendor, 1)
    assert spoken(vendor) == [" ".join(voice.summary(3, 125_000))]
    expect(vendor.locator("#feed li")).to_have_count(3)
    vendor.wait_for_timeout(2500)
    expect_spoken(vendor, 1)


def test_the_shell_is_installed_and_works_offline(site: Site, phones: Phones) -> None:
    vendor = phones.open()
    sign_in_vendor(vendor)
    cached = vendor.evaluate(
        """async () => {
            await navigator.serviceWorker.ready;
            const names = await caches.keys();
            const cache = await caches.open(names[0]);
            return (await cache.keys()).map(r => new URL(r.url).pathname);
        }"""
    )
    assert "/static/phone/soundbox.js" in cached
    assert {f"/static/clips/{key}.ogg" for key in voice.WORDS} <= set(cached)
    vendor.reload()  # now controlled by the service worker
    vendor.context.set_offline(True)
    served = vendor.evaluate(
        """async () => {
            const response = await fetch('/static/clips/da_nhan.ogg');
            return [response.status, (await response.arrayBuffer()).byteLength];
        }"""
    )
    assert served[0] == 200
    assert served[1] > 1000
    vendor.context.set_offline(False)


def test_a_per_sale_code_turns_paid(site: Site, phones: Phones, tmp_path: Path) -> None:
    vendor = phones.open()
    sign_in_vendor(vendor)
    vendor.get_by_role("navigation").get_by_role("link", name="Bán").click()
    check_page(vendor, "sell", site.backend)
    for key in ("2", "5", "000"):
        vendor.locator(f'#keypad button[data-key="{key}"]').click()
    expect(vendor.get_by_label("Số tiền (đồng)")).to_have_value("25.000")
    vendor.get_by_role("button", name="Tạo mã QR").click()
    expect(vendor.locator(".sale .words")).to_have_text("Hai mươi lăm nghìn đồng")
    expect(vendor.locator("#sale-state")).to_have_attribute("data-paid", "no")
    check_page(vendor, "sale-code", site.backend)
    # the shopper reads the code off the vendor's screen (a real decoder on a screenshot)
    picture = tmp_path / "sale.png"
    vendor.locator(".sale .qr-image").screenshot(path=str(picture))
    found = zxingcpp.read_barcodes(Image.open(picture))
    assert len(found) == 1
    shopper = phones.open()
    shopper.goto("/w/login")
    shopper.get_by_label("Số điện thoại", exact=True).fill("0901234567")
    shopper.get_by_label("Mã PIN (6 số)", exact=True).fill(DEMO_SHOPPER_PIN)
    shopper.get_by_role("button", name="Đăng nhập").click()
    shopper.goto("/w/scan")
    shopper.get_by_label("Nội dung mã QR").fill(found[0].text)
    shopper.get_by_role("button", name="Xem người nhận").click()
    expect(shopper.locator("#fixed-amount")).to_have_text("25.000\u00a0₫")
    shopper.get_by_role("button", name="Trả tiền").click()
    expect(shopper.get_by_role("heading", level=1)).to_have_text("Thành công")
    expect(vendor.locator("#sale-state")).to_have_attribute("data-paid", "yes")
    expect(vendor.locator("#sale-state")).to_contain_text("Đã nhận 25.000\u00a0₫")
    # the same code, read from a photo of the vendor's screen this time (a phone whose camera
    # the page may not use), is refused in plain words, before any amount or button
    shopper.goto("/w/scan")
    shopper.get_by_label("Ảnh bảng mã").set_input_files(str(picture))
    expect(shopper.get_by_role("alert")).to_contain_text("đã được thanh toán")
    expect(shopper.get_by_role("button", name="Trả tiền")).to_have_count(0)
    # a photo with no code in it says so, and asks nothing of the server
    wall = tmp_path / "wall.png"
    Image.new("RGB", (640, 480), (200, 200, 190)).save(wall)
    shopper.goto("/w/scan")
    shopper.get_by_label("Ảnh bảng mã").set_input_files(str(wall))
    expect(shopper.locator("#photo-state")).to_contain_text("Không thấy mã QR trong ảnh này")
    # my code, and today's slip with the cash typed in
    vendor.get_by_role("navigation").get_by_role("link", name="Mã QR").click()
    expect(vendor.locator("#qr")).to_contain_text("B-12")
    check_page(vendor, "code", site.backend)
    vendor.get_by_role("navigation").get_by_role("link", name="Hôm nay").click()
    vendor.get_by_label("Tiền mặt đã thu hôm nay (đồng)").fill("75000")
    vendor.get_by_role("button", name="Tính tỉ lệ").click()
    total = int((vendor.locator("#slip-total").text_content() or "").split()[0].replace(".", ""))
    share = f"{total / (total + 75_000) * 100:.1f}".replace(".", ",")
    expect(vendor.locator("#slip-share")).to_have_text(f"{share}\u00a0%")
    with vendor.expect_download() as download:
        vendor.get_by_role("link", name="Tải phiếu").click()
    assert f"Tỉ lệ không tiền mặt: {share}\u00a0%" in Path(download.value.path()).read_text("utf-8")
    check_page(vendor, "today", site.backend)


VIETNAMESE_VOICE = """
window.__spoken = [];
const voices = [{lang: "en-US", name: "English"}, {lang: "vi-VN", name: "Tiếng Việt"}];
Object.defineProperty(window, "speechSynthesis", {value: {
  getVoices: () => voices,
  speak: (utterance) => window.__spoken.push([utterance.lang, utterance.text]),
  addEventListener: () => {},
}});
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""


def test_the_phones_vietnamese_voice_is_an_optional_second_voice(
    site: Site, phones: Phones
) -> None:
    vendor = phones.open()
    vendor.add_init_script(VIETNAMESE_VOICE)  # a phone with a Vietnamese voice installed
    sign_in_vendor(vendor)
    vendor.get_by_role("button", name="Bật âm thanh").click()
    vendor.get_by_label("Đọc thêm bằng giọng tiếng Việt của điện thoại").check()
    vendor.get_by_role("button", name="Thử âm thanh").click()
    expect(vendor.locator("#spoken li").last).to_have_attribute("data-played", "yes")
    assert vendor.evaluate("window.__spoken") == [["vi-VN", "đã nhận một trăm năm mươi nghìn đồng"]]
