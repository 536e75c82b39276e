"""The user behind an authenticated actor: a missing user id is a bug, so it raises instead of
standing in as 0 (a row's id: `market.db.require_id`)."""

from __future__ import annotations

from market.registry.access import Actor


def user_id_of(actor: Actor) -> int:
    """The user behind an actor (every authenticated actor has one; the system actor does not)."""
    if actor.user_id is None:
        raise ValueError(f"actor {actor.username} has no user id")
    return actor.user_id
