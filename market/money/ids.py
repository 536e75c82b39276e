"""The id of a row that must have one (written, or read from the database), and the user behind
an authenticated actor: a missing id is a bug, so it raises instead of standing in as 0."""

from __future__ import annotations

from typing import Protocol

from market.registry.access import Actor


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(row: _HasId) -> int:
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id (not written yet)")
    return row.id


def user_id_of(actor: Actor) -> int:
    """The user behind an actor (every authenticated actor has one; the system actor does not)."""
    if actor.user_id is None:
        raise ValueError(f"actor {actor.username} has no user id")
    return actor.user_id
