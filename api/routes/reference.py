"""Reference data: health, the bank BIN directory, goods categories."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import CurrentUser, SessionDep
from api.problems import problem_responses
from market.errors import NotFoundError
from market.registry.models import CATEGORY_LABELS, GoodsCategory
from qr.banks import Bank, bank_by_bin, search_banks

router = APIRouter(tags=["reference"])


class Health(BaseModel):
    status: str
    database: str


class CategoryPublic(BaseModel):
    code: GoodsCategory
    label: str


@router.get("/health", response_model=Health)
def health(session: SessionDep) -> Health:
    """Liveness and database reachability (no token needed)."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Health(status="ok", database=session.get_bind().dialect.name)


@router.get("/banks", response_model=list[Bank], responses=problem_responses(401, 422))
def list_banks(
    _actor: CurrentUser,
    q: Annotated[
        str | None, Query(max_length=100, description="BIN, name or code; no diacritics needed")
    ] = None,
) -> list[Bank]:
    return search_banks(q or "")


@router.get("/banks/{bin_code}", response_model=Bank, responses=problem_responses(401, 404))
def get_bank(_actor: CurrentUser, bin_code: str) -> Bank:
    bank = bank_by_bin(bin_code)
    if bank is None:
        raise NotFoundError(f"Không có ngân hàng với BIN '{bin_code}' (unknown BIN).")
    return bank


@router.get("/categories", response_model=list[CategoryPublic], responses=problem_responses(401))
def list_categories(_actor: CurrentUser) -> list[CategoryPublic]:
    return [CategoryPublic(code=c, label=label) for c, label in CATEGORY_LABELS.items()]
