"""What a planner's job may ask: a run of one scenario, a comparison of scenarios against the
baseline, a sweep over one or two parameters, or a global sensitivity analysis (Morris or
Sobol) over a few parameters' ranges; every refusal names its field, Vietnamese first then
English in brackets. The one set of rules for the API and the pages."""

from __future__ import annotations

import itertools
from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, Field, StrictBool, StrictFloat, StrictInt

from market.errors import FieldError, InvalidInputError
from market.inputs import WholeNumber
from planner import labels
from simulator.params import MONTH_DAYS, SCENARIOS, Params

Kind = Literal["run", "compare", "sweep", "sensitivity", "calibrate"]
Method = Literal["morris", "sobol"]
SHARE_METRICS = (
    "qr_tx_share",
    "qr_value_share",
    "vendors_accepting_share",
    "vendors_active_share",
    "shoppers_ready_share",
)
PARAMETERS = {f.name: f for f in fields(Params)}
TUNABLE = {name for name, f in PARAMETERS.items() if f.type in ("int", "float")}
MAX_WORK = 5e9  # runs × days × agents × cells: a couple of minutes on these machines
MAX_POINTS = 24
BASELINE = "baseline"
SCENARIO_NAMES = tuple(SCENARIOS)
HEADLINE_DAYS = MONTH_DAYS  # the day of a run each headline month (6, 12, 24) is read on


OBSERVABLE = (*SHARE_METRICS, "vendors_accepting", "vendors_active", "qr_tx", "qr_value",
              "new_wallets")  # fmt: skip


class ObservedPoint(BaseModel):
    """One observed point a calibration fits: a metric's value on a day of the run (its sd:
    how far off the model may be; window: days the value sums or averages over)."""

    day: WholeNumber = Field(ge=0, le=1095)
    metric: str = Field(description=", ".join(OBSERVABLE))
    value: StrictFloat | StrictInt
    sd: StrictFloat | StrictInt | None = Field(default=None, gt=0)
    window: WholeNumber = Field(default=1, ge=1, le=365)


class JobRequest(BaseModel):
    kind: Kind = Field(default="run", description="run, compare, sweep, sensitivity or calibrate")
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
    ranges: dict[str, tuple[StrictFloat | StrictInt, StrictFloat | StrictInt]] = Field(
        default_factory=dict,
        max_length=8,
        description="sensitivity: two to eight parameters, each [low, high]",
    )
    method: Method = Field(default="morris", description="sensitivity: morris or sobol")
    samples: WholeNumber = Field(
        default=8,
        ge=2,
        le=256,
        description="sensitivity: Morris trajectories, or Sobol's base sample (a power of 2)",
    )
    metric: str = Field(default="qr_tx_share", description="sensitivity: the share analysed")
    observed: list[ObservedPoint] = Field(
        default_factory=list, max_length=2000, description="calibrate: the points to fit"
    )
    particles: WholeNumber = Field(default=40, ge=10, le=200, description="calibrate: ABC-SMC")
    generations: WholeNumber = Field(default=3, ge=0, le=8, description="calibrate: ABC-SMC")
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


def design_rows(request: JobRequest) -> int:
    """How many parameter sets a sensitivity analysis runs."""
    extra = 1 if request.method == "morris" else 2
    return request.samples * (len(request.ranges) + extra)


def replications(request: JobRequest) -> int:
    """How many replications the job runs (its progress counts these)."""
    if request.kind == "sensitivity":
        return request.runs * design_rows(request)
    if request.kind == "calibrate":  # an estimate: ABC-SMC stops when it stops
        return request.particles * (1 + 2 * request.generations) + request.runs
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


def _range_errors(request: JobRequest) -> list[FieldError]:
    if request.kind not in ("sensitivity", "calibrate"):
        return []
    errors = []
    fewest, most = (2, 8) if request.kind == "sensitivity" else (1, 4)
    if not fewest <= len(request.ranges) <= most:
        errors.append(
            FieldError(
                "ranges",
                "ranges-size",
                f"chọn từ {fewest} đến {most} tham số (choose {fewest} to {most} parameters)",
            )
        )
    for name, (low, high) in request.ranges.items():
        if name not in TUNABLE:
            errors.append(
                FieldError(
                    f"ranges.{name}",
                    "unknown-parameter",
                    "không phải tham số số của mô hình (not a numeric model parameter)",
                )
            )
        elif not low < high:
            errors.append(
                FieldError(
                    f"ranges.{name}", "empty-range", "cận dưới phải nhỏ hơn cận trên (low < high)"
                )
            )
    if request.kind == "calibrate":
        return errors + _observed_errors(request)
    if request.metric not in SHARE_METRICS:
        errors.append(
            FieldError(
                "metric", "unknown-metric", f"chọn một trong (one of): {', '.join(SHARE_METRICS)}"
            )
        )
    if request.method == "sobol" and request.samples & (request.samples - 1):
        errors.append(
            FieldError(
                "samples",
                "not-a-power-of-two",
                "Sobol cần một luỹ thừa của 2: 4, 8, 16… (Sobol needs a power of 2)",
            )
        )
    return errors


def _observed_errors(request: JobRequest) -> list[FieldError]:
    if not request.observed:
        return [
            FieldError(
                "observed", "no-points", "cần ít nhất một điểm quan sát (at least one point)"
            )
        ]
    return [
        FieldError(
            f"observed.{i}.metric",
            "unknown-metric",
            f"chỉ số '{p.metric}' không có; chọn một trong (one of): {', '.join(OBSERVABLE)}",
        )
        for i, p in enumerate(request.observed)
        if p.metric not in OBSERVABLE
    ]


def _cell_params(request: JobRequest) -> list[Params]:
    cells = []
    for scenario in scenarios_of(request):
        for point in points_of(request) if request.kind == "sweep" else [{}]:
            default = Params()
            typed = {
                k: round(v) if isinstance(getattr(default, k), int) else v for k, v in point.items()
            }
            cells.append(Params().with_changes(**(SCENARIOS[scenario] | request.params | typed)))
    if request.kind in ("sensitivity", "calibrate"):  # both ends of every range must be allowed
        base = cells[0]
        cells += [base.with_changes(**_typed(base, request.ranges, end)) for end in (0, 1)]
    return cells


def _work(request: JobRequest, cells: list[Params]) -> float:
    """runs × days × agents summed over every parameter set the job runs."""
    agents = [p.n_shoppers + p.n_vendors for p in cells]
    if request.kind == "sensitivity":
        return float(request.runs * request.days * design_rows(request) * max(agents))
    if request.kind == "calibrate":
        longest = max((p.day for p in request.observed), default=0)
        fits = request.particles * (1 + 10 * request.generations) * longest
        return float((fits + request.runs * request.days) * max(agents))
    return float(request.runs * request.days * sum(agents))


def _typed(base: Params, ranges: dict[str, tuple[float, float]], end: int) -> dict[str, Any]:
    return {
        name: round(bounds[end]) if isinstance(getattr(base, name), int) else bounds[end]
        for name, bounds in ranges.items()
    }


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
            where = (
                f"grid.{name}"
                if name in request.grid
                else f"ranges.{name}"
                if name in request.ranges
                else f"params.{name}"
            )
            typed = labels.shown(name, getattr(params, name))
            seen.setdefault(where, FieldError(where, "out-of-range", f"{typed}: {message}"))
    errors = list(seen.values())
    work = _work(request, cells)
    if work > MAX_WORK:
        errors.append(
            FieldError(
                "runs",
                "too-much-work",
                f"quá nhiều tính toán: số lượt × số ngày × số người và tiểu thương ="
                f" {labels.decimal(work / 1e9)} tỉ, tối đa {labels.decimal(MAX_WORK / 1e9)} tỉ;"
                " giảm số lượt, số ngày hoặc số điểm (too much work: runs × days × agents"
                f" = {work / 1e9:.3g} billion, at most {MAX_WORK / 1e9:g} billion)",
            )
        )
    return errors


def check(request: JobRequest) -> JobRequest:
    """The request if every part makes sense; otherwise InvalidInputError naming each field."""
    errors = _scenario_errors(request) + _grid_errors(request) + _range_errors(request)
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
