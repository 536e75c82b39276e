"""Browser fixtures: Debian's chromium driven by pytest-playwright (never a downloaded browser),
a real uvicorn server on 127.0.0.1 per database backend with the Mậu A demo data, a page whose
requests to any other host fail the test, axe-core (vendored here) and screenshots kept under
`artifacts/`."""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import Engine
from sqlmodel import Session, select

from api.app import create_app
from api.demo import DEMO_PASSWORD, load_demo
from market.clock import utc_now
from market.db import make_engine, unit_of_work
from market.money import ledger, payments
from market.registry import boards, markets, stalls
from market.registry.access import SYSTEM, Actor
from market.registry.models import MarketCreate, Role, StallCreate, User, UserCreate
from market.registry.users import create_user
from market.settings import Settings
from tests.live import drop_database, free_port, fresh_database

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]
OTHER_MANAGER = "quanly.yenbinh"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.fail("Debian's chromium is needed (apt-get install chromium); .ci/run installs it")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


@dataclass
class Site:
    """A running service with demo data: its URL, engine and a few ids the tests use."""

    backend: str
    url: str
    engine: Engine
    market_id: int
    other_market_id: int
    outside_requests: list[str] = field(default_factory=list)


def _seed(engine: Engine) -> tuple[int, int]:
    """The demo market, a payment at B-12 yesterday, and a second market with its manager."""
    with unit_of_work(engine) as session:
        market, _logins, _created = load_demo(session)
        shopper = session.exec(select(User).where(User.username == "nguoimua")).one()
        stall = stalls.find_stall_by_code(session, market_id=market.id or 0, code="B-12")
        assert stall is not None
        board = boards.live_board(session, stall.id or 0)
        assert board is not None
        actor = Actor(
            user_id=shopper.id, username=shopper.username, role=Role.SHOPPER, phone=shopper.phone
        )
        payments.pay_by_qr(
            session,
            actor=actor,
            wallet=ledger.shopper_wallet(session, shopper.id or 0),
            payload=board.payload,
            amount=100_000,
            now=utc_now() - timedelta(days=1),
        )
        other = markets.create_market(
            session,
            actor=SYSTEM,
            data=MarketCreate(code="yen-binh", name="Chợ Yên Bình", province="Yên Bái"),
        )
        stalls.create_stall(
            session, actor=SYSTEM, market_id=other.id or 0, data=StallCreate(code="A-01")
        )
        create_user(
            session,
            actor=SYSTEM,
            data=UserCreate(
                username=OTHER_MANAGER,
                password=DEMO_PASSWORD,
                role=Role.MANAGER,
                market_ids=[other.id or 0],
            ),
        )
        return market.id or 0, other.id or 0


@contextmanager
def serve_demo(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_urls: dict[str, str],
    prefix: str,
) -> Iterator[tuple[Site, Path, str]]:
    """The demo market on a fresh database of the requested backend, served by uvicorn in a
    thread: the site, its folder (data under `data/`) and its database URL; all gone after."""
    backend = str(request.param)
    admin_url = os.environ.get("TEST_DATABASE_URL")
    if backend == "postgresql" and "postgresql" not in database_urls:
        if os.environ.get("CHO_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL required")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    folder = tmp_path_factory.mktemp(f"{prefix}-{backend}")
    name = f"cho_{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = fresh_database(backend, folder, admin_url, name)
    engine = make_engine(url)
    market_id, other_id = _seed(engine)
    settings = Settings(DATABASE_URL=url, webhook_worker=False, data_dir=str(folder / "data"))
    app = create_app(settings, engine=engine)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{backend}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield Site(backend, f"http://127.0.0.1:{port}", engine, market_id, other_id), folder, url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        engine.dispose()
        if backend == "postgresql" and admin_url:
            drop_database(admin_url, name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    database_urls: dict[str, str],
) -> Iterator[Site]:
    with serve_demo(request, tmp_path_factory, database_urls, "web") as (served, _folder, _url):
        yield served


@pytest.fixture
def console(site: Site, browser: Browser) -> Iterator[Page]:
    """A fresh browser context on the site; any request to another host is aborted and fails
    the test."""
    context = browser.new_context(
        base_url=site.url, viewport={"width": 1280, "height": 900}, locale="vi-VN"
    )
    outside: list[str] = []

    def guard(route: Route) -> None:
        if route.request.url.startswith(site.url + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
    assert outside == [], f"requests to other hosts: {outside}"


def sign_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(lambda url: "/login" not in url)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => ({id: v.id, impact: v.impact,
                          nodes: v.nodes.map(n => n.target.join(' '))}));
        }"""
    )
    return found


def screenshots(page: Page, name: str, backend: str) -> None:
    """Full-page screenshots at 360 and 1280 px under artifacts/screenshots/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        page.screenshot(path=str(ARTIFACTS / f"{backend}-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def stall_count(engine: Engine) -> int:
    from sqlalchemy import func

    from market.registry.models import Stall

    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Stall)).one())
