"""Pay-by-QR throughput through HTTP with full guarantees (DESIGN.md §8), as ratios measured in
one run on this machine:

1. PostgreSQL: pgbench's built-in TPC-B with 16 clients, then 16 concurrent clients paying a
   stall by QR through the service (2 uvicorn workers) on the same server for the same time.
   Floor 0.15, aim 0.35.
2. SQLite: the same payment load, divided by the cheapest JSON endpoint (GET /health) of the same
   server with the same clients. Floor 0.20, aim 0.40.

Each run ends with the ledger audit (no invariant may be violated).

    python bench/payments.py [--seconds 15] [--clients 16] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from market.users import hash_password
from tests.live import Seeded, Server, drop_database, fresh_database, seed


def pgbench_tps(admin_url: str, clients: int, seconds: int) -> float:
    """TPS of pgbench's TPC-B (scale 1) on a database of its own on the same server."""
    url = make_url(admin_url)
    binary = shutil.which("pgbench") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))), None
    )
    if binary is None:
        raise SystemExit("pgbench not found (Debian postgresql-client / postgresql packages)")
    name = "cho_pgbench"
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
        [str(binary), "-i", "-q", "-s", "1", *common, name], check=True, capture_output=True
    )
    out = subprocess.run(
        [str(binary), "-n", "-c", str(clients), "-j", "2", "-T", str(seconds), *common, name],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    drop_database(admin_url, name)
    match = re.search(r"tps = ([0-9.]+)", out)
    assert match, out
    return float(match.group(1))


Request = Callable[[httpx.Client, int], int]


def load(
    base: str, clients: int, seconds: float, request: Request
) -> tuple[float, list[float], int]:
    """Run `request` from `clients` threads for `seconds`: (per second, latencies, errors)."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < stop_at:
                start = time.perf_counter()
                status = request(client, index)
                mine.append(time.perf_counter() - start)
                if status >= 400:
                    bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    begin = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - begin
    return len(latencies) / elapsed, latencies, errors


def pay(world: Seeded) -> Callable[[httpx.Client, int], int]:
    def request(client: httpx.Client, index: int) -> int:
        token = world.shopper_tokens[index % len(world.shopper_tokens)]
        return client.post(
            "/wallets/me/payments",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            json={"payload": world.stall_payload, "amount": 1000},
        ).status_code

    return request


def health(client: httpx.Client, _index: int) -> int:
    return client.get("/health").status_code


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def report(label: str, rate: float, latencies: list[float], errors: int) -> None:
    print(
        f"  {label:<34} {rate:8.1f}/s   p50 {statistics.median(latencies) * 1000:6.1f} ms"
        f"   p99 {percentile(latencies, 0.99):7.1f} ms   errors {errors}"
    )


def run_service(
    backend: str, url: str, workdir: Path, clients: int, seconds: float, with_health: bool
) -> tuple[float, float | None]:
    world = seed(
        url, shoppers=clients, balance=400_000_000, password_hash=hash_password("bench-pass")
    )
    server = Server(url, workdir / f"{backend}.log", workers=2)
    server.start()
    try:
        reference = None
        if with_health:
            reference, lat, err = load(server.base, clients, seconds, health)
            report("GET /health (reference)", reference, lat, err)
        rate, lat, err = load(server.base, clients, seconds, pay(world))
        report(f"pay by QR ({backend})", rate, lat, err)
        violations = httpx.get(
            f"{server.base}/ledger/audit",
            headers={"Authorization": f"Bearer {world.admin_token}"},
            timeout=120,
        ).json()
        print(f"  ledger audit after the run: {len(violations)} violations")
        if violations:
            raise SystemExit(violations)
    finally:
        server.stop()
    return rate, reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-pg", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cho-bench-"))
    if not args.skip_pg:
        print("PostgreSQL")
        tps = pgbench_tps(args.pg, args.clients, args.seconds)
        print(f"  pgbench TPC-B, {args.clients} clients (reference) {tps:8.1f} tps")
        name = f"cho_bench_{uuid.uuid4().hex[:6]}"
        url = fresh_database("postgresql", workdir, args.pg, name)
        try:
            rate, _ = run_service("postgresql", url, workdir, args.clients, args.seconds, False)
        finally:
            drop_database(args.pg, name)
        print(f"  ratio payments/s ÷ pgbench tps: {rate / tps:.2f}   (floor 0.15, aim 0.35)")
    print("SQLite")
    url = fresh_database("sqlite", workdir, None, "bench")
    rate, reference = run_service("sqlite", url, workdir, args.clients, args.seconds, True)
    assert reference is not None
    print(f"  ratio payments/s ÷ GET /health/s: {rate / reference:.2f}   (floor 0.20, aim 0.40)")


if __name__ == "__main__":
    main()
