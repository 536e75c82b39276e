"""Excel/CSV template, import (dry run or commit) and export of a market's stalls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response

from api.deps import ManagerActor, SessionDep
from api.problems import problem_responses
from market.inputs import Boolean, Id
from market.registry import spreadsheet
from market.registry.markets import get_market
from market.registry.spreadsheet import ImportReport

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = APIRouter(tags=["import-export"], responses=problem_responses(401, 403, 404, 422))


@router.get(
    "/import-template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the empty template"}},
)
def import_template(_actor: ManagerActor) -> Response:
    return Response(
        spreadsheet.template_xlsx(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="mau-nhap-ki-ot.xlsx"'},
    )


@router.post(
    "/markets/{market_id}/import",
    response_model=ImportReport,
    responses=problem_responses(409, 413),
)
async def import_stalls(
    actor: ManagerActor,
    session: SessionDep,
    market_id: Id,
    file: Annotated[UploadFile, File(description=".xlsx from the template, or UTF-8 CSV")],
    dry_run: Annotated[
        Boolean, Query(description="check and count without changing anything")
    ] = True,
) -> ImportReport:
    """Import stalls, vendors and payout accounts. `dry_run=true` (the default) lists every bad
    row; `dry_run=false` applies the file all-or-nothing (keyed on stall code)."""
    content = await file.read()
    return spreadsheet.import_table(
        session,
        actor=actor,
        market_id=market_id,
        content=content,
        filename=file.filename or "",
        dry_run=dry_run,
    )


@router.get(
    "/markets/{market_id}/export.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "stalls as .xlsx"}},
)
def export_xlsx(actor: ManagerActor, session: SessionDep, market_id: Id) -> Response:
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
def export_csv(actor: ManagerActor, session: SessionDep, market_id: Id) -> Response:
    content = spreadsheet.export_csv(session, actor=actor, market_id=market_id)
    code = get_market(session, market_id).code
    return Response(
        content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{code}-ki-ot.csv"'},
    )
