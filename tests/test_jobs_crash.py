"""kill -9 of a `cho worker` mid-job, on SQLite and PostgreSQL: the job stays "running" only
until its lease runs out, a new worker claims it, starts it over and finishes it, and its files
are byte for byte those of a run that never crashed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from market.clock import utc_now
from market.jobs import SimulationJob
from market.registry.access import Actor
from market.registry.models import Role
from market.settings import Settings
from planner import service
from planner.requests import JobRequest
from planner.worker import produce
from tests.conftest import World

pytestmark = pytest.mark.slow

REQUEST = JobRequest(kind="run", scenario="double_teams", runs=12, days=730, seed=11)


def _worker(db_url: str, data_dir: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CHO_DATA_DIR": data_dir,
        "CHO_WORKER_LEASE_SECONDS": "2",
        "CHO_WORKER_POLL_SECONDS": "0.2",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "api", "worker"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _row(engine: Engine, job_id: int) -> SimulationJob:
    with Session(engine) as session:
        job = session.get(SimulationJob, job_id)
        assert job is not None
        return job


def _wait(
    engine: Engine, job_id: int, done: object, log: Path, timeout: float = 180
) -> SimulationJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _row(engine, job_id)
        if done(job):  # type: ignore[operator]
            return job
        time.sleep(0.1)
    raise AssertionError(f"timed out; worker log:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def test_a_job_whose_worker_is_killed_finishes_on_a_new_worker(
    db_url: str, engine: Engine, world: World, settings: Settings, tmp_path: Path
) -> None:
    planner = Actor(user_id=world.user_ids["planner"], username="planner", role=Role.PLANNER)
    with Session(engine) as session:
        job = service.submit(session, actor=planner, request=REQUEST, now=utc_now(), quota=3)
        session.commit()
        job_id = job.id or 0
    log = tmp_path / "workers.log"
    first = _worker(db_url, settings.data_dir, log)
    try:
        running = _wait(engine, job_id, lambda j: j.runs_done >= 2, log)
        assert running.status == "running"
        os.killpg(first.pid, signal.SIGKILL)  # kill -9, mid-job
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    orphan = _row(engine, job_id)
    assert (orphan.status, orphan.attempts) == ("running", 1)
    assert orphan.runs_done < orphan.runs_total
    second = _worker(db_url, settings.data_dir, log)
    try:
        finished = _wait(engine, job_id, lambda j: j.status not in ("queued", "running"), log)
    finally:
        _stop(second)
    assert (finished.status, finished.attempts) == ("done", 2), finished.error
    assert finished.runs_done == finished.runs_total == 12
    assert finished.worker is None
    # the workers' log says what they do, without the migration library's set-up chatter
    assert "đang chờ việc" in log.read_text(errors="replace")
    assert "alembic" not in log.read_text(errors="replace")
    # the same request run in one go, here: the same bytes
    reference = tmp_path / "reference"
    produce(reference, REQUEST, lambda _n: None)
    ours = json.loads(
        (Path(settings.data_dir) / "simulations" / str(job_id) / "manifest.json").read_text()
    )
    theirs = json.loads((reference / "manifest.json").read_text())
    for name in ("runs.csv", "runs.parquet", "summary.json", "bands.json"):
        assert ours["files"][name] == theirs["files"][name], name


def test_cancelling_reaches_a_running_worker(
    db_url: str, engine: Engine, world: World, settings: Settings, tmp_path: Path
) -> None:
    planner = Actor(user_id=world.user_ids["planner"], username="planner", role=Role.PLANNER)
    with Session(engine) as session:
        job = service.submit(session, actor=planner, request=REQUEST, now=utc_now(), quota=3)
        session.commit()
        job_id = job.id or 0
    log = tmp_path / "worker.log"
    process = _worker(db_url, settings.data_dir, log)
    try:
        _wait(engine, job_id, lambda j: j.runs_done >= 1, log)
        with Session(engine) as session:
            service.cancel(session, actor=planner, job_id=job_id, now=utc_now())
            session.commit()
        stopped = _wait(engine, job_id, lambda j: j.status != "running", log, timeout=60)
    finally:
        _stop(process)
    assert stopped.status == "cancelled"
    assert stopped.runs_done < stopped.runs_total
