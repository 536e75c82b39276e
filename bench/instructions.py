"""Instructions the service's Python runs per payment, counted by valgrind (callgrind), which
does not depend on how fast or how loaded the machine is, beside the same count for the
cheapest request (`GET /health`) as the reference measured in the same run.

Each count drives the app in-process through ASGI (no uvicorn, no HTTP, no client) on a fresh
PostgreSQL database: a child process under `valgrind --tool=callgrind` makes 5 requests to warm
up and then N more; the count per request is the difference between N=45 and N=5 divided by
40, so start-up and warm-up cancel out. PostgreSQL's own work is in other processes and is not
counted. Takes about five minutes (Python under valgrind is slow).

    python bench/instructions.py [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.app import create_app
from market.db import make_engine
from market.registry.users import hash_password
from market.settings import Settings
from tests.live import drop_database, fresh_database, seed

WARM_UP = 5
FEW, MANY = 5, 45


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)  # URL KIND N TOKEN PAYLOAD
    args = parser.parse_args()
    if args.child:
        url, kind, count, token, payload = args.child
        asyncio.run(_requests(url, kind, int(count), token, payload))
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found (Debian package valgrind)")
    name = f"cho_bench_{uuid.uuid4().hex[:6]}"
    url = fresh_database("postgresql", Path(tempfile.mkdtemp()), args.pg, name)
    try:
        world = seed(url, shoppers=1, balance=400_000_000, password_hash=hash_password("bench"))
        jobs = [(kind, n) for kind in ("health", "pay") for n in (FEW, MANY)]
        token, payload = world.shopper_tokens[0], world.stall_payload

        def count(job: tuple[str, int]) -> int:
            return _instructions(url, token, payload, *job)

        with ThreadPoolExecutor(2) as pool:  # the two cores each count one child at a time
            counts = dict(zip(jobs, pool.map(count, jobs), strict=True))
    finally:
        drop_database(args.pg, name)
    per = {kind: (counts[kind, MANY] - counts[kind, FEW]) / (MANY - FEW) for kind, _ in jobs}
    print(f"  GET /health (reference)   {per['health'] / 1e6:6.2f} M instructions a request")
    print(f"  pay by QR                 {per['pay'] / 1e6:6.2f} M instructions a payment")
    print(f"  ratio payment ÷ GET /health: {per['pay'] / per['health']:.1f}")


def _instructions(url: str, token: str, payload: str, kind: str, count: int) -> int:
    """Instructions a child making `count` requests of `kind` (after the warm-up) ran."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            url,
            kind,
            str(count),
            token,
            payload,
        ],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"PYTHONHASHSEED": "0"},  # the same string hashes, run after run
    )
    match = re.search(r"Collected : (\d+)", done.stderr)
    assert match, done.stderr[-2000:]
    return int(match.group(1))


async def _requests(url: str, kind: str, count: int, token: str, payload: str) -> None:
    """Make WARM_UP + `count` requests of `kind` to the app on `url`, one after another: the
    shopper holding `token` pays the code `payload` 1,000 ₫ under a new key each time."""
    engine = make_engine(url)
    app = create_app(Settings(database_url=url, webhook_worker=False), engine=engine)
    async with app.router.lifespan_context(app):
        for _ in range(WARM_UP + count):
            if kind == "health":
                status = await _call(app, "GET", "/health", [], b"")
                assert status == 200
            else:
                body = json.dumps({"payload": payload, "amount": 1000}).encode()
                headers = [
                    (b"authorization", b"Bearer " + token.encode()),
                    (b"idempotency-key", uuid.uuid4().hex.encode()),
                    (b"content-type", b"application/json"),
                ]
                status = await _call(app, "POST", "/wallets/me/payments", headers, body)
                assert status == 201
    engine.dispose()


async def _call(app: Any, method: str, path: str, headers: list[Any], body: bytes) -> int:
    """One request through the app's ASGI interface; its status."""
    sent: list[dict[str, Any]] = []
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the app never reads past the body
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench"), (b"content-length", str(len(body)).encode()), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


if __name__ == "__main__":
    main()
