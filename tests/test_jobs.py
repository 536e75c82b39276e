"""Durable planner jobs on SQLite and PostgreSQL: a job is a row that stays queued until a
worker claims it; the worker writes progress, outputs and a manifest whose digests match the
files; comparisons and sweeps; the planner's quota; cancellation through the row; a lapsed
lease hands the job to another worker; SKIP LOCKED on PostgreSQL; bad requests change nothing."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from market.jobs import MAX_ATTEMPTS, SimulationJob, claim, finish, renew
from market.settings import Settings
from planner.worker import Worker
from tests.conftest import FrozenClock, World

SMALL = {"params": {"n_shoppers": 300, "n_vendors": 30}, "runs": 3, "days": 40, "seed": 7}
LEASE = timedelta(seconds=30)


def _work(engine: Engine, settings: Settings) -> int:
    """Run every queued job in this process, as `cho worker --once` would."""
    return Worker(engine, settings).run_forever(threading.Event(), once=True)


def _job(client: TestClient, world: World, job_id: int) -> dict[str, Any]:
    response = client.get(f"/simulations/{job_id}", headers=world.headers("planner"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _start(client: TestClient, world: World, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/simulations", headers=world.headers("planner"), json=body)
    assert response.status_code == 202, response.text
    started: dict[str, Any] = response.json()
    return started


@pytest.mark.slow  # runs simulations in a worker
def test_a_job_waits_for_a_worker_then_runs_with_a_manifest(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    h = world.headers("planner")
    job = _start(client, world, {"scenario": "double_teams", **SMALL})
    assert (job["status"], job["kind"], job["runs_total"]) == ("queued", "run", 3)
    assert _job(client, world, job["id"])["status"] == "queued"  # no thread in the web server
    assert _work(engine, settings) == 1
    done = _job(client, world, job["id"])
    assert (done["status"], done["runs_done"], done["attempts"]) == ("done", 3, 1)
    csv_bytes = client.get(f"/simulations/{job['id']}/files/runs.csv", headers=h).content
    manifest = client.get(f"/simulations/{job['id']}/files/manifest.json", headers=h).json()
    assert manifest["files"]["runs.csv"] == hashlib.sha256(csv_bytes).hexdigest()
    assert manifest["seed"] == 7
    assert manifest["libraries"]["numpy"]
    listing = "".join(f"{d}  {n}\n" for n, d in sorted(manifest["files"].items()))
    assert manifest["digest"] == hashlib.sha256(listing.encode()).hexdigest()
    parquet = client.get(f"/simulations/{job['id']}/files/runs.parquet", headers=h)
    assert parquet.content.startswith(b"PAR1")
    bands = client.get(f"/simulations/{job['id']}/files/bands.json", headers=h).json()
    band = bands["scenarios"]["double_teams"]["qr_tx_share"]
    assert len(band["median"]) == 41
    assert all(
        lo <= mid <= hi
        for lo, mid, hi in zip(band["p5"], band["median"], band["p95"], strict=False)
    )


@pytest.mark.slow
def test_a_comparison_gives_paired_differences_and_a_rerun_the_same_bytes(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    h = world.headers("planner")
    job = _start(client, world, {"kind": "compare", "compare": ["double_teams"], **SMALL})
    assert job["runs_total"] == 6  # baseline and double_teams, 3 runs each
    again = client.post(f"/simulations/{job['id']}/rerun", headers=h)
    assert again.status_code == 202, again.text
    _work(engine, settings)
    summary = client.get(f"/simulations/{job['id']}/files/summary.json", headers=h).json()
    assert summary["baseline"] == "baseline"
    assert "difference_from_baseline" in summary["scenarios"]["double_teams"]
    bands = client.get(f"/simulations/{job['id']}/files/bands.json", headers=h).json()
    assert set(bands["differences"]) == {"double_teams"}
    first = client.get(f"/simulations/{job['id']}/files/manifest.json", headers=h).json()
    second = client.get(f"/simulations/{again.json()['id']}/files/manifest.json", headers=h).json()
    assert first["files"]["runs.csv"] == second["files"]["runs.csv"]


@pytest.mark.slow  # runs simulations in a worker
def test_a_sweep_runs_every_grid_point(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    h = world.headers("planner")
    body = {"kind": "sweep", "grid": {"members": [0, 240], "fee_rate": [0, 0.02]}, **SMALL}
    job = _start(client, world, body)
    assert job["runs_total"] == 12
    _work(engine, settings)
    assert _job(client, world, job["id"])["status"] == "done"
    table = client.get(f"/simulations/{job['id']}/files/sweep.json", headers=h).json()
    assert [c["point"] for c in table["cells"]] == [
        {"members": 0, "fee_rate": 0},
        {"members": 0, "fee_rate": 0.02},
        {"members": 240, "fee_rate": 0},
        {"members": 240, "fee_rate": 0.02},
    ]
    csv_text = client.get(f"/simulations/{job['id']}/files/sweep.csv", headers=h).text
    assert len(csv_text.strip().splitlines()) == 5
    missing = client.get(f"/simulations/{job['id']}/files/runs.csv", headers=h)
    assert missing.status_code == 404


def test_the_quota_and_cancelling_a_queued_job(
    client: TestClient, world: World, settings: Settings
) -> None:
    h = world.headers("planner")
    ids = [_start(client, world, SMALL)["id"] for _ in range(settings.planner_job_quota)]
    refused = client.post("/simulations", headers=h, json=SMALL)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "tối đa 3" in refused.json()["detail"]
    assert "limit" in refused.json()["detail"]
    cancelled = client.post(f"/simulations/{ids[0]}/cancel", headers=h)
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(f"/simulations/{ids[0]}/cancel", headers=h).status_code == 409
    assert _start(client, world, SMALL)["status"] == "queued"  # room again
    other = client.post(f"/simulations/{ids[1]}/cancel", headers=world.headers("manager"))
    assert other.status_code == 403


def test_cancelling_a_running_job_goes_through_the_row(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock
) -> None:
    job = _start(client, world, SMALL)
    claimed = claim(engine, worker="w1", now=clock(), lease=LEASE)
    assert claimed is not None
    assert claimed.id == job["id"]
    assert renew(engine, job["id"], worker="w1", now=clock(), lease=LEASE, runs_done=1)
    assert _job(client, world, job["id"])["runs_done"] == 1  # progress seen through the API
    flagged = client.post(f"/simulations/{job['id']}/cancel", headers=world.headers("planner"))
    assert flagged.json()["cancel_requested"] is True
    assert not renew(engine, job["id"], worker="w1", now=clock(), lease=LEASE)
    assert finish(engine, job["id"], worker="w1", status="cancelled", now=clock())
    assert _job(client, world, job["id"])["status"] == "cancelled"


def test_a_lapsed_lease_hands_the_job_to_another_worker(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock
) -> None:
    job = _start(client, world, SMALL)
    assert claim(engine, worker="w1", now=clock(), lease=LEASE) is not None
    assert claim(engine, worker="w2", now=clock() + LEASE / 2, lease=LEASE) is None
    later = clock() + LEASE + timedelta(seconds=1)
    taken = claim(engine, worker="w2", now=later, lease=LEASE)
    assert taken is not None
    assert (taken.worker, taken.attempts) == ("w2", 2)
    # the presumed-dead worker wakes up: it may neither renew nor finish the job
    assert not renew(engine, job["id"], worker="w1", now=later, lease=LEASE)
    assert not finish(engine, job["id"], worker="w1", status="done", now=later)
    for attempt in range(3, MAX_ATTEMPTS + 1):  # dies again and again: claimed at most 3 times
        later += LEASE + timedelta(seconds=1)
        assert claim(engine, worker=f"w{attempt}", now=later, lease=LEASE) is not None
    assert claim(engine, worker="last", now=later + LEASE * 2, lease=LEASE) is None
    failed = _job(client, world, job["id"])
    assert failed["status"] == "failed"
    assert "3" in failed["error"]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite runs one worker
def test_workers_skip_a_job_another_worker_has_locked(
    client: TestClient, world: World, engine: Engine, clock: FrozenClock
) -> None:
    first, second = (_start(client, world, SMALL)["id"] for _ in range(2))
    with Session(engine) as holder:  # another worker is between its read and its update
        holder.exec(select(SimulationJob).where(SimulationJob.id == first).with_for_update()).one()
        taken = claim(engine, worker="w2", now=clock(), lease=LEASE)
        assert taken is not None
        assert taken.id == second
        holder.rollback()
    taken = claim(engine, worker="w3", now=clock(), lease=LEASE)
    assert taken is not None
    assert taken.id == first


def test_bad_job_requests_change_nothing(client: TestClient, world: World, engine: Engine) -> None:
    with Session(engine) as session:
        before = len(session.exec(select(col(SimulationJob.id))).all())
    for body, field in [
        ({"kind": "compare"}, "compare"),
        ({"kind": "compare", "compare": ["nope"]}, "compare"),
        ({"kind": "sweep"}, "grid"),
        ({"kind": "sweep", "grid": {"colour": [1, 2]}}, "grid.colour"),
        ({"kind": "sweep", "grid": {"members": []}}, "grid.members"),
        (
            {
                "kind": "sweep",
                "grid": {"members": [1, 2, 3, 4, 5], "p_v": [0, 0.1, 0.2, 0.3, 0.4, 0.5]},
            },
            "grid",
        ),
        ({"kind": "sweep", "grid": {"smartphone_share": [0.5, 3]}}, "grid.smartphone_share"),
        ({"kind": "report"}, "kind"),
        ({"scenario": "nope"}, "scenario"),
    ]:
        response = client.post("/simulations", headers=world.headers("planner"), json=body)
        assert response.status_code == 422, response.text
        fields = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert field in fields, (body, fields)
    with Session(engine) as session:
        assert len(session.exec(select(col(SimulationJob.id))).all()) == before


@pytest.mark.slow  # runs simulations in a worker
def test_a_failing_job_records_why_and_the_worker_goes_on(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    bad = _start(client, world, SMALL)
    good = _start(client, world, SMALL)
    with Session(engine) as session:  # a request that passed once but cannot run now
        row = session.get(SimulationJob, bad["id"])
        assert row is not None
        row.request = row.request | {"scenario": "gone"}
        session.add(row)
        session.commit()
    assert _work(engine, settings) == 2
    failed = _job(client, world, bad["id"])
    assert failed["status"] == "failed"
    assert failed["error"]
    assert _job(client, world, good["id"])["status"] == "done"
    assert json.loads(json.dumps(failed))["finished_at"]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the database plays no part
def test_a_sweep_on_a_dask_cluster_gives_the_same_bytes(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    from distributed import LocalCluster

    h = world.headers("planner")
    body = {"kind": "sweep", "grid": {"members": [0, 240]}, **SMALL}
    local, remote = (_start(client, world, body)["id"] for _ in range(2))
    worker = Worker(engine, settings)
    assert worker.run_one() is not None  # the first, in this process
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        on_dask = settings.model_copy(update={"dask_scheduler": cluster.scheduler_address})
        assert Worker(engine, on_dask).run_one() is not None  # the second, on the cluster
        assert "replicate" in cluster.scheduler.task_prefixes
    ours = client.get(f"/simulations/{local}/files/manifest.json", headers=h).json()
    theirs = client.get(f"/simulations/{remote}/files/manifest.json", headers=h).json()
    for name in ("sweep.csv", "sweep.parquet", "sweep.json"):
        assert ours["files"][name] == theirs["files"][name], name


@pytest.mark.slow  # runs simulations in a worker
def test_a_sensitivity_analysis_ranks_the_parameters(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    h = world.headers("planner")
    body = {
        "kind": "sensitivity",
        "ranges": {"members": [0, 240], "fee_rate": [0, 0.03], "smartphone_share": [0.5, 0.8]},
        "method": "morris",
        "samples": 4,
        **SMALL,
        "runs": 1,
    }
    job = _start(client, world, body)
    assert job["runs_total"] == 16  # 4 trajectories × (3 parameters + 1), one run each
    _work(engine, settings)
    assert _job(client, world, job["id"])["status"] == "done"
    found = client.get(f"/simulations/{job['id']}/files/sensitivity.json", headers=h).json()
    assert set(found["indices"]) == {"members", "fee_rate", "smartphone_share"}
    assert all(v["mu_star"] >= 0 for v in found["indices"].values())
    tornado = client.get(f"/simulations/{job['id']}/files/tornado.png", headers=h)
    assert tornado.content.startswith(b"\x89PNG")
    design = client.get(f"/simulations/{job['id']}/files/sensitivity.csv", headers=h).text
    assert len(design.strip().splitlines()) == 17


def test_bad_sensitivity_requests_are_refused(client: TestClient, world: World) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"ranges": {"members": [0, 240]}}, "ranges"),
        ({"ranges": {"members": [240, 0], "fee_rate": [0, 0.1]}}, "ranges.members"),
        ({"ranges": {"colour": [0, 1], "fee_rate": [0, 0.1]}}, "ranges.colour"),
        ({"ranges": {"members": [0, 9], "smartphone_share": [0.5, 2]}}, "ranges.smartphone_share"),
        (
            {"ranges": {"members": [0, 9], "fee_rate": [0, 0.1]}, "method": "sobol", "samples": 6},
            "samples",
        ),
        ({"ranges": {"members": [0, 9], "fee_rate": [0, 0.1]}, "metric": "mood"}, "metric"),
    ]
    for body, field in cases:
        response = client.post(
            "/simulations", headers=world.headers("planner"), json={"kind": "sensitivity", **body}
        )
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}, body


CALIBRATION = {
    "kind": "calibrate",
    "observed": [
        {"day": 30, "metric": "vendors_accepting_share", "value": 0.6, "sd": 0.1},
        {"day": 30, "metric": "vendors_accepting", "value": 18, "window": 7},
    ],
    "ranges": {"campaign_efficacy": [0.5, 1.0]},
    "particles": 10,
    "generations": 1,
    **SMALL,
    "runs": 2,
}


@pytest.mark.slow  # runs simulations in a worker
def test_a_calibration_fits_the_observed_points_and_forecasts(
    client: TestClient, world: World, engine: Engine, settings: Settings
) -> None:
    h = world.headers("planner")
    job = _start(client, world, CALIBRATION)
    _work(engine, settings)
    done = _job(client, world, job["id"])
    assert done["status"] == "done", done["error"]
    assert done["runs_done"] == done["runs_total"]
    fit = client.get(f"/simulations/{job['id']}/files/calibration.json", headers=h).json()
    low, high = fit["fitted"]["campaign_efficacy"]["interval_90"]
    assert 0.5 <= low <= high <= 1.0
    assert [r["metric"] for r in fit["residuals"]] == [
        "vendors_accepting_share",
        "vendors_accepting",
    ]
    bands = client.get(f"/simulations/{job['id']}/files/bands.json", headers=h).json()
    assert list(bands["scenarios"]) == ["forecast"]


def test_bad_calibration_requests_are_refused(client: TestClient, world: World) -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"observed": []}, "observed"),
        ({"observed": [{"day": 3, "metric": "mood", "value": 1}]}, "observed.0.metric"),
        ({"observed": [{"day": 3, "metric": "qr_tx", "value": 1, "sd": 0}]}, "observed.0.sd"),
        ({"ranges": {}}, "ranges"),
        ({"ranges": {"campaign_efficacy": [0.5, 3]}}, "ranges.campaign_efficacy"),
        ({"particles": 5}, "particles"),
    ]
    for change, field in cases:
        response = client.post(
            "/simulations", headers=world.headers("planner"), json={**CALIBRATION, **change}
        )
        assert response.status_code == 422, response.text
        assert field in {e["field"] for e in response.json()["errors"]}, response.json()


def test_a_worker_waits_out_a_database_that_is_away(tmp_path: Any) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    away = create_engine(f"sqlite:///{tmp_path}/no-such-folder/cho.db")
    settings = Settings(DATABASE_URL="sqlite://", worker_poll_seconds=0.05, data_dir=str(tmp_path))
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    assert Worker(away, settings).run_forever(stop) == 0  # kept looking, did not die
    with pytest.raises(OperationalError):
        Worker(away, settings).run_forever(threading.Event(), once=True)
