"""What a planner's job may ask: a run of one scenario, a comparison of scenarios against the
baseline, or a sweep over one or two parameters; every refusal names its field, Vietnamese first
then English in brackets. The one set of rules for the API and the pages."""

from __future__ import annotations

import itertools
from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt

from market.errors import FieldError, InvalidInputError
from market.inputs import WholeNumber
from simulator.params import SCENARIOS, Params

Kind = Literal["run", "compare", "sweep"]
PARAMETERS = {f.name: f for f in fields(Params)}
TUNABLE = {name for name, f in PARAMETERS.items() if f.type in ("int", "float")}
MAX_WORK = 5e9  # runs × days × agents × cells: a couple of minutes on these machines
MAX_POINTS = 24
BASELINE = "baseline"
SCENARIO_NAMES = tuple(SCENARIOS)


class JobRequest(BaseModel):
    kind: Kind = Field(default="run", description="run, compare or sweep")
    scenario: str = Field(default=BASELINE, description=f"one of {', '.join(SCENARIOS)}")
    compare: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="compare: the scenarios set against the baseline (same seeds, paired)",
    )
    grid: dict[str, list[StrictFloat | StrictInt]] = Field(
        default_factory=dict,
        max_length=2,
        description="sweep: one or two parameters and the values each takes",
    )
    params: dict[str, StrictFloat | StrictInt | StrictBool] = Field(
        default_factory=dict, max_length=40
    )
    runs: WholeNumber = Field(default=20, ge=1, le=200)
    days: WholeNumber = Field(default=365, ge=1, le=1095)
    seed: WholeNumber = Field(default=1, ge=0, le=2**32 - 1)


def scenarios_of(request: JobRequest) -> list[str]:
    """The scenarios a job runs, the baseline first for a comparison."""
    if request.kind == "compare":
        return [BASELINE, *(s for s in request.compare if s != BASELINE)]
    return [request.scenario]


def points_of(request: JobRequest) -> list[dict[str, float]]:
    names = list(request.grid)
    values = [[float(v) for v in request.grid[name]] for name in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]


def replications(request: JobRequest) -> int:
    """How many replications the job runs (its progress counts these)."""
    points = len(points_of(request)) if request.kind == "sweep" else 1
    return request.runs * len(scenarios_of(request)) * points


def _scenario_errors(request: JobRequest) -> list[FieldError]:
    known = ", ".join(SCENARIOS)
    errors = []
    if request.scenario not in SCENARIOS:
        errors.append(
            FieldError(
                "scenario",
                "unknown-scenario",
                f"kịch bản không có; chọn một trong (one of): {known}",
            )
        )
    if request.kind == "compare":
        others = [s for s in request.compare if s != BASELINE]
        if not others:
            errors.append(
                FieldError(
                    "compare",
                    "nothing-to-compare",
                    "chọn ít nhất một kịch bản để so với kịch bản cơ sở"
                    " (choose at least one scenario to compare with the baseline)",
                )
            )
        errors += [
            FieldError("compare", "unknown-scenario", f"kịch bản '{s}' không có (one of: {known})")
            for s in others
            if s not in SCENARIOS
        ]
    return errors


def _grid_errors(request: JobRequest) -> list[FieldError]:
    if request.kind != "sweep":
        return []
    if not request.grid:
        return [
            FieldError(
                "grid",
                "empty-grid",
                "chọn một hoặc hai tham số và các giá trị"
                " (choose one or two parameters and their values)",
            )
        ]
    errors = []
    for name, values in request.grid.items():
        if name not in TUNABLE:
            errors.append(
                FieldError(
                    f"grid.{name}",
                    "unknown-parameter",
                    "không phải tham số số của mô hình (not a numeric model parameter)",
                )
            )
        elif not 1 <= len(values) <= 8:
            errors.append(
                FieldError(f"grid.{name}", "grid-size", "cần 1 đến 8 giá trị (needs 1 to 8 values)")
            )
    if not errors and len(points_of(request)) > MAX_POINTS:
        errors.append(
            FieldError(
                "grid", "grid-size", f"tối đa {MAX_POINTS} điểm lưới (at most {MAX_POINTS} points)"
            )
        )
    return errors


def _cell_params(request: JobRequest) -> list[Params]:
    cells = []
    for scenario in scenarios_of(request):
        for point in points_of(request) if request.kind == "sweep" else [{}]:
            default = Params()
            typed = {
                k: round(v) if isinstance(getattr(default, k), int) else v for k, v in point.items()
            }
            cells.append(Params().with_changes(**(SCENARIOS[scenario] | request.params | typed)))
    return cells


def _value_errors(request: JobRequest) -> list[FieldError]:
    errors = [
        FieldError(
            f"params.{k}", "unknown-parameter", "không phải tham số của mô hình (not a parameter)"
        )
        for k in request.params
        if k not in PARAMETERS
    ]
    if errors:
        return errors
    seen: dict[str, FieldError] = {}
    cells = _cell_params(request)
    for params in cells:
        for name, message in params.problems():
            where = f"grid.{name}" if name in request.grid else f"params.{name}"
            seen.setdefault(where, FieldError(where, "out-of-range", message))
    errors = list(seen.values())
    work = request.runs * request.days * sum(p.n_shoppers + p.n_vendors for p in cells)
    if work > MAX_WORK:
        errors.append(
            FieldError(
                "runs",
                "too-much-work",
                f"quá nhiều tính toán: giảm số lượt, số ngày hoặc số điểm (too much work):"
                f" runs × days × agents = {work:.2g} > {MAX_WORK:.0e}",
            )
        )
    return errors


def check(request: JobRequest) -> JobRequest:
    """The request if every part makes sense; otherwise InvalidInputError naming each field."""
    errors = _scenario_errors(request) + _grid_errors(request)
    if not errors:
        errors = _value_errors(request)
    if errors:
        raise InvalidInputError(
            "Yêu cầu mô phỏng không hợp lệ (invalid simulation request).", errors=errors
        )
    return request


def described() -> list[dict[str, Any]]:
    """Each parameter with its default, unit, range and source (for the new-run form)."""
    return Params.describe()
