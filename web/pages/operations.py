"""The manager's daily work: Today (coverage, QR share, day-close state, follow-up list), the
import wizard and exports, printing boards and sheets, and closing days with their A4 report."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from sqlmodel import Session, col, select
from starlette.datastructures import UploadFile

from market.clock import business_day
from market.errors import FieldError, NotFoundError, SpreadsheetError
from market.inputs import Id, iso_day
from market.money import days, followup
from market.registry import spreadsheet, stall_codes
from market.registry.access import Actor
from market.registry.models import Zone
from qr import board as board_render
from web.core import (
    ActorDep,
    Db,
    FormDep,
    attempt,
    context_of,
    field,
    page_router,
    redirect,
    refused,
    render,
)
from web.pages.registry import market_page, stall_in

router = page_router()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FOLLOW_UP_SHOWN = 60  # lines of the follow-up list on the page; the counts cover them all
IMPORT_MAX_BYTES = 1024 * 1024  # a market's stall list is a few hundred rows, well below this


def _today(request: Request) -> date:
    return business_day(context_of(request).clock())


def _file(content: bytes, media_type: str, filename: str, *, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------------------------------------
# Today


@router.get("/m/{market_id}")
def today(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    page = market_page(session, actor, market_id, "today")
    day = _today(request)
    closed = followup.closed_days(session, actor=actor, market_id=market_id)
    closed_set = {c.business_day for c in closed}
    page.update(
        day=day,
        yesterday=day - timedelta(days=1),
        yesterday_closed=(day - timedelta(days=1)) in closed_set,
        last_closed=closed[0] if closed else None,
        coverage=followup.coverage(session, actor=actor, market_id=market_id, today=day),
        items=followup.follow_up(session, actor=actor, market_id=market_id, today=day),
        idle_days=followup.IDLE_DAYS,
        shown=FOLLOW_UP_SHOWN,
    )
    return render(request, "today.html", page)


# ---------------------------------------------------------------------------------------------
# Import wizard and exports


def _upload_dir(request: Request, actor: Actor, market_id: Id) -> Path:
    folder = Path(context_of(request).settings.data_dir) / "uploads" / str(actor.user_id or 0)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / str(market_id)


def _import_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    *,
    report: spreadsheet.ImportReport | None = None,
    bad_rows: list[dict[str, Any]] | None = None,
    upload: str = "",
    filename: str = "",
    refusal: dict[str, Any] | None = None,
    applied: bool = False,
    status: int = 200,
) -> Response:
    page = market_page(session, actor, market_id, "import")
    page.update(
        report=report,
        bad_rows=bad_rows or [],
        upload=upload,
        filename=filename,
        refusal=refusal,
        applied=applied or request.query_params.get("applied") == "1",
        max_mb=IMPORT_MAX_BYTES // (1024 * 1024),
    )
    return render(request, "import.html", page, status=status, block="wizard")


@router.get("/m/{market_id}/import")
def import_start(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    return _import_page(request, session, actor, market_id)


@router.get("/m/{market_id}/import/template.xlsx")
def import_template(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    market_page(session, actor, market_id, "import")
    return _file(spreadsheet.template_xlsx(), XLSX, "mau-nhap-ki-ot.xlsx")


def _bad_rows(content: bytes, filename: str, errors: list[FieldError]) -> list[dict[str, Any]]:
    """Each bad cell with its row, column, the value found and the reason."""
    try:
        table = spreadsheet.read_table(content, filename)
    except SpreadsheetError:
        table = []
    rows = []
    for error in errors:
        key = error.field.split(".")[-1]
        value = ""
        if error.row is not None and 0 <= error.row - 2 < len(table):
            value = table[error.row - 2].get(key, "")
        rows.append(
            {
                "row": error.row,
                "column": error.column or spreadsheet.HEADERS.get(key, key),
                "value": value,
                "reason": error.message,
            }
        )
    return rows


@router.post("/m/{market_id}/import")
async def import_check(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id
) -> Response:
    """Step 2: upload and dry run (nothing is changed); the file is kept for step 3."""
    market_page(session, actor, market_id, "import")
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        await form.close()
        refusal: dict[str, Any] | None = {
            "code": "validation-error",
            "detail": "Chưa chọn tệp (choose a file).",
            "fields": {"file": "Chưa chọn tệp (choose a file)."},
        }
        return _import_page(request, session, actor, market_id, refusal=refusal, status=422)
    try:
        content = await upload.read(IMPORT_MAX_BYTES + 1)
    finally:
        await form.close()
    if len(content) > IMPORT_MAX_BYTES:
        mb = IMPORT_MAX_BYTES // (1024 * 1024)
        message = f"Tệp lớn hơn {mb} MB (file larger than {mb} MB)."
        refusal = {"code": "payload-too-large", "detail": message, "fields": {"file": message}}
        return _import_page(request, session, actor, market_id, refusal=refusal, status=413)
    filename = upload.filename or ""
    report, refusal = _import(session, actor, market_id, content, filename, dry_run=True)
    if report is None:
        return _import_page(request, session, actor, market_id, refusal=refusal, status=422)
    digest = hashlib.sha256(content).hexdigest()
    kept = _upload_dir(request, actor, market_id)
    kept.with_suffix(".bin").write_bytes(content)
    kept.with_suffix(".name").write_text(f"{digest}\n{filename}", encoding="utf-8")
    return _import_page(
        request,
        session,
        actor,
        market_id,
        report=report,
        bad_rows=_bad_rows(content, filename, report.errors),
        upload=digest,
        filename=filename,
    )


def _import(
    session: Session, actor: Actor, market_id: Id, content: bytes, filename: str, *, dry_run: bool
) -> tuple[spreadsheet.ImportReport | None, dict[str, Any] | None]:
    """The file through the registry's importer: its report, or the refusal to show."""
    return attempt(
        session,
        lambda: spreadsheet.import_table(
            session,
            actor=actor,
            market_id=market_id,
            content=content,
            filename=filename,
            dry_run=dry_run,
        ),
    )


@router.post("/m/{market_id}/import/apply")
def import_apply(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id
) -> Response:
    """Step 3: apply the file checked in step 2, all or nothing."""
    market_page(session, actor, market_id, "import")
    kept = _upload_dir(request, actor, market_id)
    digest, filename = "", ""
    if kept.with_suffix(".name").exists():
        digest, _, filename = kept.with_suffix(".name").read_text(encoding="utf-8").partition("\n")
    if not digest or digest != field(form, "upload"):
        refusal: dict[str, Any] | None = {
            "code": "invalid-state",
            "detail": "Tệp đã kiểm tra không còn; hãy tải lên lại (upload the file again).",
            "fields": {},
        }
        return _import_page(request, session, actor, market_id, refusal=refusal, status=409)
    content = kept.with_suffix(".bin").read_bytes()
    report, refusal = _import(session, actor, market_id, content, filename, dry_run=False)
    if report is None:
        return _import_page(request, session, actor, market_id, refusal=refusal, status=422)
    kept.with_suffix(".bin").unlink(missing_ok=True)
    kept.with_suffix(".name").unlink(missing_ok=True)
    return _import_page(request, session, actor, market_id, report=report, applied=True)


@router.get("/m/{market_id}/export.xlsx")
def export_xlsx(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    market = market_page(session, actor, market_id, "import")["market"]
    content = spreadsheet.export_xlsx(session, actor=actor, market_id=market_id)
    return _file(content, XLSX, f"{market.code}-ki-ot.xlsx")


@router.get("/m/{market_id}/export.csv")
def export_csv(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    market = market_page(session, actor, market_id, "import")["market"]
    content = spreadsheet.export_csv(session, actor=actor, market_id=market_id)
    return _file(content, "text/csv; charset=utf-8", f"{market.code}-ki-ot.csv")


# ---------------------------------------------------------------------------------------------
# Boards


@router.get("/m/{market_id}/boards")
def boards_page(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    page = market_page(session, actor, market_id, "boards")
    codes = stall_codes.market_codes(session, actor=actor, market_id=market_id)
    zones = list(
        session.exec(select(Zone).where(Zone.market_id == market_id).order_by(col(Zone.code)))
    )
    live_by_zone: dict[int | None, int] = {}
    for code in codes:
        live_by_zone[code.stall.zone_id] = live_by_zone.get(code.stall.zone_id, 0) + 1
    page.update(codes=codes, zones=zones, live_by_zone=live_by_zone)
    return render(request, "boards.html", page)


@router.get("/m/{market_id}/boards/sheet.pdf")
def boards_sheet(
    request: Request, session: Db, actor: ActorDep, market_id: Id, zone: Id | None = None
) -> Response:
    """A4 sheets, four boards a page with cut marks: the whole market or one zone."""
    market = market_page(session, actor, market_id, "boards")["market"]
    if zone is not None:
        found = session.get(Zone, zone)
        if found is None or found.market_id != market_id:
            raise NotFoundError("Không tìm thấy khu (zone not found).")
    codes = stall_codes.market_codes(session, actor=actor, market_id=market_id, zone_id=zone)
    if not codes:
        raise NotFoundError("Không có bảng mã nào để in (no live boards to print).")
    pdf = board_render.sheet_pdf([stall_codes.board_content(c) for c in codes])
    suffix = f"-khu-{codes[0].zone.code}" if zone is not None and codes[0].zone else ""
    return _file(pdf, "application/pdf", f"{market.code}{suffix}-bang-ma.pdf", inline=True)


@router.get("/m/{market_id}/stalls/{stall_id}/board.pdf")
def stall_board(
    request: Request, session: Db, actor: ActorDep, market_id: Id, stall_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "boards")
    stall_in(session, page["market"], stall_id)
    code = stall_codes.stall_code(session, actor=actor, stall_id=stall_id)
    pdf = board_render.board_pdf(stall_codes.board_content(code))
    return _file(pdf, "application/pdf", f"{code.board.serial}.pdf", inline=True)


@router.post("/m/{market_id}/stalls/{stall_id}/reprint")
def stall_reprint(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id, stall_id: Id
) -> Response:
    page = market_page(session, actor, market_id, "boards")
    stall_in(session, page["market"], stall_id)
    _board, refusal = attempt(
        session, lambda: stall_codes.reprint(session, actor=actor, stall_id=stall_id)
    )
    if refusal:
        page.update(refusal=refusal, stall_id=stall_id)
        return render(request, "error.html", {"problem": "refused", **page}, status=409)
    return redirect(request, f"/m/{market_id}/stalls/{stall_id}#boards")


# ---------------------------------------------------------------------------------------------
# Day close


def _days_page(
    request: Request,
    session: Session,
    actor: Actor,
    market_id: Id,
    *,
    refusal: dict[str, Any] | None = None,
    value: str = "",
    status: int = 200,
) -> Response:
    page = market_page(session, actor, market_id, "days")
    day = _today(request)
    page.update(
        days=followup.closed_days(session, actor=actor, market_id=market_id),
        yesterday=day - timedelta(days=1),
        earliest=days.EARLIEST_DAY,
        refusal=refusal,
        value=value or (day - timedelta(days=1)).isoformat(),
    )
    return render(request, "days.html", page, status=status, block="close_form")


@router.get("/m/{market_id}/days")
def days_list(request: Request, session: Db, actor: ActorDep, market_id: Id) -> Response:
    return _days_page(request, session, actor, market_id)


@router.post("/m/{market_id}/days")
def day_close(
    request: Request, session: Db, actor: ActorDep, form: FormDep, market_id: Id
) -> Response:
    market_page(session, actor, market_id, "days")
    value = field(form, "day")
    day = iso_day(value)
    if day is None:
        message = "Ngày không hợp lệ (invalid date)."
        refusal: dict[str, Any] | None = {
            "code": "validation-error",
            "detail": message,
            "fields": {"day": message},
        }
        return _days_page(request, session, actor, market_id, refusal=refusal, status=422)
    closed, refusal = attempt(
        session,
        lambda: days.close_day(
            session, actor=actor, market_id=market_id, day=day, now=context_of(request).clock()
        ),
    )
    if closed is None:
        status = 422 if refusal and refusal["code"] == "validation-error" else 409
        return _days_page(
            request, session, actor, market_id, refusal=refusal, value=value, status=status
        )
    return redirect(request, f"/m/{market_id}/days/{day.isoformat()}")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise NotFoundError("Không tìm thấy ngày (no such day).") from None


@router.get("/m/{market_id}/days/{day}")
def day_page(request: Request, session: Db, actor: ActorDep, market_id: Id, day: str) -> Response:
    page = market_page(session, actor, market_id, "days")
    page["report"] = followup.day_report(session, actor=actor, market_id=market_id, day=_day(day))
    return render(request, "day.html", page)


@router.get("/m/{market_id}/days/{day}/report.pdf")
def day_pdf(request: Request, session: Db, actor: ActorDep, market_id: Id, day: str) -> Response:
    market = market_page(session, actor, market_id, "days")["market"]
    report = followup.day_report(session, actor=actor, market_id=market_id, day=_day(day))
    from web import reports  # fpdf2 loads with the first report, not with every worker

    pdf = reports.day_report_pdf(market, report)
    return _file(pdf, "application/pdf", f"{market.code}-chot-ngay-{day}.pdf", inline=True)


__all__ = ["refused", "router"]
