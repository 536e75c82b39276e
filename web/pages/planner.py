"""The planner's workbench, its forms: a new run (scenario presets, the parameter form grouped by
topic with unit, default, range and source), a comparison of scenarios against the baseline, a
sweep over one or two parameters, and a sensitivity analysis (Morris or Sobol) over a few
parameters' ranges. Each form queues a durable job through the same service as
`POST /simulations` (planner/service.py) and goes to the job's page; a refusal comes back next to
its field, nothing queued."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request, Response
from jinja2 import pass_context
from jinja2.runtime import Context
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from market.errors import FieldError, InvalidInputError, NotFoundError
from market.field_messages import field_message
from market.registry.access import Actor, require_role
from market.registry.markets import list_markets
from market.registry.models import Role
from planner import labels, service
from planner.requests import (
    PARAMETERS,
    SCENARIO_NAMES,
    SHARE_METRICS,
    TUNABLE,
    JobRequest,
    check,
    described,
)
from web.core import (
    ENV,
    N_,
    ActorDep,
    Db,
    FormDep,
    attempt,
    context_of,
    field,
    page_router,
    redirect,
)
from web.core import render as render_page

router = page_router()

SCENARIO_NOTES = {
    "baseline": N_("Cơ sở: Mậu A như hiện nay, tổ công nghệ số cộng đồng 120 người."),
    "no_teams": N_("Không có tổ công nghệ số cộng đồng và học sinh hướng dẫn."),
    "double_teams": N_("Gấp đôi tổ công nghệ số cộng đồng (240 người)."),
    "no_student_summer": N_("Không có học sinh hướng dẫn người thân trong hè."),
    "no_vendor_campaign": N_("Không có đợt vận động tiểu thương mở mã QR."),
    "soundbox": N_("Tiểu thương có loa báo tiền: quen dùng QR nhanh hơn."),
    "fee_1pct": N_("Ngân hàng thu phí 1 %% mỗi giao dịch QR của tiểu thương."),
    "frequent_outages": N_("Mạng chập chờn: 15 %% số ngày không thanh toán QR được."),
    "bass": N_("Mô hình Bass thuần (kiểm tra mô hình, không dùng để ra quyết định)."),
}
TOPICS = (
    (
        "shoppers",
        N_("Người mua"),
        (
            "n_shoppers", "n_villages", "smartphone_share", "account_share", "town_share",
            "visit_town", "visit_village", "purchases_per_visit", "ticket_mean", "ticket_sigma",
            "p_s", "q_s", "threshold", "contacts", "habit_start", "cash_pref_mean",
            "qr_half_ticket", "habit_gain", "habit_loss", "lapse_days", "lapse_prob", "seed_share",
        ),
    ),
    (
        "vendors",
        N_("Tiểu thương"),
        (
            "n_vendors", "vendor_popularity_sigma", "vendor_phone_share", "vendor_account_share",
            "p_v", "q_v", "r_v", "ask_propensity", "vendor_campaign_per_day",
            "vendor_campaign_days", "campaign_efficacy", "receipt_benefit", "active_days",
            "inactive_days", "inactive_drop",
        ),
    ),
    (
        "teams",
        N_("Tổ công nghệ số và học sinh"),
        (
            "members", "trainees_per_member_week", "training_efficacy", "student_boost",
            "summer_start_day_of_year", "summer_end_day_of_year", "blitz_start_day",
            "blitz_end_day", "blitz_members",
        ),
    ),
    ("network", N_("Mạng"), ("outage_prob",)),
    ("fees", N_("Phí"), ("fee_rate", "fee_drop")),
    (
        "calendar",
        N_("Lịch và mô hình"),
        (
            "start_day_of_year", "tet_start_day_of_year", "tet_days", "tet_visit_boost",
            "tet_ticket_boost", "substeps",
        ),
    ),
)  # fmt: skip
SETTINGS = ("runs", "days", "seed")
RANGE_ROWS = ("1", "2", "3", "4")
KINDS = ("run", "compare", "sweep", "sensitivity", "calibrate")
SOURCES = ("targets", "market", "file")
MAX_UPLOAD = 1_000_000  # bytes of observed points


@pass_context
def _decimal(context: Context, value: float | int | None) -> str:
    """A number with the page's decimal mark, never in scientific notation."""
    return labels.decimal(value, context.get("lang", "vi"))


@pass_context
def _param_value(context: Context, value: Any, name: str) -> str:
    return labels.shown(name, value, context.get("lang", "vi"))


ENV.filters.update(
    decimal=_decimal,
    param_value=_param_value,
    param_label=labels.label,
    scenario_label=labels.scenario_label,
)
ENV.globals.update(PARAM_LABEL=labels.label, PARAM_UNIT=labels.unit)


def planner_page(actor: Actor, section: str) -> dict[str, Any]:
    require_role(actor, Role.PLANNER)
    return {"actor": actor, "market": None, "section": section}


def _topics() -> list[dict[str, Any]]:
    by_name = {
        p["name"]: p | {"label": labels.label(p["name"]), "unit_vi": labels.unit(p["name"])}
        for p in described()
    }
    return [
        {"key": key, "label": label, "params": [by_name[n] for n in names if n in by_name]}
        for key, label, names in TOPICS
    ]


def _number(name: str, raw: str, errors: list[FieldError], where: str) -> float | int | None:
    kind = PARAMETERS[name].type if name in PARAMETERS else "int"
    value = labels.read_number(raw, whole=kind == "int")
    if value is None:
        errors.append(
            FieldError(
                where,
                "not-a-number",
                f"“{raw}” không phải một số; cần một số như 0,7 hoặc 120"
                f" (“{raw}” is not a number; expected a number such as 0.7 or 120)",
            )
        )
        return None
    return int(value) if kind == "int" and value.is_integer() else value


def _settings(values: dict[str, str], errors: list[FieldError]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in SETTINGS:
        if values.get(name):
            found[name] = _number(name, values[name], errors, name)
    return found


def _overrides(form: FormData, errors: list[FieldError]) -> tuple[dict[str, Any], dict[str, str]]:
    params: dict[str, Any] = {}
    typed: dict[str, str] = {}
    for name in TUNABLE:
        raw = field(form, f"p_{name}")
        if raw:
            typed[f"p_{name}"] = raw
            params[name] = _number(name, raw, errors, name)
    return params, typed


def _grid(form: FormData, errors: list[FieldError], values: dict[str, str]) -> dict[str, Any]:
    grid: dict[str, list[float | int | None]] = {}
    for axis in ("1", "2"):
        name, raw = field(form, f"grid{axis}"), field(form, f"values{axis}")
        values[f"grid{axis}"], values[f"values{axis}"] = name, raw
        if not name:
            continue
        if name not in TUNABLE:
            errors.append(
                FieldError(
                    f"grid{axis}",
                    "unknown-parameter",
                    "chọn một tham số trong danh sách (choose a listed parameter)",
                )
            )
            continue
        items = labels.split_list(raw)
        if not items:
            errors.append(
                FieldError(f"values{axis}", "empty", "cần ít nhất một giá trị (at least one value)")
            )
        unreadable = [v for v in items if labels.read_number(v) is None]
        if unreadable:
            errors.append(_list_error(f"values{axis}", unreadable[0]))
            continue
        grid[name] = [_number(name, v, errors, f"values{axis}") for v in items]
    return grid


def _list_error(where: str, item: str) -> FieldError:
    """A list item that is not a number, most likely values run together with commas."""
    hint = (
        "; nếu là nhiều giá trị, tách bằng dấu chấm phẩy hoặc dấu cách, ví dụ 0,5; 0,8"
        " (separate several values with “;” or spaces)"
        if item.count(",") > 1 or ("," in item and "." in item)
        else " (not a number)"
    )
    return FieldError(where, "not-a-number", f"“{item}” không phải một số như 0,5 hoặc 240{hint}")


def _ranges(form: FormData, errors: list[FieldError], values: dict[str, str]) -> dict[str, Any]:
    ranges: dict[str, list[float | int | None]] = {}
    for row in RANGE_ROWS:
        name = field(form, f"range{row}")
        low, high = field(form, f"low{row}"), field(form, f"high{row}")
        values.update({f"range{row}": name, f"low{row}": low, f"high{row}": high})
        if not name:
            continue
        if name not in TUNABLE:
            errors.append(
                FieldError(
                    f"range{row}",
                    "unknown-parameter",
                    "chọn một tham số trong danh sách (choose a listed parameter)",
                )
            )
            continue
        ranges[name] = [
            _number(name, low, errors, f"low{row}"),
            _number(name, high, errors, f"high{row}"),
        ]
    return ranges


def _analysis(form: FormData, errors: list[FieldError], values: dict[str, str]) -> dict[str, Any]:
    values.update({k: field(form, k) for k in ("method", "metric", "samples")})
    body: dict[str, Any] = {"ranges": _ranges(form, errors, values)}
    body["method"] = values["method"] or "morris"
    body["metric"] = values["metric"] or "qr_tx_share"
    if values["samples"]:
        body["samples"] = _number("samples", values["samples"], errors, "samples")
    return body


def request_from_form(kind: str, form: FormData, values: dict[str, str]) -> dict[str, Any]:
    """The job request a form describes (`values` gets what to show again), or InvalidInputError
    naming every box that is wrong at once: not a number, or out of its range."""
    values.update({name: field(form, name) for name in (*SETTINGS, "scenario")})
    errors: list[FieldError] = []
    params, typed = _overrides(form, errors)
    values.update(typed)
    body: dict[str, Any] = {"kind": kind, "params": params, **_settings(values, errors)}
    if kind == "compare":
        body["compare"] = [s for s in form.getlist("compare") if isinstance(s, str)]
        values["compare"] = ",".join(body["compare"])
    else:
        body["scenario"] = values["scenario"] or "baseline"
    if kind == "sweep":
        body["grid"] = _grid(form, errors, values)
    if kind == "sensitivity":
        body.update(_analysis(form, errors, values))
    if kind == "calibrate":
        body["ranges"] = _ranges(form, errors, values) or service.default_fit()
        for name in ("particles", "generations"):
            values[name] = field(form, name)
            if values[name]:
                body[name] = _number(name, values[name], errors, name)
    body = _read(body)
    errors += _every_problem(body, read_as_numbers=not errors)
    if errors:
        raise InvalidInputError(
            "Có ô chưa đúng; xem các ô được đánh dấu (some boxes are wrong; see the marked boxes).",
            errors=_first_per_box(errors),
        )
    return body


def _read(body: dict[str, Any]) -> dict[str, Any]:
    """The body without the boxes that could not be read as numbers (already reported)."""
    read = {name: value for name, value in body.items() if value is not None}
    read["params"] = {name: value for name, value in body["params"].items() if value is not None}
    return read


def _every_problem(body: dict[str, Any], *, read_as_numbers: bool) -> list[FieldError]:
    """What the service would refuse in `body`, all at once rather than one stage at a time:
    settings out of their range, then parameters out of theirs (checked with the default in
    place of a setting that is out of range; the amount of work is judged only when every box
    could be read, since it depends on them all). A calibration's observed points are read
    after the boxes (`observed_points`) and are not judged here."""
    try:
        request = JobRequest.model_validate(body)
        settings_ok = True
    except ValidationError as exc:
        problems = exc.errors(include_input=False)
        errors = [_field_error(problem) for problem in problems]
        bad = {str(problem["loc"][0]) for problem in problems if problem["loc"]}
        try:
            request = JobRequest.model_validate({k: v for k, v in body.items() if k not in bad})
        except ValidationError:
            return errors
        settings_ok = False
    else:
        errors = []
    try:
        check(request)
    except InvalidInputError as exc:
        errors += [
            error
            for error in exc.errors
            if ((read_as_numbers and settings_ok) or error.code != "too-much-work")
            and not error.field.startswith("observed")  # read after the boxes, on their own
        ]
    return errors


def _field_error(problem: Any) -> FieldError:
    where = ".".join(str(part) for part in problem["loc"]) or "form"
    return FieldError(where, str(problem["type"]), field_message(problem))


def _first_per_box(errors: list[FieldError]) -> list[FieldError]:
    """One problem per box (the first found), in the order found."""
    seen: dict[str, FieldError] = {}
    for error in errors:
        seen.setdefault(error.field.split(".")[-1], error)
    return list(seen.values())


def form_page(
    request: Request,
    session: Session,
    actor: Actor,
    kind: str,
    *,
    refusal: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    sections = {
        "run": "plan-new",
        "compare": "plan-compare",
        "sweep": "plan-sweep",
        "sensitivity": "plan-sensitivity",
        "calibrate": "plan-calibrate",
    }
    page = planner_page(actor, sections[kind])
    defaults = JobRequest()
    page.update(
        kind=kind,
        scenarios=list(SCENARIO_NAMES),
        notes=SCENARIO_NOTES,
        topics=_topics(),
        tunable=sorted(TUNABLE, key=labels.label),
        metrics=SHARE_METRICS,
        range_rows=RANGE_ROWS[:2] if kind == "calibrate" else RANGE_ROWS,
        markets=list_markets(session, limit=200)[0] if kind == "calibrate" else [],
        default_fit=service.default_fit(),
        refusal=refusal,
        values=values or {},
        defaults={"runs": defaults.runs, "days": defaults.days, "seed": defaults.seed},
        quota=context_of(request).settings.planner_job_quota,
    )
    return render_page(request, "plan_form.html", page, status=status)


@router.get("/plan")
def new_run(request: Request, session: Db, actor: ActorDep) -> Response:
    return form_page(request, session, actor, "run")


@router.get("/plan/compare")
def new_comparison(request: Request, session: Db, actor: ActorDep) -> Response:
    return form_page(request, session, actor, "compare")


@router.get("/plan/sweep")
def new_sweep(request: Request, session: Db, actor: ActorDep) -> Response:
    return form_page(request, session, actor, "sweep")


@router.get("/plan/sensitivity")
def new_sensitivity(request: Request, session: Db, actor: ActorDep) -> Response:
    return form_page(request, session, actor, "sensitivity")


@router.get("/plan/calibrate")
def new_calibration(request: Request, session: Db, actor: ActorDep) -> Response:
    return form_page(request, session, actor, "calibrate")


def observed_points(
    session: Session, actor: Actor, form: FormData, values: dict[str, str]
) -> list[dict[str, Any]]:
    """The points a calibration fits, from the chosen source: the analogue markets' targets,
    this service's records of one market, or an uploaded CSV."""
    values.update({k: field(form, k) for k in ("source", "market", "start", "end")})
    source = values["source"] or "targets"
    if source not in SOURCES:
        raise InvalidInputError(
            "Nguồn số liệu không có trong danh sách (unknown source of observed points).",
            errors=[FieldError("source", "unknown-source", "chọn một nguồn (choose a source)")],
        )
    if source == "targets":
        return service.default_targets()
    if source == "file":
        upload = form.get("file")
        raw = upload.file.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
        if not raw or len(raw) > MAX_UPLOAD:
            raise InvalidInputError(
                "Cần một tệp CSV điểm quan sát (an observed-points CSV is needed).",
                errors=[FieldError("file", "no-file", "chọn một tệp CSV dưới 1 MB (a CSV < 1 MB)")],
            )
        return service.observed_from_csv(raw.decode("utf-8-sig", errors="replace"))
    errors = []
    if not values["market"].isdigit():
        errors.append(FieldError("market", "no-market", "chọn một chợ (choose a market)"))
    dates = {}
    for name in ("start", "end"):
        try:
            dates[name] = date.fromisoformat(values[name])
        except ValueError:
            errors.append(FieldError(name, "not-a-date", "cần một ngày (a date is needed)"))
    if errors:
        raise InvalidInputError("Chưa đủ thông tin về chợ (market details missing).", errors=errors)
    return service.observed_from_market(
        session, actor=actor, market_id=int(values["market"]), start=dates["start"],
        end=dates["end"],
    )  # fmt: skip


def _submit(session: Session, request: Request, actor: Actor, body: dict[str, Any]) -> Any:
    context = context_of(request)
    return service.submit(
        session,
        actor=actor,
        request=JobRequest.model_validate(body),
        now=context.clock(),
        quota=context.settings.planner_job_quota,
    )


@router.post("/plan/jobs")
def start_job(request: Request, session: Db, actor: ActorDep, form: FormDep) -> Response:
    planner_page(actor, "plan-jobs")
    kind = field(form, "kind") or "run"
    if kind not in KINDS:  # a form of ours always names one: anything else was made by hand
        raise NotFoundError("Không có loại việc này (no such kind of job).")
    values: dict[str, str] = {}

    def queue() -> Any:
        body = request_from_form(kind, form, values)
        if kind == "calibrate":
            body["observed"] = observed_points(session, actor, form, values)
        return _submit(session, request, actor, body)

    try:
        job, refusal = attempt(session, queue)
    finally:
        for value in form.values():
            if isinstance(value, UploadFile):
                value.file.close()
    if job is None:
        return form_page(request, session, actor, kind, refusal=refusal, values=values, status=422)
    return redirect(request, f"/plan/jobs/{job.id}")
