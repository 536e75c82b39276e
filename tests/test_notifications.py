"""Payment notifications: the live feed (Server-Sent Events) and signed webhooks delivered from the
transactional outbox with retries (T7: redelivery, deduplicable ids, bad and stale signatures)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from market.money.models import Transfer, WebhookDelivery, WebhookEndpoint
from market.money.notifications import deliver_due, verify
from tests.conftest import PASSWORD, FrozenClock, World, snapshot_database
from tests.live import Server, seed

LOCAL = frozenset({"127.0.0.1"})  # the test receivers' host


class Receiver:
    """A webhook receiver on 127.0.0.1 that fails the first `failures` calls."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if len(receiver.calls) <= receiver.failures else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _deliver(engine: Engine, clock: FrozenClock, http: httpx.Client) -> int:
    return deliver_due(engine, now=clock(), client=http, allowed_hosts=LOCAL)


def _pay(client: TestClient, world: World, amount: int, key: str) -> Any:
    payload = client.get(f"/stalls/{world.stall_a}/code", headers=world.headers("manager")).json()[
        "payload"
    ]
    token = client.post(
        "/wallets/token", json={"phone": "0901111111", "pin": "correct-horse-9"}
    ).json()
    response = client.post(
        "/wallets/me/payments",
        headers={"Authorization": f"Bearer {token['access_token']}", "Idempotency-Key": key},
        json={"payload": payload, "amount": amount},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _events(
    client: TestClient, world: World, who: str = "vendor", **params: Any
) -> list[dict[str, Any]]:
    response = client.get(
        f"/vendors/{world.vendor_a}/events",
        headers=world.headers(who),
        params={"follow": False} | params,
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for frame in response.text.strip().split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in frame.splitlines() if not line.startswith(":")
        )
        events.append(
            {"id": int(fields["id"]), "event": fields["event"], "data": json.loads(fields["data"])}
        )
    return events


def test_feed_announces_each_payment_with_amount_in_words(client: TestClient, world: World) -> None:
    first = _events(client, world)
    assert [e["event"] for e in first] == ["payment.received"]  # the world's seeded sale
    _pay(client, world, 150_000, "feed-1")
    events = _events(client, world, after=first[-1]["id"])
    assert len(events) == 1
    data = events[0]["data"]["data"]
    assert data["amount"] == 150_000
    assert data["amount_text"] == "150.000\u00a0₫"
    assert data["amount_words"] == "Một trăm năm mươi nghìn đồng"
    resumed = client.get(
        f"/vendors/{world.vendor_a}/events",
        params={"follow": False},
        headers=world.headers("vendor") | {"Last-Event-ID": str(events[0]["id"])},
    )
    assert resumed.text == ""
    assert (
        client.get(
            f"/vendors/{world.vendor_a}/events",
            params={"follow": False},
            headers=world.headers("vendor_b"),
        ).status_code
        == 404
    )


def test_webhooks_are_signed_retried_and_deduplicable(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock
) -> None:
    with Receiver(failures=2) as receiver:
        hook = client.post(
            f"/vendors/{world.vendor_a}/webhooks",
            headers=world.headers("vendor"),
            json={"url": receiver.url},
        )
        assert hook.status_code == 201
        secret = hook.json()["secret"]
        _pay(client, world, 45_000, "hook-1")
        with httpx.Client(timeout=5) as http:
            assert _deliver(engine, clock, http) == 1  # 500: retried later
            assert _deliver(engine, clock, http) == 0  # not due yet (back-off)
            clock.now += timedelta(seconds=3)
            assert _deliver(engine, clock, http) == 1  # 500 again
            clock.now += timedelta(seconds=5)
            assert _deliver(engine, clock, http) == 1  # 200
            clock.now += timedelta(hours=2)
            assert _deliver(engine, clock, http) == 0  # delivered: never again
        assert len(receiver.calls) == 3
        ids = {headers["cho-event-id"] for headers, _ in receiver.calls}
        assert len(ids) == 1  # the same event id on every redelivery: receivers deduplicate on it
        headers, body = receiver.calls[-1]
        sent_at = clock.now - timedelta(hours=2)
        assert verify(secret, headers["cho-signature"], body, sent_at)
        assert json.loads(body)["data"]["amount"] == 45_000
        assert not verify(
            secret, headers["cho-signature"], body.replace(b"45000", b"95000"), sent_at
        )
        assert not verify("wrong-secret", headers["cho-signature"], body, sent_at)
        assert not verify(secret, headers["cho-signature"], body, sent_at + timedelta(minutes=6))
        assert not verify(secret, "garbage", body, sent_at)
    with Session(engine) as session:
        delivery = session.exec(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts, delivery.last_status) == ("delivered", 3, 200)


def test_a_failing_receiver_gives_up_and_never_touches_the_payment(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock
) -> None:
    with Receiver(failures=100) as receiver:
        client.post(
            f"/vendors/{world.vendor_a}/webhooks",
            headers=world.headers("manager"),
            json={"url": receiver.url},
        )
        paid = _pay(client, world, 12_000, "hook-2")
        with httpx.Client(timeout=5) as http:
            for _ in range(12):
                _deliver(engine, clock, http)
                clock.now += timedelta(hours=1, minutes=5)
    with Session(engine) as session:
        delivery = session.exec(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts) == ("failed", 8)
        assert session.get(Transfer, paid["id"]) is not None  # the payment stands


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://x", "invalid-url"),
        ("not a url", "invalid-url"),
        ("http://", "invalid-url"),
        ("http://exa\x00mple.com/hook", "invalid-url"),
        ("http://example.com/\x7fhook", "invalid-url"),
        ("http://example.com/\nhook", "invalid-url"),
        ("http://10.0.0.1/hook", "blocked-address"),
        ("http://192.168.1.1/hook", "blocked-address"),
        ("http://169.254.169.254/latest/meta-data", "blocked-address"),
        ("http://127.0.0.2:8080/hook", "blocked-address"),
        ("http://[::1]/hook", "blocked-address"),
        ("http://[::ffff:10.0.0.1]/hook", "blocked-address"),
        ("http://0.0.0.0/hook", "blocked-address"),
        ("http://224.0.0.1/hook", "blocked-address"),
        ("http://localhost:9/hook", "blocked-address"),  # resolves to loopback (/etc/hosts)
    ],
)
def test_bad_webhook_urls_are_refused(
    client: TestClient, world: World, engine: Engine, url: str, code: str
) -> None:
    before = snapshot_database(engine)
    response = client.post(
        f"/vendors/{world.vendor_a}/webhooks", headers=world.headers("vendor"), json={"url": url}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["code"] for e in response.json()["errors"]] == [code]
    assert snapshot_database(engine) == before


def _no_connection(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"a connection to {request.url} was attempted")


@pytest.mark.parametrize("host", ["10.0.0.1", "169.254.169.254", "192.168.1.1", "[::1]"])
def test_delivery_to_a_private_address_is_refused_before_connecting(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock, host: str
) -> None:
    """A receiver registered before the rule (or a name that now resolves privately) gets
    nothing: the attempt fails without a connection."""
    with Session(engine) as session:
        session.add(WebhookEndpoint(vendor_id=world.vendor_a, url=f"http://{host}/h", secret="s"))
        session.commit()
    _pay(client, world, 10_000, "private-1")
    with httpx.Client(transport=httpx.MockTransport(_no_connection)) as http:
        assert _deliver(engine, clock, http) == 1
    with Session(engine) as session:
        delivery = session.exec(select(WebhookDelivery)).one()
        assert (delivery.status, delivery.attempts, delivery.last_status) == ("pending", 1, None)
        assert delivery.last_error is not None
        assert delivery.last_error.startswith("BlockedTargetError")


@pytest.fixture
def streaming_server(
    live_url: str, tmp_path: Path, password_hash: str
) -> Iterator[tuple[Server, Any]]:
    world = seed(live_url, shoppers=1, balance=100_000, password_hash=password_hash)
    server = Server(live_url, tmp_path / "server.log", workers=1)
    server.start()
    yield server, world
    server.stop()


@pytest.mark.slow
def test_live_stream_delivers_a_payment_within_seconds(
    streaming_server: tuple[Server, Any],
) -> None:
    server, world = streaming_server
    vendor_id = httpx.get(
        f"{server.base}/auth/me", headers={"Authorization": f"Bearer {world.vendor_token}"}
    ).json()["vendor_id"]
    received: list[str] = []

    def listen() -> None:
        with httpx.stream(
            "GET",
            f"{server.base}/vendors/{vendor_id}/events",
            headers={"Authorization": f"Bearer {world.vendor_token}"},
            timeout=20,
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    received.append(line)
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    time.sleep(1.0)
    start = time.monotonic()
    paid = httpx.post(
        f"{server.base}/wallets/me/payments",
        headers={"Authorization": f"Bearer {world.shopper_tokens[0]}", "Idempotency-Key": "live"},
        json={"payload": world.stall_payload, "amount": 25_000},
    )
    assert paid.status_code == 201
    listener.join(timeout=10)
    assert received, "no event within 10 s"
    assert json.loads(received[0][6:])["data"]["amount_words"] == "Hai mươi lăm nghìn đồng"
    assert time.monotonic() - start < 10


class Listener:
    """An open event stream in a thread, and whether the server ended it."""

    def __init__(self, base: str, vendor_id: int, token: str) -> None:
        self.ended = threading.Event()
        self.opened = threading.Event()
        self.url = f"{base}/vendors/{vendor_id}/events"
        self.token = token
        self.thread = threading.Thread(target=self._listen, daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        try:
            with httpx.stream(
                "GET", self.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=30
            ) as stream:
                self.opened.set()
                for _line in stream.iter_lines():
                    pass
        except httpx.HTTPError:
            return  # cut off (the server stopping), not ended by it
        self.ended.set()


@pytest.mark.slow
def test_an_open_stream_ends_once_its_token_is_revoked_or_its_user_deactivated(
    streaming_server: tuple[Server, Any],
) -> None:
    server, world = streaming_server
    admin = {"Authorization": f"Bearer {world.admin_token}"}
    me = httpx.get(
        f"{server.base}/auth/me", headers={"Authorization": f"Bearer {world.vendor_token}"}
    ).json()

    def login() -> str:
        answer = httpx.post(
            f"{server.base}/auth/token", data={"username": "vendor", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def ends(listener: Listener, stop: Any) -> None:
        assert listener.opened.wait(15)
        time.sleep(1.5)  # a poll or more with the token still good
        assert not listener.ended.is_set()
        stop()
        assert listener.ended.wait(15), "the stream kept running"

    token = login()
    listener = Listener(server.base, me["vendor_id"], token)
    ends(
        listener,
        lambda: httpx.post(
            f"{server.base}/auth/logout", headers={"Authorization": f"Bearer {token}"}
        ),
    )
    listener = Listener(server.base, me["vendor_id"], login())
    ends(
        listener,
        lambda: httpx.post(f"{server.base}/users/{me['id']}/revoke-tokens", headers=admin),
    )
    listener = Listener(server.base, me["vendor_id"], login())
    ends(listener, lambda: httpx.delete(f"{server.base}/users/{me['id']}", headers=admin))
