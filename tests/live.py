"""A real service for load, race and crash tests: a fresh database with a market, a stall and
shopper wallets, served by uvicorn in a child process on 127.0.0.1 that the test starts, kills
and restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from market.db import make_engine, upgrade
from market.money import ledger, wallets
from market.registry import boards, markets, payouts, stalls, vendors
from market.registry.access import SYSTEM
from market.registry.models import (
    AssignmentCreate,
    MarketCreate,
    PayoutAccountCreate,
    Role,
    StallCreate,
    User,
    VendorCreate,
)
from market.registry.users import issue_token
from market.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database(backend: str, tmp_path: Path, admin_url: str | None, name: str) -> str:
    """An empty, migrated database of its own."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/{name}.db"
    else:
        assert admin_url is not None
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    return url


def drop_database(admin_url: str, name: str) -> None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class Seeded:
    stall_payload: str
    stall_payloads: list[str]
    payout_account_id: int
    vendor_token: str
    admin_token: str
    shopper_tokens: list[str] = field(default_factory=list)
    shopper_phones: list[str] = field(default_factory=list)


def seed(
    url: str, *, shoppers: int, balance: int, password_hash: str, extra_stalls: int = 0
) -> Seeded:
    """A market with one paid stall (and `extra_stalls` more, each with its own vendor), its
    vendor, an admin, and `shoppers` wallets holding `balance` each (tokens valid for a day)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    settings = Settings(DATABASE_URL=url, token_ttl_minutes=24 * 60)
    with Session(engine, expire_on_commit=False) as s:
        market = markets.create_market(
            s, actor=SYSTEM, data=MarketCreate(code="mau-a", name="Chợ Mậu A")
        )
        stall = stalls.create_stall(
            s, actor=SYSTEM, market_id=market.id or 0, data=StallCreate(code="B-12")
        )
        vendor = vendors.create_vendor(
            s,
            actor=SYSTEM,
            market_id=market.id or 0,
            data=VendorCreate(full_name="Nguyễn Thị Hường", phone="0912345678"),
        )
        stalls.assign_vendor(
            s, actor=SYSTEM, stall_id=stall.id or 0, data=AssignmentCreate(vendor_id=vendor.id or 0)
        )
        account = payouts.add_account(
            s,
            actor=SYSTEM,
            vendor_id=vendor.id or 0,
            data=PayoutAccountCreate(bin="971005", account_number="0912345678"),
        )
        board = boards.live_board(s, stall.id or 0)
        assert board is not None
        vendor_user = User(
            username="vendor", password_hash=password_hash, role=Role.VENDOR, vendor_id=vendor.id
        )
        admin = User(username="admin", password_hash=password_hash, role=Role.ADMIN)
        s.add(vendor_user)
        s.add(admin)
        s.flush()
        others = []
        for n in range(extra_stalls):
            extra = stalls.create_stall(
                s, actor=SYSTEM, market_id=market.id or 0, data=StallCreate(code=f"C-{n + 1}")
            )
            seller = vendors.create_vendor(
                s,
                actor=SYSTEM,
                market_id=market.id or 0,
                data=VendorCreate(full_name=f"Tiểu thương {n}", phone=f"09880{n:05d}"),
            )
            stalls.assign_vendor(
                s,
                actor=SYSTEM,
                stall_id=extra.id or 0,
                data=AssignmentCreate(vendor_id=seller.id or 0),
            )
            payouts.add_account(
                s,
                actor=SYSTEM,
                vendor_id=seller.id or 0,
                data=PayoutAccountCreate(bin="970405", account_number=f"88001{n:08d}"),
            )
            extra_board = boards.live_board(s, extra.id or 0)
            assert extra_board is not None
            others.append(extra_board.payload)
        result = Seeded(
            stall_payload=board.payload,
            stall_payloads=[board.payload, *others],
            payout_account_id=account.id or 0,
            vendor_token=issue_token(s, user=vendor_user, settings=settings, now=now)[0],
            admin_token=issue_token(s, user=admin, settings=settings, now=now)[0],
        )
        for n in range(shoppers):
            phone = f"+8490{n:07d}"
            user = User(
                username=f"shopper{n}",
                password_hash=password_hash,
                role=Role.SHOPPER,
                phone=phone,
                full_name=f"Người mua {n}",
            )
            s.add(user)
            s.flush()
            if balance:
                wallets.top_up(
                    s, wallet=ledger.shopper_wallet(s, user.id or 0), amount=balance, now=now
                )
            else:
                ledger.shopper_wallet(s, user.id or 0)
            result.shopper_tokens.append(issue_token(s, user=user, settings=settings, now=now)[0])
            result.shopper_phones.append("0" + phone[3:])
        s.commit()
    engine.dispose()
    return result


class Server:
    """`cho serve` in a child process of its own session (so kill -9 takes its workers too)."""

    def __init__(
        self, url: str, log: Path, workers: int = 2, env: dict[str, str] | None = None
    ) -> None:
        self.url = url
        self.env = env or {}  # more settings (CHO_…) for this server
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "CHO_TOKEN_TTL_MINUTES": "1440",
            **self.env,
        }
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "api",
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(self.workers),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
            if self.process.poll() is not None:
                raise RuntimeError(self.log.read_text(errors="replace"))
        raise RuntimeError("server did not start")

    @property
    def pid(self) -> int:
        """The `cho serve` process (its workers are its children)."""
        assert self.process is not None, "the server was not started"
        return self.process.pid

    def kill(self) -> None:
        """kill -9 the server and its workers, mid-whatever."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
