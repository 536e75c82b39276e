"""The ledger's promises under real load against a real server (uvicorn, two workers) on both
databases: T1 concurrent transfers and payments on few and many accounts, T2 one key sent 16
times at once, T5 concurrent partial refunds, T3 kill -9 under load, restart, audit, converge."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import Seeded, Server, seed

# real servers under concurrent load and kill -9: the slow loop
pytestmark = pytest.mark.slow

CLIENTS = 16


def _serve(url: str, tmp_path: Path, workers: int = 2) -> Server:
    server = Server(url, tmp_path / "server.log", workers=workers)
    server.start()
    return server


def _h(token: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def _audit(server: Server, world: Seeded) -> list[Any]:
    result: list[Any] = httpx.get(
        f"{server.base}/ledger/audit", headers=_h(world.admin_token), timeout=60
    ).json()
    return result


def _balances(server: Server, world: Seeded) -> list[int]:
    return [
        int(httpx.get(f"{server.base}/wallets/me", headers=_h(t), timeout=30).json()["balance"])
        for t in world.shopper_tokens
    ]


@pytest.mark.parametrize(("shoppers", "seconds"), [(3, 6.0), (40, 4.0)], ids=["few", "many"])
def test_t1_concurrent_money_never_overdraws_or_loses(
    live_url: str, tmp_path: Path, password_hash: str, shoppers: int, seconds: float
) -> None:
    world = seed(live_url, shoppers=shoppers, balance=30_000, password_hash=password_hash)
    server = _serve(live_url, tmp_path)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(base_url=server.base, timeout=60) as client:
            while time.monotonic() < stop_at:
                payer = rng.randrange(shoppers)
                key = uuid.uuid4().hex
                if rng.random() < 0.5:
                    # A→B and B→A between the first two wallets, the hot pair
                    payee = (payer + 1) % 2 if shoppers <= 3 else rng.randrange(shoppers)
                    if payee == payer:
                        payee = (payer + 1) % shoppers
                    response = client.post(
                        "/wallets/me/transfers",
                        headers=_h(world.shopper_tokens[payer], key),
                        json={
                            "to_phone": world.shopper_phones[payee],
                            "amount": rng.choice([1_000, 7_000, 20_000]),
                        },
                    )
                else:
                    response = client.post(
                        "/wallets/me/payments",
                        headers=_h(world.shopper_tokens[payer], key),
                        json={
                            "payload": world.stall_payload,
                            "amount": rng.choice([2_000, 9_000, 25_000]),
                        },
                    )
                with lock:
                    outcomes["sent"] += 1
                    if response.status_code == 201:
                        outcomes["created"] += 1
                    elif response.status_code == 402:
                        outcomes["refused"] += 1
                    else:
                        outcomes[f"other {response.status_code} {response.text[:80]}"] += 1

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(worker, range(CLIENTS)))
        assert _audit(server, world) == []
        balances = _balances(server, world)
        vendor = httpx.get(
            f"{server.base}/payout-accounts/{world.payout_account_id}/wallet",
            headers=_h(world.vendor_token),
        ).json()["balance"]
    finally:
        server.stop()
    assert outcomes["created"] + outcomes["refused"] == outcomes["sent"], outcomes
    assert outcomes["created"] > 20, outcomes
    assert outcomes["refused"] > 0, outcomes
    assert min(balances) >= 0
    assert sum(balances) + vendor == 30_000 * shoppers  # money only moved


def test_t2_one_key_sixteen_times_at_once(
    live_url: str, tmp_path: Path, password_hash: str
) -> None:
    world = seed(live_url, shoppers=1, balance=0, password_hash=password_hash)
    server = _serve(live_url, tmp_path)
    token = world.shopper_tokens[0]
    barrier = threading.Barrier(CLIENTS)

    def send(_: int) -> tuple[int, Any]:
        with httpx.Client(base_url=server.base, timeout=60) as client:
            barrier.wait()
            response = client.post(
                "/wallets/me/top-ups", headers=_h(token, "same-key"), json={"amount": 50_000}
            )
            return response.status_code, response.json()

    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(send, range(CLIENTS)))
        statuses = Counter(status for status, _ in results)
        assert statuses == Counter({201: CLIENTS}), statuses
        assert len({body["id"] for _, body in results}) == 1  # one transfer, replayed to all
        assert _balances(server, world) == [50_000]
        changed = httpx.post(
            f"{server.base}/wallets/me/top-ups",
            headers=_h(token, "same-key"),
            json={"amount": 60_000},
        )
        assert (changed.status_code, changed.json()["code"]) == (422, "idempotency-mismatch")
        # refused, topped up, replayed: still refused
        pay = {"payload": world.stall_payload, "amount": 80_000}
        refused = httpx.post(
            f"{server.base}/wallets/me/payments", headers=_h(token, "pay-1"), json=pay
        )
        assert refused.status_code == 402
        httpx.post(
            f"{server.base}/wallets/me/top-ups", headers=_h(token, "more"), json={"amount": 100_000}
        )
        replay = httpx.post(
            f"{server.base}/wallets/me/payments", headers=_h(token, "pay-1"), json=pay
        )
        assert (replay.status_code, replay.json()) == (402, refused.json())
        assert _balances(server, world) == [150_000]
        assert _audit(server, world) == []
    finally:
        server.stop()


def test_t5_concurrent_partial_refunds_never_exceed_the_payment(
    live_url: str, tmp_path: Path, password_hash: str
) -> None:
    world = seed(live_url, shoppers=1, balance=200_000, password_hash=password_hash)
    server = _serve(live_url, tmp_path)
    try:
        paid = httpx.post(
            f"{server.base}/wallets/me/payments",
            headers=_h(world.shopper_tokens[0], "p"),
            json={"payload": world.stall_payload, "amount": 100_000},
        ).json()
        barrier = threading.Barrier(CLIENTS)

        def refund(index: int) -> int:
            with httpx.Client(base_url=server.base, timeout=60) as client:
                barrier.wait()
                return client.post(
                    f"/payments/{paid['id']}/refunds",
                    headers=_h(world.vendor_token, f"r{index}"),
                    json={"amount": 10_000},
                ).status_code

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = Counter(pool.map(refund, range(CLIENTS)))
        assert statuses == Counter({201: 10, 409: 6}), statuses
        assert _balances(server, world) == [200_000]
        assert _audit(server, world) == []
    finally:
        server.stop()


def test_t3_kill_dash_nine_under_load_loses_nothing_acknowledged(
    live_url: str, tmp_path: Path, password_hash: str
) -> None:
    world = seed(live_url, shoppers=4, balance=0, password_hash=password_hash)
    server = _serve(live_url, tmp_path, workers=1)
    attempted: dict[str, tuple[int, int]] = {}  # key → (shopper, amount), logged before sending
    acked: dict[str, int] = {}  # key → transfer id, after a 201
    lock = threading.Lock()
    running = threading.Event()
    running.set()

    def worker(index: int) -> None:
        rng = random.Random(index)
        with httpx.Client(timeout=10) as client:
            while running.is_set():
                shopper, amount = rng.randrange(4), rng.randrange(1, 50) * 1000
                key = uuid.uuid4().hex
                with lock:
                    attempted[key] = (shopper, amount)
                try:
                    response = client.post(
                        f"{server.base}/wallets/me/top-ups",
                        headers=_h(world.shopper_tokens[shopper], key),
                        json={"amount": amount},
                    )
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                if response.status_code == 201:
                    with lock:
                        acked[key] = response.json()["id"]

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    try:
        rng = random.Random(3)
        for _ in range(4):
            time.sleep(rng.uniform(0.8, 1.6))
            server.kill()
            server.start()
        time.sleep(1.0)
    finally:
        running.clear()
        for thread in threads:
            thread.join()
    try:
        assert len(acked) > 20
        assert _audit(server, world) == []
        before = _balances(server, world)
        # re-send every attempted key: acknowledged ones replay, lost ones are applied once
        with httpx.Client(base_url=server.base, timeout=60) as client:
            for key, (shopper, amount) in attempted.items():
                response = client.post(
                    "/wallets/me/top-ups",
                    headers=_h(world.shopper_tokens[shopper], key),
                    json={"amount": amount},
                )
                assert response.status_code == 201
                if key in acked:
                    assert response.json()["id"] == acked[key]  # nothing acknowledged was lost
        after = _balances(server, world)
        expected = [0, 0, 0, 0]
        for shopper, amount in attempted.values():
            expected[shopper] += amount
        assert after == expected  # every key applied exactly once
        assert all(b <= a for b, a in zip(before, after, strict=True))
        assert _audit(server, world) == []
    finally:
        server.stop()
