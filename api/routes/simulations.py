"""Planners run the adoption simulator as background jobs: start one, follow its progress, fetch
its tidy CSV, summary and charts. Jobs run in a thread of the worker that accepted them; outputs
are files under `CHO_DATA_DIR/simulations/<id>/`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from api.deps import ClockDep, ContextDep, CurrentUser, SessionDep
from api.problems import problem_responses
from market.clock import utc_now
from market.errors import FieldError, InvalidInputError, InvalidStateError, NotFoundError
from market.inputs import Id, IsoDate, WholeNumber
from market.jobs import SimulationJob
from market.money.observed import observed_series
from market.registry.access import require_role
from market.registry.models import Role
from simulator.params import CHARTED, SCENARIOS, Params, scenario_params

router = APIRouter(tags=["simulations"], responses=problem_responses(401, 403, 404, 409, 422))
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="simulations")
PARAMETER_NAMES = set(Params.__dataclass_fields__)
MAX_WORK = 5e9  # runs × days × agents: a couple of minutes on these machines


class SimulationRequest(BaseModel):
    scenario: str = Field(default="baseline", description=f"one of {', '.join(SCENARIOS)}")
    params: dict[str, StrictFloat | StrictInt | StrictBool] = Field(
        default_factory=dict, max_length=40
    )
    runs: WholeNumber = Field(default=20, ge=1, le=200)
    days: WholeNumber = Field(default=365, ge=1, le=1095)
    seed: WholeNumber = Field(default=1, ge=0, le=2**32 - 1)


class SimulationPublic(BaseModel):
    id: int
    status: str
    runs_done: int
    runs_total: int
    request: dict[str, Any]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


def _folder(settings_dir: str, job_id: int) -> Path:
    return Path(settings_dir) / "simulations" / str(job_id)


def _execute(engine: Engine, job_id: int, data_dir: str, request: dict[str, Any]) -> None:
    # numpy and the charts load with the first simulation, not with every worker of the API
    from simulator.outputs import write_outputs
    from simulator.runs import run

    params = scenario_params(request["scenario"], request["params"])

    def progress(done: int) -> None:
        with Session(engine) as session:
            job = session.get(SimulationJob, job_id)
            if job is not None:
                job.runs_done += done
                job.status = "running"
                session.add(job)
                session.commit()

    try:
        data = run(
            params,
            runs=request["runs"],
            days=request["days"],
            seed=request["seed"],
            progress=progress,
        )
        write_outputs(
            _folder(data_dir, job_id),
            scenarios={request["scenario"]: params},
            results={request["scenario"]: data},
            seed=request["seed"],
            runs=request["runs"],
            days=request["days"],
        )
        status, error = "done", None
    except Exception as exc:  # the job records its failure instead of vanishing
        status, error = "failed", f"{type(exc).__name__}: {exc}"[:500]
    with Session(engine) as session:
        job = session.get(SimulationJob, job_id)
        if job is not None:
            job.status, job.error, job.finished_at = status, error, utc_now()
            session.add(job)
            session.commit()


def _readable(session: Session, actor: Any, job_id: int) -> SimulationJob:
    require_role(actor, Role.PLANNER)
    job = session.get(SimulationJob, job_id)
    if job is None or (not actor.is_admin and job.created_by != actor.user_id):
        raise NotFoundError("Không tìm thấy lượt mô phỏng (simulation not found).")
    return job


@router.post("/simulations", response_model=SimulationPublic, status_code=202)
def start_simulation(
    actor: CurrentUser,
    session: SessionDep,
    context: ContextDep,
    clock: ClockDep,
    data: SimulationRequest,
) -> SimulationPublic:
    """Start a run in the background; follow it at GET /simulations/{id}."""
    require_role(actor, Role.PLANNER)
    errors = []
    if data.scenario not in SCENARIOS:
        errors.append(
            FieldError(
                "scenario",
                "unknown-scenario",
                f"kịch bản không có; chọn một trong (one of): {', '.join(SCENARIOS)}",
            )
        )
    errors += [
        FieldError(
            f"params.{k}", "unknown-parameter", "không phải tham số của mô hình (not a parameter)"
        )
        for k in data.params
        if k not in PARAMETER_NAMES
    ]
    if not errors:
        params = Params().with_changes(**(SCENARIOS[data.scenario] | data.params))
        errors += [
            FieldError(f"params.{name}", "out-of-range", message)
            for name, message in params.problems()
        ]
        work = data.runs * data.days * (params.n_shoppers + params.n_vendors)
        if work > MAX_WORK:
            errors.append(
                FieldError(
                    "runs",
                    "too-much-work",
                    f"quá nhiều tính toán (too much work): runs × days × agents = {work:.2g}"
                    f" > {MAX_WORK:.0e}",
                )
            )
    if errors:
        raise InvalidInputError(
            "Yêu cầu mô phỏng không hợp lệ (invalid simulation request).", errors=errors
        )
    job = SimulationJob(
        created_by=actor.user_id or 0,
        request=data.model_dump(),
        runs_total=data.runs,
        created_at=clock(),
    )
    session.add(job)
    session.commit()  # the worker thread must see the job
    _executor.submit(
        _execute, context.engine, job.id or 0, context.settings.data_dir, data.model_dump()
    )
    return SimulationPublic.model_validate(job, from_attributes=True)


@router.get("/simulations", response_model=list[SimulationPublic])
def list_simulations(actor: CurrentUser, session: SessionDep) -> list[SimulationPublic]:
    require_role(actor, Role.PLANNER)
    query = select(SimulationJob).order_by(col(SimulationJob.id).desc()).limit(100)
    if not actor.is_admin:
        query = query.where(SimulationJob.created_by == actor.user_id)
    return [SimulationPublic.model_validate(j, from_attributes=True) for j in session.exec(query)]


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
    return SimulationPublic.model_validate(_readable(session, actor, job_id), from_attributes=True)


OUTPUTS = {
    "runs.csv": "text/csv",
    "summary.json": "application/json",
    "bao-cao.pdf": "application/pdf",
    **{
        f"{chart}.{suffix}": kind
        for chart in CHARTED
        for suffix, kind in (("png", "image/png"), ("svg", "image/svg+xml"))
    },
}
OutputName = Literal[
    "runs.csv",
    "summary.json",
    "bao-cao.pdf",
    "qr_tx_share.png",
    "qr_tx_share.svg",
    "qr_value_share.png",
    "qr_value_share.svg",
    "vendors_accepting_share.png",
    "vendors_accepting_share.svg",
    "shoppers_ready_share.png",
    "shoppers_ready_share.svg",
]


@router.get(
    "/simulations/{job_id}/files/{name}",
    response_class=FileResponse,
    responses={
        200: {
            "content": {t: {} for t in set(OUTPUTS.values())},
            "description": "an output file of a finished run",
        }
    },
)
def simulation_file(
    actor: CurrentUser, session: SessionDep, context: ContextDep, job_id: Id, name: OutputName
) -> FileResponse:
    """runs.csv, summary.json, the PDF report or a chart (PNG/SVG) of a finished run."""
    job = _readable(session, actor, job_id)
    if job.status != "done":
        raise InvalidStateError(f"Lượt mô phỏng đang ở trạng thái '{job.status}' (not finished).")
    path = _folder(context.settings.data_dir, job_id) / name
    if not path.exists():
        raise NotFoundError("Không có tệp này (no such output).")
    return FileResponse(path, media_type=OUTPUTS[name], filename=f"mo-phong-{job_id}-{name}")
