"""Planners run the adoption simulator as durable jobs: queue a run, a comparison or a sweep,
follow its progress, cancel or re-run it, fetch its files. The job is a database row that a
`cho worker` process claims and runs (planner/worker.py); nothing runs in the web server. Outputs
are files under `CHO_DATA_DIR/simulations/<id>/`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from api.deps import ClockDep, ContextDep, CurrentUser, SessionDep
from api.problems import problem_responses
from market.errors import FieldError, InvalidInputError
from market.inputs import Id, IsoDate
from market.money.observed import observed_series
from market.registry.access import require_role
from market.registry.models import Role
from planner import service
from planner.requests import JobRequest

router = APIRouter(tags=["simulations"], responses=problem_responses(401, 403, 404, 409, 422))


class SimulationPublic(BaseModel):
    id: int
    kind: str
    status: str = Field(description="queued, running, done, failed or cancelled")
    runs_done: int
    runs_total: int
    request: dict[str, Any]
    error: str | None
    attempts: int = Field(description="how many times a worker claimed it")
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def _public(job: Any) -> SimulationPublic:
    return SimulationPublic.model_validate(job, from_attributes=True)


@router.post("/simulations", response_model=SimulationPublic, status_code=202)
def start_simulation(
    actor: CurrentUser, session: SessionDep, context: ContextDep, clock: ClockDep, data: JobRequest
) -> SimulationPublic:
    """Queue a run, a comparison, a sweep or a sensitivity analysis for a `cho worker`; follow it at
    GET /simulations/{id}. A planner has at most `CHO_PLANNER_JOB_QUOTA` jobs queued or running
    (409 beyond that)."""
    job = service.submit(
        session, actor=actor, request=data, now=clock(), quota=context.settings.planner_job_quota
    )
    return _public(job)


@router.get("/simulations", response_model=list[SimulationPublic])
def list_simulations(actor: CurrentUser, session: SessionDep) -> list[SimulationPublic]:
    return [_public(job) for job in service.list_jobs(session, actor=actor)]


class ObservedPoint(BaseModel):
    date: date
    day: int = Field(description="days since `start` (day 0)")
    metric: str = Field(
        description="vendors_accepting, vendors_active, new_wallets, qr_tx or qr_value"
    )
    value: float
    window: int = Field(description="days the value sums over (1: a count on the day)")


@router.get("/simulations/observed", response_model=list[ObservedPoint])
def observed_points(
    actor: CurrentUser,
    session: SessionDep,
    market_id: Id,
    start: IsoDate,
    end: IsoDate,
) -> list[ObservedPoint]:
    """The simulator's metrics as this service observed them at one market, by date: the
    observed points `cho simulate calibrate --observed` reads."""
    require_role(actor, Role.PLANNER)
    if end < start or (end - start).days > 3650:
        raise InvalidInputError(
            "Khoảng ngày không hợp lệ (invalid date range).",
            errors=[
                FieldError(
                    "end",
                    "invalid-range",
                    "phải sau start, tối đa 10 năm (after start, ≤ 10 years)",
                )
            ],
        )
    rows = observed_series(session, market_id=market_id, start=start, end=end)
    return [ObservedPoint.model_validate(row) for row in rows]


@router.get("/simulations/{job_id}", response_model=SimulationPublic)
def get_simulation(actor: CurrentUser, session: SessionDep, job_id: Id) -> SimulationPublic:
    return _public(service.readable(session, actor=actor, job_id=job_id))


@router.post("/simulations/{job_id}/cancel", response_model=SimulationPublic)
def cancel_simulation(
    actor: CurrentUser, session: SessionDep, clock: ClockDep, job_id: Id
) -> SimulationPublic:
    """A queued job is cancelled at once; a running one stops at its next finished replication
    (`cancel_requested` is true until its worker stops)."""
    return _public(service.cancel(session, actor=actor, job_id=job_id, now=clock()))


@router.post("/simulations/{job_id}/rerun", response_model=SimulationPublic, status_code=202)
def rerun_simulation(
    actor: CurrentUser, session: SessionDep, context: ContextDep, clock: ClockDep, job_id: Id
) -> SimulationPublic:
    """Queue a new job with the same request (same seed, so the same numbers)."""
    job = service.rerun(
        session, actor=actor, job_id=job_id, now=clock(), quota=context.settings.planner_job_quota
    )
    return _public(job)


OutputName = Literal[
    "runs.csv",
    "runs.parquet",
    "summary.json",
    "bands.json",
    "manifest.json",
    "bao-cao.pdf",
    "qr_tx_share.png",
    "qr_tx_share.svg",
    "qr_value_share.png",
    "qr_value_share.svg",
    "vendors_accepting_share.png",
    "vendors_accepting_share.svg",
    "shoppers_ready_share.png",
    "shoppers_ready_share.svg",
    "sweep.csv",
    "sweep.parquet",
    "sweep.json",
    "sensitivity.json",
    "sensitivity.csv",
    "tornado.png",
    "calibration.json",
]


@router.get(
    "/simulations/{job_id}/files/{name}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {t: {} for t in set(service.FILES.values())},
            "description": "an output file of a finished job",
        }
    },
)
def simulation_file(
    actor: CurrentUser, session: SessionDep, context: ContextDep, job_id: Id, name: OutputName
) -> FileResponse:
    """A finished job's file: runs.csv/.parquet, summary.json, bands.json, the PDF report, a
    chart (PNG/SVG), sweep.csv/.parquet/.json, sensitivity.json/.csv and tornado.png, and
    manifest.json with the sha256 of every
    other file."""
    job = service.readable(session, actor=actor, job_id=job_id)
    path, media = service.output(context.settings.data_dir, job, name)
    return FileResponse(path, media_type=media, filename=f"mo-phong-{job_id}-{name}")
