"""Planners run the simulator through the API as background jobs."""

from __future__ import annotations

import csv
import io
import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from market.settings import Settings
from planner.worker import Worker
from tests.conftest import World


def _wait(
    client: TestClient, world: World, job_id: int, engine: Engine, settings: Settings
) -> dict[str, Any]:
    """Run the queued jobs as `cho worker --once` would, then read the job."""
    Worker(engine, settings).run_forever(threading.Event(), once=True)
    job: dict[str, Any] = client.get(
        f"/simulations/{job_id}", headers=world.headers("planner")
    ).json()
    return job


def test_planner_runs_a_simulation_and_downloads_the_outputs(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    h = world.headers("planner")
    started = client.post(
        "/simulations",
        headers=h,
        json={
            "scenario": "double_teams",
            "params": {"n_shoppers": 400, "n_vendors": 40, "members": 300},
            "runs": 3,
            "days": 30,
            "seed": 4,
        },
    )
    assert started.status_code == 202, started.text
    job = _wait(client, world, started.json()["id"], engine, settings)
    assert (job["status"], job["runs_done"], job["runs_total"]) == ("done", 3, 3)
    rows = list(
        csv.reader(
            io.StringIO(client.get(f"/simulations/{job['id']}/files/runs.csv", headers=h).text)
        )
    )
    assert rows[0] == ["scenario", "run", "day", "metric", "value"]
    assert {row[0] for row in rows[1:]} == {"double_teams"}
    summary = client.get(f"/simulations/{job['id']}/files/summary.json", headers=h).json()
    assert summary["seed"] == 4
    assert "qr_tx_share" in summary["scenarios"]["double_teams"]["headline"]
    # the override wins over the scenario's own members (issue 9, defect 17)
    assert summary["scenarios"]["double_teams"]["parameters"]["members"] == 300
    report = client.get(f"/simulations/{job['id']}/files/bao-cao.pdf", headers=h)
    assert report.headers["content-type"] == "application/pdf"
    chart = client.get(f"/simulations/{job['id']}/files/qr_tx_share.png", headers=h)
    assert chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG")
    assert next(j["id"] for j in client.get("/simulations", headers=h).json()) == job["id"]


def test_bad_simulation_requests_are_refused(client: TestClient, world: World) -> None:
    h = world.headers("planner")
    for body, field in [
        ({"scenario": "nope"}, "scenario"),
        ({"params": {"colour": 1}}, "params.colour"),
        ({"params": {"smartphone_share": 2}}, "params.smartphone_share"),
        ({"scenario": "double_teams", "params": {"members": -5}}, "params.members"),
        ({"params": {"n_shoppers": 10**9}}, "params.n_shoppers"),
        ({"runs": 0}, "runs"),
        ({"runs": 200, "days": 1095, "params": {"n_shoppers": 200_000}}, "runs"),
    ]:
        response = client.post("/simulations", headers=h, json=body)
        assert response.status_code == 422, body
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert field in errors, response.json()
        if field.startswith("params."):  # Vietnamese first, then English in brackets
            assert errors[field].index("(") > 0, errors[field]
    forbidden = client.post("/simulations", headers=world.headers("manager"), json={})
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == (
        "Tài khoản của bạn không có quyền làm việc này (role manager not allowed here)."
    )  # no role code in the Vietnamese


@pytest.mark.slow
def test_drive_mode_fills_a_running_service(
    live_url: str, tmp_path: Any, password_hash: str
) -> None:
    import subprocess
    import sys

    import httpx

    from tests.conftest import PASSWORD
    from tests.live import Server, seed

    world = seed(live_url, shoppers=0, balance=0, password_hash=password_hash)
    server = Server(live_url, tmp_path / "server.log", workers=1)
    server.start()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "api",
                "simulate",
                "drive",
                "--base-url",
                server.base,
                "--days",
                "20",
                "--rate",
                "0",
                "--stalls",
                "4",
                "--shoppers",
                "6",
                "--seed",
                "3",
                "--password",
                PASSWORD,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr + result.stdout
        assert "POST payment 201" in result.stdout
        audit = httpx.get(
            f"{server.base}/ledger/audit", headers={"Authorization": f"Bearer {world.admin_token}"}
        ).json()
        assert audit == []
        markets = httpx.get(
            f"{server.base}/markets",
            params={"q": "mo phong"},
            headers={"Authorization": f"Bearer {world.admin_token}"},
        ).json()["items"]
        assert len(markets) == 1
        # the driven payments come back as observed points that calibration reads
        from datetime import timedelta

        from market.clock import local_today
        from simulator.calibrate import read_observed

        today = local_today()
        exported = subprocess.run(
            [
                sys.executable, "-m", "api", "simulate", "observed", "--base-url", server.base,
                "--market-id", str(markets[0]["id"]), "--start",
                (today - timedelta(days=13)).isoformat(), "--end",
                (today + timedelta(days=1)).isoformat(), "--password", PASSWORD,
                "--out", str(tmp_path / "observed.csv"),
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert exported.returncode == 0, exported.stderr
        points = read_observed(tmp_path / "observed.csv")
        assert sum(p.value for p in points if p.metric == "qr_tx") > 0
        assert max(p.value for p in points if p.metric == "vendors_accepting") >= 1
        wrong = subprocess.run(
            [
                sys.executable,
                "-m",
                "api",
                "simulate",
                "drive",
                "--base-url",
                server.base,
                "--password",
                "wrong-password",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert wrong.returncode == 1
    finally:
        server.stop()


def test_observed_points_count_boards_payments_and_wallets_by_date(
    client: TestClient, world: World, clock: Any, engine: Any
) -> None:
    from datetime import timedelta

    from sqlmodel import Session, select

    from market.clock import business_day
    from market.money.models import LedgerAccount
    from market.registry.models import Board

    with Session(engine) as session:  # seeded at the real time: move them to the test's clock
        for board in session.exec(select(Board)):
            board.printed_at = clock() - timedelta(days=30)
            session.add(board)
        for account in session.exec(select(LedgerAccount)):
            account.created_at = clock() - timedelta(days=1)
            session.add(account)
        session.commit()
    today = business_day(clock())
    start = today - timedelta(days=6)  # the first week ends today, when stall A was paid
    params = {"market_id": world.market_a, "start": start.isoformat(),
              "end": (today + timedelta(days=14)).isoformat()}  # fmt: skip
    response = client.get("/simulations/observed", headers=world.headers("planner"), params=params)
    assert response.status_code == 200, response.text
    rows = {(r["day"], r["metric"]): r for r in response.json()}
    assert rows[(6, "vendors_active")]["value"] == 1  # vendor A was paid this week
    assert rows[(13, "vendors_active")]["value"] == 0  # and not the next
    assert rows[(6, "vendors_accepting")]["value"] >= 1  # stall A's live board
    assert rows[(6, "new_wallets")]["window"] == 7
    assert rows[(6, "new_wallets")]["value"] >= 1
    monthly = [r for r in response.json() if r["metric"] == "qr_value"]
    assert sum(r["value"] for r in monthly) == 100_000
    assert sum(r["value"] for r in response.json() if r["metric"] == "qr_tx") == 1
    assert {r["date"] for r in response.json() if r["day"] == 6} == {today.isoformat()}
    other = client.get(
        "/simulations/observed", headers=world.headers("admin"),
        params=params | {"market_id": world.market_b},
    ).json()  # fmt: skip
    assert sum(r["value"] for r in other if r["metric"] == "qr_tx") == 0
    backwards = client.get(
        "/simulations/observed", headers=world.headers("planner"),
        params=params | {"end": (start - timedelta(days=1)).isoformat()},
    )  # fmt: skip
    assert backwards.status_code == 422
    assert [e["field"] for e in backwards.json()["errors"]] == ["end"]
