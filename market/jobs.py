"""Durable planner jobs: rows of `simulation_job` that `cho worker` processes claim, renew, report
progress on and finish. Nothing runs inside the web server: the row is the whole truth.

- Claim: the oldest queued job, or a running one whose lease ran out (its worker died), taken
  with `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL (many workers never take the same row)
  and guarded by a compare-and-set `UPDATE` everywhere (one worker on SQLite).
- Lease: a worker renews `lease_until` while it works; a job whose lease lapsed is claimed again
  and started over, up to `MAX_ATTEMPTS` times, then marked failed.
- Progress and cancellation go through the row: the worker writes `runs_done` and reads
  `cancel_requested`; a worker that lost its lease (another took the job) stops.
- Quota: a planner has at most `planner_job_quota` jobs queued or running."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, Engine, and_, or_, update
from sqlmodel import Field, Session, SQLModel, col, func, select

from market.types import UTCDateTime, created_at_field

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
FINISHED = (DONE, FAILED, CANCELLED)
MAX_ATTEMPTS = 3


class SimulationJob(SQLModel, table=True):
    __tablename__ = "simulation_job"

    id: int | None = Field(default=None, primary_key=True)
    created_by: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(default="run", max_length=16)
    status: str = Field(default=QUEUED, max_length=16, index=True)
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    runs_done: int = Field(default=0)
    runs_total: int
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    worker: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    cancel_requested: bool = Field(default=False)


def active_jobs(session: Session, user_id: int) -> int:
    """How many of this planner's jobs are queued or running."""
    query = select(func.count()).where(
        SimulationJob.created_by == user_id, col(SimulationJob.status).in_(ACTIVE)
    )
    return int(session.exec(query).one())


def _claimable(now: datetime) -> Any:
    lapsed = and_(col(SimulationJob.status) == RUNNING, col(SimulationJob.lease_until) < now)
    return and_(
        or_(col(SimulationJob.status) == QUEUED, lapsed),
        col(SimulationJob.cancel_requested).is_(False),
    )


def give_up_dead(engine: Engine, *, now: datetime) -> int:
    """Jobs whose worker died `MAX_ATTEMPTS` times become failed instead of being claimed again;
    jobs whose worker died after a cancel request become cancelled. Returns how many changed."""
    lapsed = and_(col(SimulationJob.status) == RUNNING, col(SimulationJob.lease_until) < now)
    with Session(engine) as session:
        failed = session.execute(
            update(SimulationJob)
            .where(lapsed, col(SimulationJob.attempts) >= MAX_ATTEMPTS)
            .values(
                status=FAILED,
                finished_at=now,
                worker=None,
                error=f"Tiến trình chạy dừng đột ngột {MAX_ATTEMPTS} lần"
                f" (the worker died {MAX_ATTEMPTS} times).",
            )
        )
        cancelled = session.execute(
            update(SimulationJob)
            .where(lapsed, col(SimulationJob.cancel_requested).is_(True))
            .values(status=CANCELLED, finished_at=now, worker=None)
        )
        session.commit()
        return int(failed.rowcount or 0) + int(cancelled.rowcount or 0)  # type: ignore[attr-defined]


def claim(engine: Engine, *, worker: str, now: datetime, lease: timedelta) -> SimulationJob | None:
    """Take the next job for `worker` (queued first come first served, or one whose worker's
    lease ran out); None when there is nothing to do."""
    give_up_dead(engine, now=now)
    with Session(engine, expire_on_commit=False) as session:
        query = (
            select(SimulationJob)
            .where(_claimable(now))
            .order_by(col(SimulationJob.id))
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        job = session.exec(query).first()
        if job is None:
            return None
        taken = session.execute(
            update(SimulationJob)
            .where(col(SimulationJob.id) == job.id, _claimable(now))
            .values(
                status=RUNNING,
                worker=worker,
                lease_until=now + lease,
                attempts=SimulationJob.attempts + 1,
                started_at=now,
                runs_done=0,
            )
        )
        session.commit()
        if not taken.rowcount:  # type: ignore[attr-defined]
            return None  # another worker got there between the read and the write
        return session.get(SimulationJob, job.id, populate_existing=True)


def renew(
    engine: Engine,
    job_id: int,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    runs_done: int | None = None,
) -> bool:
    """Extend the lease (and record progress); False when the worker must stop: the job was
    cancelled or another worker holds it now."""
    values: dict[str, Any] = {"lease_until": now + lease}
    if runs_done is not None:
        values["runs_done"] = runs_done
    with Session(engine) as session:
        held = session.execute(update(SimulationJob).where(*_held(job_id, worker)).values(**values))
        cancel = session.exec(
            select(SimulationJob.cancel_requested).where(SimulationJob.id == job_id)
        ).first()
        session.commit()
    return bool(held.rowcount) and not cancel  # type: ignore[attr-defined]


def _held(job_id: int, worker: str) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a job's row while `worker` runs it."""
    return (
        col(SimulationJob.id) == job_id,
        col(SimulationJob.worker) == worker,
        col(SimulationJob.status) == RUNNING,
    )


def finish(
    engine: Engine,
    job_id: int,
    *,
    worker: str,
    status: str,
    now: datetime,
    error: str | None = None,
) -> bool:
    """Record the outcome if `worker` still holds the job; False if it lost it."""
    values: dict[str, Any] = {"status": status, "finished_at": now, "worker": None}
    values["error"] = error[:500] if error else None
    if status == DONE:
        values["runs_done"] = SimulationJob.runs_total
    with Session(engine) as session:
        done = session.execute(update(SimulationJob).where(*_held(job_id, worker)).values(**values))
        session.commit()
    return bool(done.rowcount)  # type: ignore[attr-defined]


def request_cancel(session: Session, job: SimulationJob, *, now: datetime) -> SimulationJob:
    """A queued job is cancelled at once; a running one is flagged and its worker stops at its
    next progress report. A finished job is left as it is."""
    if job.status == QUEUED:
        job.status, job.finished_at = CANCELLED, now
    elif job.status == RUNNING:
        job.cancel_requested = True
    session.add(job)
    session.flush()
    return job
