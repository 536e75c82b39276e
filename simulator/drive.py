"""Drive mode: the simulated market played against a running Chợ 4.0 service over HTTP, like
any client. It registers the market's stalls, vendors and payout accounts, opens shopper wallets
and tops them up, then, day by day, makes the QR payments the model says happen — each by
scanning the payload the service issues for the stall — at a bounded request rate. It reports
what it sent and what the service answered. It fills a service with realistic activity and
doubles as its load generator."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np

from simulator.model import METRICS, simulate
from simulator.params import Params


@dataclass
class DriveReport:
    sent: Counter[str] = field(default_factory=Counter)  # "METHOD /path-kind status" → count
    paid_total: int = 0
    payments: int = 0
    market_id: int | None = None

    def record(self, label: str, response: httpx.Response) -> None:
        self.sent[f"{label} {response.status_code}"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "market_id": self.market_id,
            "payments": self.payments,
            "paid_total": self.paid_total,
            "requests": dict(sorted(self.sent.items())),
        }


class Throttle:
    """At most `rate` requests per second (0 = unthrottled)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if self.interval:
            now = time.monotonic()
            if now < self.next_at:
                time.sleep(self.next_at - now)
            self.next_at = max(now, self.next_at) + self.interval


def _check(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def drive(
    base_url: str,
    *,
    username: str,
    password: str,
    days: int,
    rate: float = 20.0,
    stalls: int = 20,
    shoppers: int = 40,
    seed: int = 1,
    client: httpx.Client | None = None,
) -> DriveReport:
    """Play `days` of the market against the service at `base_url` (admin credentials)."""
    rng = np.random.default_rng(seed)
    report = DriveReport()
    throttle = Throttle(rate)
    http = client or httpx.Client(base_url=base_url, timeout=30)

    def call(method: str, path: str, label: str, **kwargs: Any) -> httpx.Response:
        throttle.wait()
        response = http.request(method, path, **kwargs)
        report.record(label, response)
        return response

    token = _check(
        call(
            "POST",
            "/auth/token",
            "POST /auth/token",
            data={"username": username, "password": password},
        ),
        "login",
    )
    admin = {"Authorization": f"Bearer {token['access_token']}"}
    run_id = uuid.uuid4().hex[:6]
    market = _check(
        call(
            "POST",
            "/markets",
            "POST /markets",
            headers=admin,
            json={
                "code": f"mo-phong-{run_id}",
                "name": f"Chợ mô phỏng {run_id}",
                "district": "Văn Yên",
                "province": "Yên Bái",
            },
        ),
        "create market",
    )
    report.market_id = market["id"]
    payloads: list[str] = []
    for n in range(stalls):
        stall = _check(
            call(
                "POST",
                f"/markets/{market['id']}/stalls",
                "POST stall",
                headers=admin,
                json={"code": f"S-{n + 1}", "category": "vegetables"},
            ),
            "stall",
        )
        phone = f"09{int(rng.integers(10_000_000, 99_999_999))}"
        vendor = call(
            "POST",
            f"/markets/{market['id']}/vendors",
            "POST vendor",
            headers=admin,
            json={"full_name": f"Tiểu thương {n + 1}", "phone": phone},
        )
        if vendor.status_code == 409:  # a generated phone is taken: skip this stall
            continue
        vendor_id = _check(vendor, "vendor")["id"]
        _check(
            call(
                "POST",
                f"/stalls/{stall['id']}/assignments",
                "POST assignment",
                headers=admin,
                json={"vendor_id": vendor_id},
            ),
            "assignment",
        )
        account = f"8800{int(rng.integers(10**8, 10**9 - 1))}"
        _check(
            call(
                "POST",
                f"/vendors/{vendor_id}/payout-accounts",
                "POST payout account",
                headers=admin,
                json={"bin": "970405", "account_number": account},
            ),
            "account",
        )
        code = _check(
            call("GET", f"/stalls/{stall['id']}/code", "GET stall code", headers=admin), "code"
        )
        payloads.append(code["payload"])
    wallets: list[dict[str, str]] = []
    for n in range(shoppers):
        phone = f"03{int(rng.integers(20_000_000, 99_999_999))}"
        opened = call(
            "POST",
            "/wallets",
            "POST wallet",
            json={"phone": phone, "pin": "135790", "full_name": f"Người mua {n + 1}"},
        )
        if opened.status_code != 201:
            continue
        headers = {"Authorization": f"Bearer {opened.json()['access_token']}"}
        _check(
            call(
                "POST",
                "/wallets/me/top-ups",
                "POST top-up",
                headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
                json={"amount": 2_000_000},
            ),
            "top-up",
        )
        wallets.append(headers)
    if not payloads or not wallets:
        return report
    # how many QR payments a day: the model, scaled to this market
    params = Params().with_changes(n_shoppers=max(shoppers * 5, 50), n_vendors=len(payloads))
    curve = simulate(params, days, rng)[:, METRICS.index("qr_tx")]
    for day in range(1, days + 1):
        for _ in range(int(curve[day] * shoppers / params.n_shoppers) + 1):
            amount = int(rng.integers(5, 200)) * 1000
            response = call(
                "POST",
                "/wallets/me/payments",
                "POST payment",
                headers=wallets[int(rng.integers(len(wallets)))]
                | {"Idempotency-Key": uuid.uuid4().hex},
                json={"payload": payloads[int(rng.integers(len(payloads)))], "amount": amount},
            )
            if response.status_code == 201:
                report.payments += 1
                report.paid_total += amount
    if client is None:
        http.close()
    return report
