"""Several service instances (separate processes on separate ports, as behind a load balancer)
on one PostgreSQL database: the ledger hammer spread across two instances conserves money and
never overdraws, one Idempotency-Key sent to both at once makes one transfer, and each webhook
event is delivered once although four delivery workers race for it."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from market.db import make_engine
from market.money.models import WebhookDelivery
from tests.live import Seeded, Server, seed
from tests.test_notifications import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("backend", ["postgresql"], indirect=True)]

CLIENTS = 16


@pytest.fixture
def two_instances(live_url: str, tmp_path: Path) -> Iterator[list[Server]]:
    servers = [
        Server(
            live_url,
            tmp_path / f"instance-{n}.log",
            workers=2,
            env={"CHO_WEBHOOK_POLL_SECONDS": "0.05", "CHO_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1"},
        )
        for n in (1, 2)
    ]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def _h(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def _balances(base: str, world: Seeded) -> list[int]:
    return [
        int(httpx.get(f"{base}/wallets/me", headers=_h(t), timeout=30).json()["balance"])
        for t in world.shopper_tokens
    ]


def _audit(base: str, world: Seeded) -> list[Any]:
    found: list[Any] = httpx.get(
        f"{base}/ledger/audit", headers=_h(world.admin_token), timeout=60
    ).json()
    return found


def test_the_ledger_hammer_across_two_instances_conserves_money(
    live_url: str, two_instances: list[Server], password_hash: str
) -> None:
    shoppers = 4
    world = seed(live_url, shoppers=shoppers, balance=30_000, password_hash=password_hash)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + 6

    def worker(index: int) -> None:
        rng = random.Random(index)
        base = two_instances[index % 2].base  # half the clients on each instance
        with httpx.Client(base_url=base, timeout=60) as client:
            while time.monotonic() < stop_at:
                payer = rng.randrange(shoppers)
                if rng.random() < 0.5:
                    path = "/wallets/me/transfers"
                    body: dict[str, Any] = {
                        "to_phone": world.shopper_phones[(payer + 1) % shoppers],
                        "amount": rng.choice([1_000, 7_000, 20_000]),
                    }
                else:
                    path = "/wallets/me/payments"
                    body = {"payload": world.stall_payload, "amount": rng.choice([2_000, 9_000])}
                response = client.post(
                    path, headers=_h(world.shopper_tokens[payer], uuid.uuid4().hex), json=body
                )
                with lock:
                    outcomes["sent"] += 1
                    outcomes[str(response.status_code)] += 1

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(worker, range(CLIENTS)))
    assert outcomes["201"] + outcomes["402"] == outcomes["sent"], outcomes
    assert outcomes["201"] > 20, outcomes
    assert outcomes["402"] > 0, outcomes  # the wallets ran dry: overdrafts were attempted
    for server in two_instances:  # both instances see one ledger, intact
        assert _audit(server.base, world) == []
    balances = _balances(two_instances[0].base, world)
    assert balances == _balances(two_instances[1].base, world)
    vendor = httpx.get(
        f"{two_instances[1].base}/payout-accounts/{world.payout_account_id}/wallet",
        headers=_h(world.vendor_token),
    ).json()["balance"]
    assert min(balances) >= 0
    assert sum(balances) + vendor == 30_000 * shoppers  # money only moved


def test_one_key_sent_to_both_instances_at_once_makes_one_transfer(
    live_url: str, two_instances: list[Server], password_hash: str
) -> None:
    world = seed(live_url, shoppers=1, balance=0, password_hash=password_hash)
    token = world.shopper_tokens[0]
    barrier = threading.Barrier(CLIENTS)

    def send(index: int) -> tuple[int, Any]:
        with httpx.Client(base_url=two_instances[index % 2].base, timeout=60) as client:
            barrier.wait()
            response = client.post(
                "/wallets/me/top-ups", headers=_h(token, "same-key"), json={"amount": 50_000}
            )
            return response.status_code, response.json()

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(send, range(CLIENTS)))
    assert Counter(status for status, _ in results) == Counter({201: CLIENTS})
    assert len({body["id"] for _, body in results}) == 1  # one transfer, replayed to all
    assert _balances(two_instances[0].base, world) == [50_000]
    changed = httpx.post(
        f"{two_instances[1].base}/wallets/me/top-ups",
        headers=_h(token, "same-key"),
        json={"amount": 60_000},
    )
    assert (changed.status_code, changed.json()["code"]) == (422, "idempotency-mismatch")
    assert _audit(two_instances[1].base, world) == []


def test_each_webhook_event_is_delivered_once_across_instances(
    live_url: str, two_instances: list[Server], password_hash: str
) -> None:
    world = seed(live_url, shoppers=2, balance=1_000_000, password_hash=password_hash)
    payments = 40
    first = two_instances[0].base
    with Receiver() as receiver:
        hook = httpx.post(
            f"{first}/vendors/{_vendor_id(first, world)}/webhooks",
            headers=_h(world.vendor_token),
            json={"url": receiver.url},
        )
        assert hook.status_code == 201, hook.text

        def pay(index: int) -> int:
            response = httpx.post(
                f"{two_instances[index % 2].base}/wallets/me/payments",
                headers=_h(world.shopper_tokens[index % 2], f"hook-{index}"),
                json={"payload": world.stall_payload, "amount": 1_000 + index},
                timeout=60,
            )
            assert response.status_code == 201, response.text
            return int(response.json()["id"])

        with ThreadPoolExecutor(8) as pool:
            paid = set(pool.map(pay, range(payments)))
        deadline = time.monotonic() + 60
        while len(receiver.calls) < payments and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # 20 more rounds of every worker: time for any second delivery
        sent = Counter(headers["cho-event-id"] for headers, _ in receiver.calls)
        transfers = {_transfer_id(body) for _, body in receiver.calls}
    assert len(sent) == payments
    assert set(sent.values()) == {1}, sent.most_common(3)  # no event delivered twice
    assert transfers == paid
    engine = make_engine(live_url)
    with Session(engine) as session:
        deliveries = session.exec(select(WebhookDelivery)).all()
    engine.dispose()
    assert {(d.status, d.attempts) for d in deliveries} == {("delivered", 1)}


def _vendor_id(base: str, world: Seeded) -> int:
    return int(httpx.get(f"{base}/auth/me", headers=_h(world.vendor_token)).json()["vendor_id"])


def _transfer_id(body: bytes) -> int:
    return int(json.loads(body)["data"]["transfer_id"])
