"""Phone pages on a cheap phone (DESIGN.md §8): each page's JavaScript and total bytes, and the
time until it is usable with Chromium's CPU throttled 6×, beside a blank page from the same
server measured the same way in the same run. Aim: at most 1.5 s more than the blank page.

Runs the service on a fresh SQLite file with the Mậu A demo data and drives Debian's chromium
(never a downloaded browser) at 360 px. Every load is cold (HTTP cache disabled, service workers
blocked); "usable" is the page's own readiness mark (the soundbox connected to its feed, the
keypad shown, …) after its `load` event. The median of `--repeat` loads per page.

    python -m bench.pages [--repeat 5] [--throttle 6]   (as a module: bench/simulator.py would
    shadow the simulator package if run as a script)

Pages are a table (`PAGES`): add a row to measure another page (the planner's, say)."""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi.responses import HTMLResponse
from playwright.sync_api import BrowserContext, Page, Response, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from api.app import create_app
from api.demo import DEMO_PASSWORD, DEMO_SHOPPER_PHONE, load_demo
from market.db import make_engine, unit_of_work, upgrade
from market.settings import Settings

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLANK = "/bench/blank"


@dataclass(frozen=True)
class PhonePage:
    name: str
    path: str
    who: str  # "vendor", "shopper" or "" (no sign-in)
    ready: str  # a CSS selector present once the page is usable


PAGES = [
    PhonePage("blank page (reference)", BLANK, "", "body"),
    PhonePage("vendor: soundbox /v", "/v", "vendor", '#conn[data-state="live"]'),
    PhonePage("vendor: my code /v/code", "/v/code", "vendor", "#qr svg"),
    PhonePage("vendor: sell /v/sell", "/v/sell", "vendor", "#keypad:not([hidden])"),
    PhonePage("vendor: today /v/today", "/v/today", "vendor", "#slip"),
    PhonePage("shopper: sign-in /w/login", "/w/login", "", "#open-form"),
    PhonePage("shopper: wallet /w", "/w", "shopper", "#balance"),
    PhonePage("shopper: scan /w/scan", "/w/scan", "shopper", "#start-camera"),
]


@contextmanager
def service(folder: Path) -> Iterator[str]:
    """The service on a fresh SQLite file with the demo data, plus a blank page, on loopback."""
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        load_demo(session)
    settings = Settings(DATABASE_URL=url, webhook_worker=False, data_dir=str(folder / "data"))
    app = create_app(settings, engine=engine)
    app.add_api_route(BLANK, lambda: HTMLResponse("<!doctype html><title>blank</title>"))
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the service did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        engine.dispose()


def sign_in(context: BrowserContext, who: str) -> None:
    page = context.new_page()
    if who == "vendor":
        page.goto("/login")
        page.get_by_label("Tên đăng nhập").fill("tieuthuong.b12")
        page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/v")
    elif who == "shopper":
        page.goto("/w/login")
        page.get_by_label("Số điện thoại", exact=True).fill(DEMO_SHOPPER_PHONE)
        page.get_by_label("Mã PIN (6 số)", exact=True).fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/w")
    page.close()


@dataclass
class Load:
    seconds: float
    js_bytes: int
    js_gzip: int
    total_bytes: int


def measure(context: BrowserContext, target: PhonePage, throttle: float) -> Load:
    page: Page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    bodies: list[tuple[str, bytes]] = []

    def keep(response: Response) -> None:
        if response.request.url.startswith("data:"):
            return
        try:
            bodies.append((response.request.resource_type, response.body()))
        except PlaywrightError:  # an event stream has no body to read
            bodies.append((response.request.resource_type, b""))

    page.on("response", keep)
    start = time.perf_counter()
    page.goto(target.path, wait_until="load")
    page.wait_for_selector(target.ready, state="attached")
    seconds = time.perf_counter() - start
    page.close()
    scripts = [body for kind, body in bodies if kind == "script"]
    return Load(
        seconds=seconds,
        js_bytes=sum(len(b) for b in scripts),
        js_gzip=sum(len(gzip.compress(b, 9)) for b in scripts),
        total_bytes=sum(len(b) for _kind, b in bodies),
    )


def measure_all(base: str, repeat: int, throttle: float) -> list[tuple[PhonePage, Load, float]]:
    """Each page of `PAGES`: its last load and the median time until usable."""
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        contexts: dict[str, BrowserContext] = {}
        for who in ("", "vendor", "shopper"):
            contexts[who] = browser.new_context(
                base_url=base,
                viewport={"width": 360, "height": 760},
                locale="vi-VN",
                service_workers="block",
            )
            sign_in(contexts[who], who)
        rows = []
        for target in PAGES:
            loads = [measure(contexts[target.who], target, throttle) for _ in range(repeat)]
            rows.append((target, loads[-1], statistics.median(x.seconds for x in loads)))
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--throttle", type=float, default=6.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, service(Path(folder)) as base:
        rows = measure_all(base, options.repeat, options.throttle)
    blank = rows[0][2]
    print(f"CPU throttled {options.throttle:g}×, median of {options.repeat} cold loads, 360 px")
    header = f"{'page':30} {'JS':>9} {'JS gzip':>9} {'total':>9} {'usable':>8} {'− blank':>8}"
    print(header)
    print("-" * len(header))
    for target, load, seconds in rows:
        print(
            f"{target.name:30} {load.js_bytes / 1024:8.1f}K {load.js_gzip / 1024:8.1f}K "
            f"{load.total_bytes / 1024:8.1f}K {seconds:7.2f}s {seconds - blank:+7.2f}s"
        )


if __name__ == "__main__":
    main()
