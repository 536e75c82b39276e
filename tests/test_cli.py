"""The `cho` command as a newcomer uses it: `cho demo` serves the Mậu A market over real HTTP,
a manager's journey works end to end, and the import/export/users/db commands do their jobs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import make_url

from market.db import make_engine

# whole command-line journeys against a real server: the slow loop
pytestmark = pytest.mark.slow

CHO = [sys.executable, "-m", "api"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(
    args: list[str], env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHO, *args], env=env, capture_output=True, text=True, timeout=120, check=False, cwd=cwd
    )


@pytest.fixture
def cli_database(backend: str, tmp_path: Path, database_urls: dict[str, str]) -> Iterator[str]:
    """An empty database (not migrated) for the CLI to build itself."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/cli.db"
        return
    if "postgresql" not in database_urls:
        if os.environ.get("CHO_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL required")
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    admin_url = os.environ["TEST_DATABASE_URL"]
    name = f"cho_cli_{os.getpid()}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def demo_server(cli_database: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": cli_database}
    log = (tmp_path / "demo.log").open("w")
    process = subprocess.Popen(
        [*CHO, "demo", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
            assert process.poll() is None, (tmp_path / "demo.log").read_text()
        else:
            pytest.fail("demo server did not start")
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    output = (tmp_path / "demo.log").read_text()
    assert "quanly.maua" in output
    assert "cho40-demo" in output
    # every user's page, and the wallet's phone and 6-digit PIN, each on a line of its own
    for printed in ("/login  quanly.maua", "/v  tieuthuong.b12", "/plan  kehoach.vanyen"):
        assert printed in output
    assert "/w/login  phone 0901234567, PIN 246810" in output


def _token(base: str, username: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/auth/token", data={"username": username, "password": "cho40-demo"}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_demo_manager_journey(demo_server: str) -> None:
    base = demo_server
    wallet = httpx.post(f"{base}/wallets/token", json={"phone": "0901234567", "pin": "246810"})
    assert wallet.status_code == 200, wallet.text  # the demo wallet opens with its printed PIN
    manager = _token(base, "quanly.maua")
    market = httpx.get(f"{base}/markets", headers=manager).json()["items"][0]
    assert market["code"] == "mau-a"
    stats = httpx.get(f"{base}/markets/{market['id']}/stats", headers=manager).json()
    assert 300 <= stats["stalls"] <= 400
    assert len(stats["by_zone"]) >= 4

    stall = httpx.post(
        f"{base}/markets/{market['id']}/stalls",
        headers=manager,
        json={"code": "g 1", "category": "flowers", "monthly_fee": 150000},
    )
    assert stall.status_code == 201, stall.text
    vendor = httpx.post(
        f"{base}/markets/{market['id']}/vendors",
        headers=manager,
        json={"full_name": "Triệu Thị Xuân Hường", "phone": "0868 123 999"},
    )
    assert vendor.status_code == 201, vendor.text
    vendor_id = vendor.json()["id"]
    assert (
        httpx.post(
            f"{base}/stalls/{stall.json()['id']}/assignments",
            headers=manager,
            json={"vendor_id": vendor_id},
        ).status_code
        == 201
    )
    account = httpx.post(
        f"{base}/vendors/{vendor_id}/payout-accounts",
        headers=manager,
        json={"bin": "971005", "account_number": "0868123999"},
    )
    assert account.status_code == 201
    assert account.json()["holder_name"] == "TRIEU THI XUAN HUONG"

    found = httpx.get(
        f"{base}/vendors", headers=manager, params={"q": "trieu thi xuan huong"}
    ).json()["items"]
    assert [v["id"] for v in found] == [vendor_id]
    log = httpx.get(
        f"{base}/audit", headers=manager, params={"entity": "vendor", "entity_id": vendor_id}
    ).json()
    assert log["items"][0]["actor"] == "quanly.maua"

    seller = _token(base, "tieuthuong.b12")
    own = httpx.get(f"{base}/vendors", headers=seller).json()["items"]
    assert [v["full_name"] for v in own] == ["Nguyễn Thị Hường"]
    assert httpx.get(f"{base}/vendors/{vendor_id}", headers=seller).status_code == 404
    assert (
        httpx.get(f"{base}/vendors/{vendor_id}/payout-accounts", headers=seller).status_code == 404
    )


def test_import_export_users_and_upgrade_commands(cli_database: str, tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": cli_database}
    demo = _run(["demo", "--no-serve"], env, cwd=tmp_path)
    assert demo.returncode == 0, demo.stderr
    again = _run(["demo", "--no-serve"], env, cwd=tmp_path)  # loading twice changes nothing
    assert again.returncode == 0
    assert "đã có" in again.stdout
    assert _run(["db", "upgrade"], env).returncode == 0

    xlsx = tmp_path / "mau-a.xlsx"
    exported = _run(["export", "--market", "mau-a", "-o", str(xlsx)], env)
    assert exported.returncode == 0, exported.stderr
    rows = list(load_workbook(xlsx).worksheets[0].iter_rows(values_only=True))
    assert len(rows) == 351
    csv_path = tmp_path / "mau-a.csv"
    assert _run(["export", "--market", "mau-a", "-o", str(csv_path)], env).returncode == 0
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")

    reimport = _run(["import", str(xlsx), "--market", "mau-a", "--commit"], env)
    assert reimport.returncode == 0, reimport.stderr
    assert "350 dòng không đổi" in reimport.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "Mã ki-ốt,Họ tên tiểu thương,Số điện thoại\nZ-1,Lò Văn Páo,0212345678\n", encoding="utf-8"
    )
    refused = _run(["import", str(bad), "--market", "mau-a", "--commit"], env)
    assert refused.returncode == 1
    assert "Dòng 2, cột 'Số điện thoại'" in refused.stderr

    added = _run(
        [
            "users",
            "add",
            "ql.moi",
            "--role",
            "manager",
            "--market",
            "mau-a",
            "--password",
            "mat-khau-dai",
        ],
        env,
    )
    assert added.returncode == 0, added.stderr
    duplicate = _run(
        ["users", "add", "ql.moi", "--role", "planner", "--password", "mat-khau-dai"], env
    )
    assert duplicate.returncode == 1
    assert "duplicate" in duplicate.stderr
