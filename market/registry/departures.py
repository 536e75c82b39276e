"""A vendor leaving the market: their stall assignments end, their payout accounts are
deactivated (so their codes stop being live), and the vendor is marked inactive."""

from __future__ import annotations

from sqlmodel import Session

from market.registry import audit
from market.registry.access import Actor, require_market_manager
from market.registry.models import Status, Vendor
from market.registry.payouts import deactivate_all_for_vendor
from market.registry.stalls import end_assignments_of_vendor
from market.registry.vendors import get_vendor


def deactivate_vendor(session: Session, *, actor: Actor, vendor_id: int) -> Vendor:
    """Mark the vendor inactive; their current stall assignments end today and their payout
    accounts are deactivated (so their codes stop being live)."""
    vendor = get_vendor(session, vendor_id)
    require_market_manager(actor, vendor.market_id)
    before = audit.snapshot(vendor)
    end_assignments_of_vendor(session, actor=actor, vendor_id=vendor_id)
    deactivate_all_for_vendor(session, actor=actor, vendor=vendor)
    vendor.status = Status.INACTIVE
    audit.save(
        session,
        vendor,
        actor=actor,
        action="deactivate",
        entity="vendor",
        market_id=vendor.market_id,
        before=before,
    )
    return vendor
