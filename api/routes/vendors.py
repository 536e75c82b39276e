"""Vendors and their payout accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ManagerActor, PageDep, RegistryReader, SessionDep
from api.problems import problem_responses
from market.inputs import Boolean, Id
from market.pagination import Page
from market.registry import departures, payouts, vendors
from market.registry.models import (
    PayoutAccountCreate,
    PayoutAccountPublic,
    PayoutAccountUpdate,
    Status,
    Vendor,
    VendorCreate,
    VendorPublic,
    VendorUpdate,
)

router = APIRouter(tags=["vendors"], responses=problem_responses(401, 403, 404, 409, 422))


def _one(session: SessionDep, vendor: Vendor) -> VendorPublic:
    return vendors.public_vendors(session, [vendor])[0]


@router.get("/vendors", response_model=Page[VendorPublic])
def list_vendors(
    actor: RegistryReader,
    session: SessionDep,
    page: PageDep,
    market_id: Id | None = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="name, phone or stall code; no diacritics needed"),
    ] = None,
    status: Status | None = None,
    has_payout_account: Boolean | None = None,
) -> Page[VendorPublic]:
    rows, cursor = vendors.list_vendors(
        session,
        actor=actor,
        market_id=market_id,
        q=q,
        status=status,
        has_payout_account=has_payout_account,
        cursor=page.cursor,
        limit=page.limit,
    )
    return Page(items=vendors.public_vendors(session, rows), next_cursor=cursor)


@router.post(
    "/markets/{market_id}/vendors",
    response_model=VendorPublic,
    status_code=201,
    responses=problem_responses(413),
)
def create_vendor(
    actor: ManagerActor, session: SessionDep, market_id: Id, data: VendorCreate
) -> VendorPublic:
    return _one(
        session, vendors.create_vendor(session, actor=actor, market_id=market_id, data=data)
    )


@router.get("/vendors/{vendor_id}", response_model=VendorPublic)
def get_vendor(actor: RegistryReader, session: SessionDep, vendor_id: Id) -> VendorPublic:
    return _one(session, vendors.readable_vendor(session, actor=actor, vendor_id=vendor_id))


@router.patch("/vendors/{vendor_id}", response_model=VendorPublic, responses=problem_responses(413))
def update_vendor(
    actor: ManagerActor, session: SessionDep, vendor_id: Id, data: VendorUpdate
) -> VendorPublic:
    return _one(
        session, vendors.update_vendor(session, actor=actor, vendor_id=vendor_id, data=data)
    )


@router.delete("/vendors/{vendor_id}", response_model=VendorPublic)
def deactivate_vendor(actor: ManagerActor, session: SessionDep, vendor_id: Id) -> VendorPublic:
    """Deactivate: current stall assignments end today and payout accounts are deactivated."""
    return _one(session, departures.deactivate_vendor(session, actor=actor, vendor_id=vendor_id))


@router.get("/vendors/{vendor_id}/payout-accounts", response_model=list[PayoutAccountPublic])
def list_payout_accounts(
    actor: RegistryReader,
    session: SessionDep,
    vendor_id: Id,
    include_inactive: Boolean = False,
) -> list[PayoutAccountPublic]:
    return [
        PayoutAccountPublic.from_row(a)
        for a in payouts.list_accounts(
            session, actor=actor, vendor_id=vendor_id, include_inactive=include_inactive
        )
    ]


@router.post(
    "/vendors/{vendor_id}/payout-accounts",
    response_model=PayoutAccountPublic,
    status_code=201,
    responses=problem_responses(413),
)
def add_payout_account(
    actor: ManagerActor, session: SessionDep, vendor_id: Id, data: PayoutAccountCreate
) -> PayoutAccountPublic:
    account = payouts.add_account(session, actor=actor, vendor_id=vendor_id, data=data)
    return PayoutAccountPublic.from_row(account)


@router.get("/payout-accounts/{account_id}", response_model=PayoutAccountPublic)
def get_payout_account(
    actor: RegistryReader, session: SessionDep, account_id: Id
) -> PayoutAccountPublic:
    return PayoutAccountPublic.from_row(
        payouts.readable_account(session, actor=actor, account_id=account_id)
    )


@router.patch(
    "/payout-accounts/{account_id}",
    response_model=PayoutAccountPublic,
    responses=problem_responses(413),
)
def update_payout_account(
    actor: ManagerActor, session: SessionDep, account_id: Id, data: PayoutAccountUpdate
) -> PayoutAccountPublic:
    account = payouts.update_account(session, actor=actor, account_id=account_id, data=data)
    return PayoutAccountPublic.from_row(account)


@router.delete("/payout-accounts/{account_id}", response_model=PayoutAccountPublic)
def deactivate_payout_account(
    actor: ManagerActor, session: SessionDep, account_id: Id
) -> PayoutAccountPublic:
    account = payouts.deactivate_account(session, actor=actor, account_id=account_id)
    return PayoutAccountPublic.from_row(account)
