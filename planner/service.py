"""Starting, listing, cancelling and re-running a planner's jobs and reading their files: the
services the API routes and the pages both call. A job is a row (market/jobs.py) that a
`cho worker` runs; its files live under `CHO_DATA_DIR/simulations/<id>/`."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from market.db import require_id
from market.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    InvalidStateError,
    NotFoundError,
)
from market.jobs import ACTIVE, DONE, SimulationJob, active_jobs, request_cancel
from market.money.observed import observed_series
from market.registry.access import Actor, require_role
from market.registry.markets import get_market
from market.registry.models import Role
from planner.requests import JobRequest, check, replications

CHARTS = ("qr_tx_share", "qr_value_share", "vendors_accepting_share", "shoppers_ready_share")
RUN_FILES = {
    "runs.csv": "text/csv",
    "runs.parquet": "application/vnd.apache.parquet",
    "summary.json": "application/json",
    "bands.json": "application/json",
    "manifest.json": "application/json",
    "bao-cao.pdf": "application/pdf",
    **{
        f"{chart}.{suffix}": kind
        for chart in CHARTS
        for suffix, kind in (("png", "image/png"), ("svg", "image/svg+xml"))
    },
}
SWEEP_FILES = {
    "sweep.csv": "text/csv",
    "sweep.parquet": "application/vnd.apache.parquet",
    "sweep.json": "application/json",
    "manifest.json": "application/json",
}
SENSITIVITY_FILES = {
    "sensitivity.json": "application/json",
    "sensitivity.csv": "text/csv",
    "tornado.png": "image/png",
    "manifest.json": "application/json",
}
FILES = RUN_FILES | SWEEP_FILES | SENSITIVITY_FILES | {"calibration.json": "application/json"}


class QuotaError(ConflictError):
    """The planner already has as many jobs queued or running as allowed."""


def folder(data_dir: str, job_id: int) -> Path:
    return Path(data_dir) / "simulations" / str(job_id)


def submit(
    session: Session, *, actor: Actor, request: JobRequest, now: datetime, quota: int
) -> SimulationJob:
    """Queue a job for a worker after checking the request and the planner's quota."""
    require_role(actor, Role.PLANNER)
    check(request)
    running = active_jobs(session, actor.user_id or 0)
    if running >= quota:
        raise QuotaError(
            f"Bạn đã có {running} lượt đang chờ hoặc đang chạy, tối đa {quota}; hãy chờ một lượt"
            f" xong hoặc huỷ bớt (you already have {running} jobs queued or running, the limit"
            f" is {quota}; wait for one to finish or cancel one).",
            extra={"limit": quota},
        )
    job = SimulationJob(
        created_by=actor.user_id or 0,
        kind=request.kind,
        request=request.model_dump(),
        runs_total=replications(request),
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def list_jobs(session: Session, *, actor: Actor, limit: int = 100) -> list[SimulationJob]:
    """The planner's jobs, newest first (every planner's for the admin)."""
    require_role(actor, Role.PLANNER)
    query = select(SimulationJob).order_by(col(SimulationJob.id).desc()).limit(limit)
    if not actor.is_admin:
        query = query.where(SimulationJob.created_by == actor.user_id)
    return list(session.exec(query))


def readable(session: Session, *, actor: Actor, job_id: int) -> SimulationJob:
    """The job if this actor may see it (its planner or the admin); otherwise not found."""
    require_role(actor, Role.PLANNER)
    job = session.get(SimulationJob, job_id)
    if job is None or (not actor.is_admin and job.created_by != actor.user_id):
        raise NotFoundError("Không tìm thấy lượt mô phỏng (simulation not found).")
    return job


def cancel(session: Session, *, actor: Actor, job_id: int, now: datetime) -> SimulationJob:
    """Cancel a queued job at once, or ask the worker of a running one to stop."""
    job = readable(session, actor=actor, job_id=job_id)
    if job.status not in ACTIVE:
        raise InvalidStateError(
            f"Lượt mô phỏng đã kết thúc ({job.status}), không huỷ được"
            f" (the job has finished and cannot be cancelled)."
        )
    return request_cancel(session, job, now=now)


def rerun(
    session: Session, *, actor: Actor, job_id: int, now: datetime, quota: int
) -> SimulationJob:
    """A new job with the same request (same seed: the same numbers)."""
    job = readable(session, actor=actor, job_id=job_id)
    request = JobRequest.model_validate(job.request | {"kind": job.kind})
    return submit(session, actor=actor, request=request, now=now, quota=quota)


def output(data_dir: str, job: SimulationJob, name: str) -> tuple[Path, str]:
    """The path and media type of one output file of a finished job."""
    if job.status != DONE:
        raise InvalidStateError(f"Lượt mô phỏng đang ở trạng thái '{job.status}' (not finished).")
    path = folder(data_dir, require_id(job)) / name
    if name not in FILES or not path.is_file():
        raise NotFoundError("Không có tệp này (no such output).")
    return path, FILES[name]


def read_json(data_dir: str, job: SimulationJob, name: str) -> dict[str, Any] | None:
    """A JSON output of a finished job, or None when the job has none by that name."""
    path = folder(data_dir, require_id(job)) / name
    if job.status != DONE or not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def downloads(data_dir: str, job: SimulationJob) -> list[str]:
    """The output files a finished job has, in the order pages list them."""
    if job.status != DONE:
        return []
    here = folder(data_dir, require_id(job))
    return [name for name in FILES if (here / name).is_file()]


def observed_from_market(
    session: Session, *, actor: Actor, market_id: int, start: date, end: date
) -> list[dict[str, Any]]:
    """A market's observed points as this service recorded them, day 0 = `start`: what a
    calibration fits (vendors accepting and active, new wallets, QR payments and value)."""
    require_role(actor, Role.PLANNER)
    if end < start or (end - start).days > 1095:
        raise InvalidInputError(
            "Khoảng ngày không hợp lệ (invalid date range).",
            errors=[
                FieldError(
                    "end", "invalid-range", "phải sau ngày bắt đầu, tối đa 3 năm (≤ 3 years)"
                )
            ],
        )
    get_market(session, market_id)
    rows = observed_series(session, market_id=market_id, start=start, end=end)
    return [
        {"day": r["day"], "metric": r["metric"], "value": r["value"], "window": r["window"]}
        for r in rows
    ]


def observed_from_csv(text: str) -> list[dict[str, Any]]:
    """Observed points from an uploaded CSV (day, metric, value[, sd][, window])."""
    from simulator.calibrate import parse_observed

    try:
        points = parse_observed(text)
    except ValueError as exc:
        raise InvalidInputError(
            "Tệp điểm quan sát không đọc được (the observed-points file is not valid).",
            errors=[FieldError("file", "invalid-observed", f"{exc}")],
        ) from None
    return [
        {"day": p.day, "metric": p.metric, "value": p.value, "sd": p.sd, "window": p.window}
        for p in points
    ]


def default_targets() -> list[dict[str, Any]]:
    """The analogue markets' targets a calibration fits when the planner brings no points."""
    from simulator.calibrate import DEFAULT_OBSERVED

    return [
        {"day": p.day, "metric": p.metric, "value": p.value, "sd": p.sd, "window": p.window}
        for p in DEFAULT_OBSERVED
    ]


def default_fit() -> dict[str, list[float]]:
    """The parameters a calibration fits when the planner names none, with their ranges."""
    from simulator.calibrate import DEFAULT_RANGES

    return {name: list(bounds) for name, bounds in DEFAULT_RANGES.items()}
