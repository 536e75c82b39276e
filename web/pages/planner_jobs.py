"""The planner's workbench, its jobs: the list (queued, running with live progress, done,
failed, cancelled; cancel and re-run), and one job's permalink page with its results: band
charts (uPlot) each with its data table, the headline table, paired differences for a
comparison, the heat map tables of a sweep, downloads with the manifest, and the registry's
real figures for a market drawn beside the forecast. The same services as the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Query, Request, Response
from fastapi.responses import FileResponse
from sqlmodel import Session

from market.clock import business_day
from market.errors import NotFoundError
from market.inputs import Id, iso_day
from market.jobs import ACTIVE, SimulationJob
from market.money.observed import WEEK, observed_series
from market.registry.access import Actor
from market.registry.markets import get_market, list_markets, market_stats
from planner import service
from planner.labels import scenario_label
from planner.requests import HEADLINE_DAYS
from web.core import (
    ENV,
    N_,
    ActorDep,
    Db,
    FormDep,
    attempt,
    context_of,
    field,
    finish,
    page_router,
    redirect,
    render,
)
from web.pages.planner import planner_page

router = page_router()

METRICS = {
    "qr_tx_share": N_("Tỉ lệ giao dịch trả bằng QR"),
    "qr_value_share": N_("Tỉ lệ giá trị trả bằng QR"),
    "vendors_accepting_share": N_("Tỉ lệ tiểu thương nhận QR"),
    "vendors_active_share": N_("Tỉ lệ tiểu thương có giao dịch QR trong tuần"),
    "shoppers_ready_share": N_("Tỉ lệ người mua sẵn sàng trả QR"),
}
STATUS = {
    "queued": N_("Đang chờ"),
    "running": N_("Đang chạy"),
    "done": N_("Xong"),
    "failed": N_("Lỗi"),
    "cancelled": N_("Đã huỷ"),
}
KIND = {
    "run": N_("Chạy một kịch bản"),
    "compare": N_("So sánh"),
    "sweep": N_("Quét tham số"),
    "sensitivity": N_("Độ nhạy"),
    "calibrate": N_("Hiệu chỉnh"),
}
TABLE_STEP = 7  # the data table beneath a chart: one row a week
ENV.globals.update(
    METRIC_LABELS=METRICS,
    STATUS_LABELS=STATUS,
    KIND_LABELS=KIND,
    HEADLINE_DAYS=HEADLINE_DAYS,
    SCENARIO_LABEL=scenario_label,
)


def _jobs_page(
    request: Request, session: Session, actor: Actor, refusal: dict[str, Any] | None = None
) -> Response:
    page = planner_page(actor, "plan-jobs")
    jobs = service.list_jobs(session, actor=actor)
    page.update(
        jobs=jobs,
        active=any(j.status in ACTIVE for j in jobs),
        refusal=refusal,
        quota=context_of(request).settings.planner_job_quota,
    )
    return render(request, "plan_jobs.html", page, status=409 if refusal else 200, block="jobs")


@router.get("/plan/jobs")
def jobs_list(request: Request, session: Db, actor: ActorDep) -> Response:
    return _jobs_page(request, session, actor)


def _chart(metric: str, bands: dict[str, Any], part: str) -> dict[str, Any]:
    days = bands["days"]
    series = [
        {"name": scenario_label(name), **scenario[metric]}
        for name, scenario in bands.get(part, {}).items()
    ]
    rows = [
        {"day": d, "cells": [(s["p5"][d], s["median"][d], s["p95"][d]) for s in series]}
        for d in days[::TABLE_STEP]
    ]
    return {"metric": metric, "days": days, "series": series, "rows": rows}


def _observed(
    session: Session, actor: Actor, market_id: int, start: date, days: int, today: date
) -> dict[str, Any]:
    """The market's real vendor coverage by day since `start` (day 0 of the forecast), as a
    share of the vendors holding its stalls today (the model counts vendors): weekly from the
    day the market was registered (days before it existed are left out, not drawn as 0 %) and
    today's value as the last point; and today's payout-account coverage."""
    market = get_market(session, market_id)
    stats = market_stats(session, actor=actor, market_id=market_id)
    first = max(start, business_day(market.created_at))
    end = min(start + timedelta(days=days), today)
    points: dict[int, float] = {}
    today_share = None
    if stats.vendors_holding_stalls:
        share = 100 / stats.vendors_holding_stalls
        for row in observed_series(session, market_id=market_id, start=start, end=end):
            if row["metric"] == "vendors_accepting" and row["day"] >= (first - start).days:
                points[row["day"]] = round(share * row["value"], 2)
        week = today - timedelta(days=WEEK - 1)  # the series' one week ends today
        for row in observed_series(session, market_id=market_id, start=week, end=today):
            if row["metric"] == "vendors_accepting":
                today_share = round(share * row["value"], 2)
        if today_share is not None and start <= today <= start + timedelta(days=days):
            points[(today - start).days] = today_share
    return {
        "market": market,
        "start": start,
        "points": points,
        "coverage": stats.payout_coverage,
        "today_day": (today - start).days,
        "today_share": today_share,
        "in_forecast": start <= today <= start + timedelta(days=days),
        "occupied": stats.occupied_stalls,
        "holders": stats.vendors_holding_stalls,
    }


def _results(request: Request, job: SimulationJob) -> dict[str, Any]:
    """What a finished job's page shows, read from its files."""
    data_dir = context_of(request).settings.data_dir
    found: dict[str, Any] = {
        "summary": service.read_json(data_dir, job, "summary.json"),
        "manifest": service.read_json(data_dir, job, "manifest.json"),
        "sweep": service.read_json(data_dir, job, "sweep.json"),
        "files": service.downloads(data_dir, job),
        "charts": [],
        "differences": [],
    }
    days = (found["summary"] or {}).get("days")
    if days is not None:  # the headline's months this run is too short to reach
        found["short_months"] = [m for m, day in HEADLINE_DAYS.items() if day > days]
    if found["sweep"]:
        found["heat"] = _heat(found["sweep"])
    bands = service.read_json(data_dir, job, "bands.json")
    if bands:
        found["charts"] = [_chart(m, bands, "scenarios") for m in METRICS]
        if "differences" in bands:
            found["differences"] = [_chart(m, bands, "differences") for m in METRICS]
    calibration = service.read_json(data_dir, job, "calibration.json")
    if calibration and found["charts"]:
        found["calibration"] = calibration
        _observed_on_charts(found["charts"], calibration)
    analysis = service.read_json(data_dir, job, "sensitivity.json")
    if analysis:
        found["tornado"] = _tornado(analysis)
    return found


def _heat(sweep: dict[str, Any]) -> list[dict[str, Any]]:
    """Per share metric a table: rows the first parameter's values, columns the second's (one
    column without a second), each cell the last day's share, shaded from the table's lowest
    median (lightest) to its highest (darkest)."""
    names = list(sweep["grid"])
    rows = list(sweep["grid"][names[0]])
    columns = list(sweep["grid"][names[1]]) if len(names) > 1 else [None]
    tables = []
    for metric in METRICS:
        medians = [cell[metric]["median"] for cell in sweep["cells"]]
        low, span = min(medians), (max(medians) - min(medians)) or 1.0
        body = []
        for r, value in enumerate(rows):
            cells = []
            for c in range(len(columns)):
                band = sweep["cells"][r * len(columns) + c][metric]
                alpha = 0.05 + 0.45 * (band["median"] - low) / span
                cells.append(band | {"alpha": round(alpha, 3)})
            body.append({"value": value, "cells": cells})
        tables.append({"metric": metric, "rows": body})
    return [{"names": names, "columns": columns, "tables": tables}]


def _observed_on_charts(charts: list[dict[str, Any]], calibration: dict[str, Any]) -> None:
    """The fitted points on the forecast's charts, in percent: shares as they are, vendor
    counts as a share of the model's vendors (QR payments and wallets are in the residuals
    table only)."""
    n_vendors = calibration.get("n_vendors") or 1
    by_metric: dict[str, dict[int, float]] = {}
    for point in calibration["residuals"]:
        metric, value = point["metric"], point["observed"]
        if metric in ("vendors_accepting", "vendors_active"):
            metric, value = f"{metric}_share", value / n_vendors
        if metric in METRICS:
            by_metric.setdefault(metric, {})[point["day"]] = round(100 * value, 2)
    for chart in charts:
        if chart["metric"] in by_metric:
            chart["observed"] = by_metric[chart["metric"]]


def _tornado(analysis: dict[str, Any]) -> dict[str, Any]:
    """The parameters, largest effect first, with each bar's length relative to the largest:
    Morris μ* (and σ), or Sobol's total index ST (and S1)."""
    morris = analysis["method"] == "morris"
    key, conf = ("mu_star", "mu_star_conf") if morris else ("ST", "ST_conf")
    ordered = sorted(analysis["indices"].items(), key=lambda item: -item[1][key])
    largest = max((abs(v[key]) for _, v in ordered), default=0.0) or 1.0
    bars = [
        {
            "name": name,
            "value": v[key],
            "conf": v[conf],
            "width": round(100 * abs(v[key]) / largest),
            "other": v.get("sigma", v.get("S1")),
        }
        for name, v in ordered
    ]
    return analysis | {"key": key, "bars": bars}


@router.get("/plan/jobs/{job_id}")
def job_page(
    request: Request,
    session: Db,
    actor: ActorDep,
    job_id: Id,
    market: Annotated[str, Query(max_length=12)] = "",
    start: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    page = planner_page(actor, "plan-jobs")
    job = service.readable(session, actor=actor, job_id=job_id)
    page.update(job=job, active=job.status in ACTIVE, refusal=None)
    if request.headers.get("hx-request") == "true" and job.status not in ACTIVE:
        finished = Response(status_code=204, headers={"HX-Refresh": "true"})
        return finish(request, finished)  # the poll saw the end: show the results in full
    results = _results(request, job)
    asked = "market" in request.query_params or "start" in request.query_params
    reality = reality_form(request, session, actor, job, market if asked else None, start)
    if reality["reality"]:
        for chart in results["charts"]:
            if chart["metric"] == "vendors_accepting_share":
                chart["observed"] = reality["reality"]["points"]
    page.update(results)
    page.update(reality)
    return render(request, "plan_job.html", page, block="status")


def reality_form(
    request: Request,
    session: Session,
    actor: Actor,
    job: SimulationJob,
    market: str | None,
    start: str,
) -> dict[str, Any]:
    """The form that draws a market's real figures on the forecast; `market` is None when the
    form was not sent (an empty string when it was sent without a market)."""
    markets, _cursor = list_markets(session, limit=200)
    found: dict[str, Any] = {
        "markets": markets,
        "reality": None,
        "reality_values": {"market": market or "", "start": start},
        "reality_refusal": None,
    }
    if market is None:
        return found
    errors: dict[str, str] = {}
    market_id = int(market) if market.isdigit() else 0
    if not any(m.id == market_id for m in markets):
        errors["market"] = N_("Chọn một chợ trong danh sách.")
    day0 = iso_day(start)
    if day0 is None:
        errors["start"] = N_("Chọn ngày bắt đầu: ngày 0 của lượt chạy trên lịch.")
    if errors or day0 is None:
        found["reality_refusal"] = {"fields": errors}
        return found
    today = business_day(context_of(request).clock())
    found["reality"] = _observed(session, actor, market_id, day0, int(job.request["days"]), today)
    return found


@router.post("/plan/jobs/{job_id}/cancel")
def cancel_job(
    request: Request, session: Db, actor: ActorDep, form: FormDep, job_id: Id
) -> Response:
    now = context_of(request).clock()
    _job, refusal = attempt(
        session, lambda: service.cancel(session, actor=actor, job_id=job_id, now=now)
    )
    if refusal:
        return _jobs_page(request, session, actor, refusal)
    return redirect(request, safe_back(field(form, "back"), job_id))


@router.post("/plan/jobs/{job_id}/rerun")
def rerun_job(
    request: Request, session: Db, actor: ActorDep, form: FormDep, job_id: Id
) -> Response:
    context = context_of(request)
    job, refusal = attempt(
        session,
        lambda: service.rerun(
            session,
            actor=actor,
            job_id=job_id,
            now=context.clock(),
            quota=context.settings.planner_job_quota,
        ),
    )
    if job is None:
        return _jobs_page(request, session, actor, refusal)
    return redirect(request, f"/plan/jobs/{job.id}")


def safe_back(back: str, job_id: int) -> str:
    return "/plan/jobs" if back == "list" else f"/plan/jobs/{job_id}"


@router.get("/plan/jobs/{job_id}/files/{name}")
def job_file(request: Request, session: Db, actor: ActorDep, job_id: Id, name: str) -> Response:
    job = service.readable(session, actor=actor, job_id=job_id)
    if name not in service.FILES:
        raise NotFoundError("Không có tệp này (no such output).")
    path, media = service.output(context_of(request).settings.data_dir, job, name)
    return FileResponse(path, media_type=media, filename=f"mo-phong-{job_id}-{name}")
