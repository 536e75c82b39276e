"""Announcement latency (DESIGN.md §8): 1,000 vendors' live feeds open on one server while
shoppers pay 50 times a second; the time from a payment's HTTP response to its event arriving at
its vendor's feed, p50 and p99 (floor p99 ≤ 2 s, aim ≤ 1 s), and the server's CPU beside the
same server's CPU idle (no feeds) and with the feeds open but no payments, all in one run.

Each of the 1,000 vendors has its own stall, printed code, login and one open feed (its
soundbox); the load generator is one asyncio process (uvloop): the feeds are raw keep-alive
HTTP/1.1 connections reading Server-Sent Events, the payments go out on a fixed 20 ms beat, each
shopper paying a random vendor's code. An event is matched to its payment by transfer id; one
that arrives before the client has read the payment's response counts as 0 ms. CPU is read from
/proc/<pid>/stat for the server and its workers (utime + stime), as a share of one core.

    python bench/feed.py [--feeds 1000] [--rate 50] [--seconds 20] [--workers 2]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test | --sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvloop
from sqlmodel import Session, col, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from market.db import make_engine
from market.registry.models import Role, User, Vendor
from market.registry.users import hash_password, issue_token
from market.settings import Settings
from tests.live import Server, drop_database, fresh_database, seed

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class World:
    """The seeded market: per vendor its id, its stall's code and a vendor login's token."""

    vendor_ids: list[int]
    payloads: list[str]
    vendor_tokens: list[str]
    shopper_tokens: list[str]


def build_world(url: str, vendors: int, shoppers: int) -> World:
    """`vendors` stalls, each with its own vendor, code and vendor login; `shoppers` wallets."""
    password = hash_password("bench-pass")
    seeded = seed(
        url,
        shoppers=shoppers,
        balance=400_000_000,
        password_hash=password,
        extra_stalls=vendors - 1,
    )
    engine = make_engine(url)
    settings = Settings(DATABASE_URL=url, token_ttl_minutes=24 * 60)
    now = datetime.now(UTC)
    with Session(engine) as session:
        ids = [v for v in session.exec(select(Vendor.id).order_by(col(Vendor.id))) if v]
        tokens = [seeded.vendor_token]
        for vendor_id in ids[1:]:
            user = User(
                username=f"soundbox{vendor_id}",
                password_hash=password,
                role=Role.VENDOR,
                vendor_id=vendor_id,
            )
            session.add(user)
            session.flush()
            tokens.append(issue_token(session, user=user, settings=settings, now=now)[0])
        session.commit()
    engine.dispose()
    return World(ids, seeded.stall_payloads, tokens, seeded.shopper_tokens)


def server_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by `pid` and every process under it."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    total, stack = 0.0, [pid]
    while stack:
        current = stack.pop()
        total += times.get(current, 0.0)
        stack.extend(children.get(current, []))
    return total


async def cpu_share(pid: int, seconds: float) -> float:
    """The server's CPU over the next `seconds`, as a share of one core."""
    before, began = server_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return (server_cpu_seconds(pid) - before) / (time.monotonic() - began)


@dataclass
class Timings:
    """When each payment's response was read and when its event reached its vendor's feed."""

    answered: dict[int, float] = field(default_factory=dict)  # transfer id → response read
    arrived: dict[int, float] = field(default_factory=dict)  # transfer id → event read
    refused: int = 0


async def open_feed(
    host: str, port: int, vendor_id: int, token: str, timings: Timings, opened: asyncio.Event
) -> None:
    """One soundbox: a keep-alive connection reading the vendor's Server-Sent Events."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        (
            f"GET /vendors/{vendor_id}/events HTTP/1.1\r\nHost: bench\r\n"
            f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if head[9:12] != b"200":
        raise SystemExit(f"feed of vendor {vendor_id} refused: {head[:60]!r}")
    opened.set()
    try:
        while line := await reader.readline():
            # chunked transfer encoding: size lines and SSE lines; only `data:` lines matter
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                timings.arrived[int(event["data"]["transfer_id"])] = time.perf_counter()
    finally:
        writer.close()


async def pay_steadily(
    base: str, world: World, rate: float, seconds: float, timings: Timings
) -> int:
    """Pay `rate` times a second for `seconds` (each payment its own task on a fixed beat):
    a random shopper pays a random vendor's code. Returns how many were sent."""
    rng = random.Random(7)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:

        async def pay(shopper: int, stall: int) -> None:
            response = await client.post(
                "/wallets/me/payments",
                headers={
                    "Authorization": f"Bearer {world.shopper_tokens[shopper]}",
                    "Idempotency-Key": uuid.uuid4().hex,
                },
                json={"payload": world.payloads[stall], "amount": 1_000 + stall},
            )
            if response.status_code != 201:
                timings.refused += 1
                return
            timings.answered[int(response.json()["id"])] = time.perf_counter()

        tasks = []
        start, sent = time.perf_counter(), 0
        while (now := time.perf_counter()) - start < seconds:
            due = int((now - start) * rate) + 1
            while sent < due:
                shopper = rng.randrange(len(world.shopper_tokens))
                stall = rng.randrange(len(world.payloads))
                tasks.append(asyncio.create_task(pay(shopper, stall)))
                sent += 1
            await asyncio.sleep(0.5 / rate)
        await asyncio.gather(*tasks)
    return sent


def milliseconds(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def load_average() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


async def measure(server: Server, world: World, args: argparse.Namespace) -> None:
    assert server.process is not None
    pid = server.process.pid
    idle = await cpu_share(pid, args.quiet_seconds)
    print(f"  server CPU, idle, no feeds        {idle * 100:6.1f} % of a core   {load_average()}")
    url = httpx.URL(server.base)
    timings = Timings()
    feeds = []
    for index in range(args.feeds):
        opened = asyncio.Event()
        feeds.append(
            asyncio.create_task(
                open_feed(
                    url.host,
                    url.port or 80,
                    world.vendor_ids[index],
                    world.vendor_tokens[index],
                    timings,
                    opened,
                )
            )
        )
        await opened.wait()  # one at a time, so the kernel spreads them over the workers
    print(f"  {args.feeds} feeds open")
    still = await cpu_share(pid, args.quiet_seconds)
    print(f"  server CPU, {args.feeds} feeds, no payments {still * 100:6.1f} %   {load_average()}")
    before, began = server_cpu_seconds(pid), time.monotonic()
    sent = await pay_steadily(server.base, world, args.rate, args.seconds, timings)
    busy = (server_cpu_seconds(pid) - before) / (time.monotonic() - began)
    deadline = time.monotonic() + 10
    while set(timings.answered) - set(timings.arrived) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for feed in feeds:
        feed.cancel()
    latencies = [
        max(0.0, timings.arrived[t] - answered)
        for t, answered in timings.answered.items()
        if t in timings.arrived
    ]
    missing = len(set(timings.answered) - set(timings.arrived))
    print(
        f"  payments: {sent} sent over {args.seconds} s ({sent / args.seconds:.1f}/s),"
        f" {len(timings.answered)} paid, {timings.refused} refused"
    )
    print(
        f"  server CPU, {args.feeds} feeds, {args.rate:g} payments/s {busy * 100:6.1f} %"
        f"   {load_average()}"
    )
    p50, p99 = milliseconds(latencies, 0.5), milliseconds(latencies, 0.99)
    print(
        f"  payment response → event at its vendor's feed: p50 {p50:.1f} ms   p99 {p99:.1f} ms"
        f"   max {max(latencies) * 1000:.1f} ms   missing {missing}   (p99 floor 2 s, aim 1 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="payments per second")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--quiet-seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    workdir = Path(tempfile.mkdtemp(prefix="cho-feed-"))
    backend = "sqlite" if args.sqlite else "postgresql"
    name = f"cho_feed_{uuid.uuid4().hex[:6]}"
    url = fresh_database(backend, workdir, None if args.sqlite else args.pg, name)
    print(f"{backend}: {args.feeds} vendors' feeds, {args.workers} workers   {load_average()}")
    try:
        world = build_world(url, args.feeds, args.shoppers)
        server = Server(url, workdir / "server.log", workers=args.workers)
        server.start()
        try:
            uvloop.run(measure(server, world, args))
        finally:
            server.stop()
    finally:
        if not args.sqlite:
            drop_database(args.pg, name)


if __name__ == "__main__":
    main()
