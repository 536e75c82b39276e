"""Who may do what: the authenticated actor and the role rules (README "Roles").

admin: everything. manager: the markets they manage, and everything in them. vendor: their own
vendor record, stalls and payout accounts, read-only. planner: market directory and aggregates.
shopper: market directory and bank list. A resource outside an actor's reach answers not-found
for reads (so its existence is not revealed) and forbidden for role-level refusals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from market.errors import ForbiddenError, NotFoundError
from market.registry.models import Role


@dataclass(frozen=True)
class Actor:
    """The user behind a request, as far as permissions are concerned."""

    user_id: int | None
    username: str
    role: Role
    market_ids: frozenset[int] = field(default_factory=frozenset)
    vendor_id: int | None = None
    phone: str | None = None  # a shopper may not pay a stall registered to their own number

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)


def require_role(actor: Actor, *roles: Role) -> None:
    """Refuse unless the actor has one of `roles` (admin always passes)."""
    if actor.role is Role.ADMIN or actor.role in roles:
        return
    raise ForbiddenError(
        f"Tài khoản của bạn không có quyền làm việc này (role {actor.role.value} not allowed here)."
    )


def can_manage_market(actor: Actor, market_id: int) -> bool:
    return actor.is_admin or (actor.role is Role.MANAGER and market_id in actor.market_ids)


def require_market_manager(actor: Actor, market_id: int) -> None:
    """Only the admin or a manager of this market may read its registry details or change it."""
    require_role(actor, Role.MANAGER)
    if not can_manage_market(actor, market_id):
        raise NotFoundError("Không tìm thấy chợ (market not found).")


def managed_market_ids(actor: Actor) -> frozenset[int] | None:
    """The markets whose registry the actor sees; None means all of them."""
    return None if actor.is_admin else actor.market_ids
