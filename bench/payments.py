"""Pay-by-QR throughput through HTTP with full guarantees (DESIGN.md §8), as ratios measured in
one run on this machine:

1. PostgreSQL: pgbench's built-in TPC-B with 16 clients at scale 16 (scale ≥ clients, so each
   client updates its own branch row mostly; at scale 1 all 16 queue on one row and pgbench is
   artificially slow), in a database of its own, then 16 concurrent clients paying by QR
   through the service (2 uvicorn workers) on the same server for the same time. Floor 0.15,
   aim 0.30. Beside it, the same clients on GET /health (one `SELECT 1` in a transaction) on a
   database of the same server: the most requests per second this stack answers when each
   touches the database, so payments ÷ GET /health says how close a payment comes to that.
2. SQLite: the same payment load, divided by the cheapest JSON endpoint (GET /health, which
   also reads the database) of the same server with the same clients. Floor 0.20, aim 0.40.

The service runs as `compose.scale.yaml` runs its replicas, with its access log off (nginx
logs every request there); pgbench logs nothing either.

During each measured phase the bench reads the CPU time the service's processes and
PostgreSQL's used (/proc, Linux) and prints both per payment: what a payment costs the machine
on each side.

Client i is shopper i paying stall i's printed static code 1,000 ₫ (16 shoppers, 16 stalls of
one market), each request with a new Idempotency-Key. The load generator is a lean asyncio
HTTP/1.1 client, one keep-alive connection per client (what wrk or pgbench's C clients are),
so the two cores go to the service and the database rather than to the load. Each measured
phase follows 3 s of the same load (each worker builds its routes and statement caches on its
first requests), and each run ends with the ledger audit (no invariant may be violated).

    python bench/payments.py [--seconds 15] [--clients 16] [--instances] [--skip-sqlite]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

`--instances` adds payments/s for 1 and 2 service instances (one worker each, separate ports,
clients spread over them as a load balancer would) on one PostgreSQL database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from market.registry.users import hash_password
from tests.live import Seeded, Server, drop_database, fresh_database, seed


def pgbench_tps(admin_url: str, clients: int, seconds: int) -> tuple[float, float]:
    """TPS of pgbench's TPC-B at scale max(16, clients) (one branch row per client: the fair
    reference) on a database of its own on the same server, and PostgreSQL's CPU milliseconds
    per transaction."""
    url = make_url(admin_url)
    binary = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None
    )
    if binary is None:
        raise SystemExit("pgbench not found (Debian postgresql-client / postgresql packages)")
    name = "bench_pgbench"
    scale = max(16, clients)
    drop_database(admin_url, name)
    fresh = url.set(database="postgres")
    subprocess.run(
        [
            "psql",
            "-h",
            url.host or "127.0.0.1",
            "-U",
            url.username or "postgres",
            "-d",
            fresh.database or "postgres",
            "-qc",
            f'CREATE DATABASE "{name}"',
        ],
        check=True,
    )
    common = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    subprocess.run(
        [str(binary), "-i", "-q", "-s", str(scale), *common, name], check=True, capture_output=True
    )
    before = cpu_seconds(postgres_pids())
    out = subprocess.run(
        [str(binary), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), *common, name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    database_cpu = cpu_seconds(postgres_pids()) - before
    drop_database(admin_url, name)
    match = re.search(r"tps = ([0-9.]+)", out)
    assert match, out
    tps = float(match.group(1))
    return tps, database_cpu / (tps * seconds) * 1000


# Connections open 20 ms apart so the kernel spreads them over the workers: opened at once, the
# first worker to wake accepts them all and the other idles.
STAGGER = 0.02
Request = Callable[[int], bytes]  # client index → one HTTP/1.1 request, ready to send


def load(
    bases: list[str], clients: int, seconds: float, request: Request
) -> tuple[float, list[float], int]:
    """Keep `clients` keep-alive connections busy with `request` for `seconds`, client i on
    `bases[i % len(bases)]` (instances behind a round-robin balancer): (requests per second,
    latencies, error answers). A lean asyncio client (one coroutine per connection, like wrk or
    pgbench's C clients) so the machine's CPU goes to the service, not to the load."""
    targets = [(httpx.URL(base).host, httpx.URL(base).port or 80) for base in bases]
    return uvloop.run(_load(targets, clients, seconds, request))


async def _load(
    targets: list[tuple[str, int]], clients: int, seconds: float, request: Request
) -> tuple[float, list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds

    async def client(index: int) -> None:
        nonlocal errors
        await asyncio.sleep(index * STAGGER)
        reader, writer = await asyncio.open_connection(*targets[index % len(targets)])
        try:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                writer.write(request(index))
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                latencies.append(time.perf_counter() - start)
                errors += status >= 400
        finally:
            writer.close()

    begin = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(clients)))
    return len(latencies) / (time.monotonic() - begin), latencies, errors


def http_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def pay(world: Seeded) -> Request:
    """Shopper `index` pays stall `index` (mod the stalls) 1,000 ₫ by its static code, each
    request under a new Idempotency-Key."""
    bodies = [
        json.dumps({"payload": payload, "amount": 1000}).encode()
        for payload in world.stall_payloads
    ]
    tokens = world.shopper_tokens

    def request(index: int) -> bytes:
        return http_request(
            "POST",
            "/wallets/me/payments",
            {
                "Authorization": f"Bearer {tokens[index % len(tokens)]}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "application/json",
            },
            bodies[index % len(bodies)],
        )

    return request


def health(_index: int) -> bytes:
    return HEALTH


HEALTH = http_request("GET", "/health", {})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def load_average() -> str:
    """The 1-minute load average now (the machine is shared: read figures beside it)."""
    return f"load {os.getloadavg()[0]:.2f}"


def report(label: str, rate: float, latencies: list[float], errors: int) -> None:
    print(
        f"  {label:<34} {rate:8.1f}/s   p50 {statistics.median(latencies) * 1000:6.1f} ms"
        f"   p99 {percentile(latencies, 0.99):7.1f} ms   errors {errors}   {load_average()}"
    )


# The service runs as compose.scale.yaml runs its replicas: nginx logs every request, so the
# service's own access log is off (on, it costs the service about a fifth of its CPU per payment)
SERVICE_ENV = {"CHO_ACCESS_LOG": "false"}
WARM_UP = 3  # seconds of the same load first, unmeasured: each worker builds its routes and
# fills its statement caches and connection pool on its first requests


@dataclass(frozen=True)
class Shape:
    """How the service runs: `instances` processes on their own ports (as behind a load
    balancer), each with `workers` uvicorn workers, on one database."""

    instances: int
    workers: int

    @property
    def label(self) -> str:
        return f"{self.instances} instance(s) × {self.workers} worker(s)"


def run_service(
    backend: str, url: str, workdir: Path, clients: int, seconds: float, shape: Shape
) -> float:
    """Seed `url`, serve it as `shape`, measure paying by QR (after a warm-up) and audit."""
    world = seed(
        url,
        shoppers=clients,
        balance=400_000_000,
        password_hash=hash_password("bench-pass"),
        extra_stalls=clients - 1,
    )
    servers = [
        Server(url, workdir / f"{backend}-{n}.log", workers=shape.workers, env=SERVICE_ENV)
        for n in range(shape.instances)
    ]
    try:
        for server in servers:
            server.start()
        bases = [server.base for server in servers]
        load(bases, clients, WARM_UP, pay(world))
        service = [pid for server in servers for pid in process_tree(server.pid)]
        before = CpuSplit.read(service, backend)
        rate, lat, err = load(bases, clients, seconds, pay(world))
        report(f"pay by QR, {shape.label}", rate, lat, err)
        before.report(CpuSplit.read(service, backend), rate * seconds)
        audit(servers[-1].base, world)
    finally:
        for server in servers:
            server.stop()
    return rate


@dataclass(frozen=True)
class CpuSplit:
    """CPU seconds used so far by the service's processes and by PostgreSQL's (every process
    named postgres on this machine; none on SQLite), read from /proc (Linux)."""

    service: float
    database: float

    @classmethod
    def read(cls, service_pids: list[int], backend: str) -> CpuSplit:
        database = postgres_pids() if backend == "postgresql" else []
        return cls(cpu_seconds(service_pids), cpu_seconds(database))

    def report(self, after: CpuSplit, payments: float) -> None:
        per = {
            "service": (after.service - self.service) / payments * 1000,
            "PostgreSQL": (after.database - self.database) / payments * 1000,
        }
        print("  CPU per payment: " + ", ".join(f"{k} {v:.2f} ms" for k, v in per.items() if v))


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU seconds of these processes, with their children that have exited
    (a PostgreSQL backend's time passes to the postmaster when its client disconnects)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(field) for field in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (uvicorn's supervisor and its workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(") ", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += parents.get(pid, [])
    return tree


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def audit(base: str, world: Seeded) -> None:
    violations = httpx.get(
        f"{base}/ledger/audit",
        headers={"Authorization": f"Bearer {world.admin_token}"},
        timeout=120,
    ).json()
    print(f"  ledger audit after the run: {len(violations)} violations")
    if violations:
        raise SystemExit(violations)


def health_rate(url: str, workdir: Path, clients: int, seconds: float) -> float:
    """GET /health per second of a 2-worker server on `url` (the SQLite reference; on
    PostgreSQL, the stack's ceiling)."""
    server = Server(url, workdir / "health.log", workers=2, env=SERVICE_ENV)
    server.start()
    try:
        load([server.base], clients, WARM_UP, health)
        rate, lat, err = load([server.base], clients, seconds, health)
        report("GET /health (reference)", rate, lat, err)
    finally:
        server.stop()
    return rate


def on_postgresql(admin_url: str, workdir: Path, clients: int, seconds: int, shape: Shape) -> float:
    """Payments/s of `shape` on a fresh PostgreSQL database, dropped afterwards."""
    return on_fresh_database(
        admin_url,
        workdir,
        lambda url: run_service("postgresql", url, workdir, clients, seconds, shape),
    )


def on_fresh_database(admin_url: str, workdir: Path, measure: Callable[[str], float]) -> float:
    """`measure` on a fresh, migrated PostgreSQL database, dropped afterwards."""
    name = f"cho_bench_{uuid.uuid4().hex[:6]}"
    url = fresh_database("postgresql", workdir, admin_url, name)
    try:
        return measure(url)
    finally:
        drop_database(admin_url, name)


def postgresql(args: argparse.Namespace, workdir: Path) -> None:
    print("PostgreSQL")
    tps, database_ms = pgbench_tps(args.pg, args.clients, args.seconds)
    print(
        f"  pgbench TPC-B, scale {max(16, args.clients)}, {args.clients} clients"
        f" (reference) {tps:8.1f} tps   {load_average()}"
    )
    print(f"  CPU per pgbench transaction: PostgreSQL {database_ms:.2f} ms")
    rate = on_postgresql(args.pg, workdir, args.clients, args.seconds, Shape(1, 2))
    ceiling = on_fresh_database(
        args.pg, workdir, lambda url: health_rate(url, workdir, args.clients, args.seconds)
    )
    print(f"  ratio payments/s ÷ pgbench tps: {rate / tps:.2f}   (floor 0.15, aim 0.30)")
    print(
        f"  ratio GET /health ÷ pgbench tps: {ceiling / tps:.2f}"
        f"   payments/s ÷ GET /health/s: {rate / ceiling:.2f}"
    )
    if args.instances:
        one = on_postgresql(args.pg, workdir, args.clients, args.seconds, Shape(1, 1))
        two = on_postgresql(args.pg, workdir, args.clients, args.seconds, Shape(2, 1))
        print(f"  2 instances ÷ 1 instance (one worker each, one database): {two / one:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--instances", action="store_true", help="also 1 and 2 instances of one worker each"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cho-bench-"))
    if not args.skip_pg:
        postgresql(args, workdir)
    if not args.skip_sqlite:
        print("SQLite")
        url = fresh_database("sqlite", workdir, None, "bench")
        reference = health_rate(url, workdir, args.clients, args.seconds)
        rate = run_service("sqlite", url, workdir, args.clients, args.seconds, Shape(1, 2))
        ratio = rate / reference
        print(f"  ratio payments/s ÷ GET /health/s: {ratio:.2f}   (floor 0.20, aim 0.40)")


if __name__ == "__main__":
    main()
