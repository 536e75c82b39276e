"""Excel/CSV template, import (dry run or commit) and export of a market's stalls."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from api.deps import CurrentUser, SessionDep
from api.problems import ProblemFieldError, problem_responses
from market.registry import spreadsheet
from market.registry.access import require_role
from market.registry.markets import get_market
from market.registry.models import Role

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = APIRouter(tags=["import-export"], responses=problem_responses(401, 403, 404, 422))


class NewZonePublic(BaseModel):
    code: str
    name: str


class ImportReportPublic(BaseModel):
    """What the file does, or in a dry run would do; with bad rows, what its good rows would
    do. `new_zones` are the zones the file names that the market lacks: listed by a dry run,
    created only when the file is applied."""

    rows: int
    bad_rows: int
    zones_created: int
    new_zones: list[NewZonePublic]
    stalls_created: int
    stalls_updated: int
    vendors_created: int
    vendors_updated: int
    accounts_created: int
    assignments_changed: int
    unchanged_rows: int
    committed: bool
    errors: list[ProblemFieldError]


@router.get(
    "/import-template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the empty template"}},
)
def import_template(actor: CurrentUser) -> Response:
    require_role(actor, Role.MANAGER)
    return Response(
        spreadsheet.template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="mau-nhap-ki-ot.xlsx"'},
    )


@router.post(
    "/markets/{market_id}/import",
    response_model=ImportReportPublic,
    responses=problem_responses(409, 413),
)
async def import_stalls(
    actor: CurrentUser,
    session: SessionDep,
    market_id: int,
    file: Annotated[UploadFile, File(description=".xlsx from the template, or UTF-8 CSV")],
    dry_run: Annotated[bool, Query(description="check and count without changing anything")] = True,
) -> ImportReportPublic:
    """Import stalls, vendors and payout accounts. `dry_run=true` (the default) lists every bad
    row; `dry_run=false` applies the file all-or-nothing (keyed on stall code)."""
    content = await file.read()
    report = spreadsheet.import_table(
        session,
        actor=actor,
        market_id=market_id,
        content=content,
        filename=file.filename or "",
        dry_run=dry_run,
    )
    data = asdict(report)
    data["errors"] = [e.as_dict() for e in report.errors]
    return ImportReportPublic(**data)


@router.get(
    "/markets/{market_id}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "stalls as .xlsx"}},
)
def export_xlsx(actor: CurrentUser, session: SessionDep, market_id: int) -> Response:
    content = spreadsheet.export_xlsx(session, actor=actor, market_id=market_id)
    code = get_market(session, market_id).code
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{code}-ki-ot.xlsx"'},
    )


@router.get(
    "/markets/{market_id}/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "stalls as UTF-8 CSV with BOM"}},
)
def export_csv(actor: CurrentUser, session: SessionDep, market_id: int) -> Response:
    content = spreadsheet.export_csv(session, actor=actor, market_id=market_id)
    code = get_market(session, market_id).code
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{code}-ki-ot.csv"'},
    )
