"""Open event feeds are woken by commits, not by their polling: every server here polls once an
hour, so an event that arrives at all was delivered by the wake-up (PostgreSQL LISTEN/NOTIFY,
across instances; in-process on SQLite). A revoked reader's feed ends at once the same way, a
refused payment wakes nothing, and a listener whose connection is cut reconnects."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from market.db import make_engine
from tests.live import Seeded, Server, seed
from web.core import SESSION_COOKIE

pytestmark = pytest.mark.slow

NO_POLLING = {"CHO_FEED_POLL_SECONDS": "3600", "CHO_FEED_FALLBACK_POLL_SECONDS": "3600"}
WAIT = 30  # seconds a test waits for something that should come at once (never a figure)


class Feed:
    """A vendor's open event stream, read in a thread: its events in a queue, and whether the
    server ended it."""

    def __init__(self, base: str, vendor_id: int, token: str, *, page: bool = False) -> None:
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.opened = threading.Event()
        self.ended = threading.Event()
        if page:  # the vendor's soundbox page, signed in with its session cookie
            self.url, self.headers = f"{base}/v/events", {"Cookie": f"{SESSION_COOKIE}={token}"}
        else:
            self.url = f"{base}/vendors/{vendor_id}/events"
            self.headers = {"Authorization": f"Bearer {token}"}
        threading.Thread(target=self._read, daemon=True).start()
        assert self.opened.wait(WAIT), "the feed did not open"

    def _read(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=None) as stream:
                self.opened.set()
                for line in stream.iter_lines():
                    if line.startswith("data: ") and "transfer_id" in line:
                        self.events.put(json.loads(line[6:]))
        except httpx.HTTPError:
            return  # cut off by the server stopping
        self.ended.set()

    def next(self) -> dict[str, Any]:
        return self.events.get(timeout=WAIT)


def _h(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def _vendor_id(server: Server, world: Seeded) -> int:
    me = httpx.get(f"{server.base}/auth/me", headers=_h(world.vendor_token)).json()
    return int(me["vendor_id"])


def _pay(server: Server, world: Seeded, key: str, amount: int) -> httpx.Response:
    return httpx.post(
        f"{server.base}/wallets/me/payments",
        headers=_h(world.shopper_tokens[0], key),
        json={"payload": world.stall_payload, "amount": amount},
        timeout=30,
    )


@pytest.fixture
def quiet_server(live_url: str, tmp_path: Path, password_hash: str) -> Iterator[tuple[Server, Any]]:
    world = seed(live_url, shoppers=1, balance=100_000, password_hash=password_hash)
    server = Server(live_url, tmp_path / "server.log", workers=1, env=NO_POLLING)
    server.start()
    yield server, world
    server.stop()


def test_a_committed_payment_wakes_its_vendors_feed_and_a_refused_one_nothing(
    quiet_server: tuple[Server, Seeded],
) -> None:
    server, world = quiet_server
    feed = Feed(server.base, _vendor_id(server, world), world.vendor_token)
    assert _pay(server, world, "too-much", 900_000).status_code == 402
    paid = _pay(server, world, "first", 25_000)
    assert paid.status_code == 201
    event = feed.next()  # the refused payment left nothing to announce: this is the paid one
    assert event["data"]["transfer_id"] == paid.json()["id"]
    assert event["data"]["amount_words"] == "Hai mươi lăm nghìn đồng"
    second = _pay(server, world, "second", 3_000)
    assert feed.next()["data"]["transfer_id"] == second.json()["id"]
    assert feed.events.empty()


def test_the_soundbox_page_is_woken_by_the_commit_and_says_the_amount(
    quiet_server: tuple[Server, Seeded],
) -> None:
    server, world = quiet_server
    page = Feed(server.base, _vendor_id(server, world), world.vendor_token, page=True)
    paid = _pay(server, world, "page-1", 15_000)
    assert paid.status_code == 201
    event = page.next()
    assert event["data"]["transfer_id"] == paid.json()["id"]
    assert event["words"].lower().endswith("mười lăm nghìn đồng")
    assert page.events.empty()


def test_revoking_a_readers_tokens_ends_their_open_feed_at_once(
    quiet_server: tuple[Server, Seeded],
) -> None:
    server, world = quiet_server
    vendor_id = _vendor_id(server, world)
    me = httpx.get(f"{server.base}/auth/me", headers=_h(world.vendor_token)).json()
    feed = Feed(server.base, vendor_id, world.vendor_token)
    other = Feed(server.base, vendor_id, world.admin_token)  # another reader's feed stays
    revoked = httpx.post(
        f"{server.base}/users/{me['id']}/revoke-tokens", headers=_h(world.admin_token)
    )
    assert revoked.status_code == 200, revoked.text
    assert feed.ended.wait(WAIT), "the revoked reader's feed kept running"
    assert not other.ended.is_set()
    paid = _pay(server, world, "after", 4_000)
    assert other.next()["data"]["transfer_id"] == paid.json()["id"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_any_instance_serves_any_vendors_feed(
    live_url: str, tmp_path: Path, password_hash: str
) -> None:
    """Two instances (separate processes and ports) on one database: a payment taken by either
    reaches the vendor's feeds open on both."""
    world = seed(live_url, shoppers=1, balance=100_000, password_hash=password_hash)
    servers = [
        Server(live_url, tmp_path / f"server-{n}.log", workers=1, env=NO_POLLING) for n in (1, 2)
    ]
    try:
        for server in servers:
            server.start()
        vendor_id = _vendor_id(servers[0], world)
        feeds = [Feed(server.base, vendor_id, world.vendor_token) for server in servers]
        for n, server in enumerate(servers):
            paid = _pay(server, world, f"on-{n}", 10_000 + n)
            assert paid.status_code == 201
            for feed in feeds:
                assert feed.next()["data"]["transfer_id"] == paid.json()["id"]
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_lost_listener_reconnects_and_its_feeds_miss_nothing(
    live_url: str, quiet_server: tuple[Server, Seeded]
) -> None:
    """The server's LISTEN connection is cut (as a database restart or a network fault would):
    a payment made meanwhile wakes nobody, but once the listener is back its feeds read what
    they missed, and later payments wake them again."""
    server, world = quiet_server
    feed = Feed(server.base, _vendor_id(server, world), world.vendor_token)
    database = make_url(live_url).database
    admin = make_engine(live_url, isolation_level="AUTOCOMMIT")

    def listeners() -> list[int]:
        with admin.connect() as connection:
            return list(
                connection.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity"
                        " WHERE datname = :db AND query = 'LISTEN cho_events'"
                    ),
                    {"db": database},
                ).scalars()
            )

    try:
        before = _wait_for(listeners)
        with admin.connect() as connection:
            for pid in before:
                connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        _wait_for(lambda: [] if set(before) & set(listeners()) else [0])  # gone
        missed = _pay(server, world, "while-cut", 6_000)
        assert missed.status_code == 201
        _wait_for(lambda: [pid for pid in listeners() if pid not in before])
        assert feed.next()["data"]["transfer_id"] == missed.json()["id"]
        caught = _pay(server, world, "after", 7_000)
        assert feed.next()["data"]["transfer_id"] == caught.json()["id"]
    finally:
        admin.dispose()


def _wait_for(found: Callable[[], list[int]]) -> list[int]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if result := found():
            return result
        time.sleep(0.1)
    raise AssertionError("not found in time")
