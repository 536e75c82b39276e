"""The id of a row that must have one: a row read from the database or flushed has an id, and a
missing one is a bug to raise, not a 0 to carry on with. (Same signature as the shared
`market.db.require_id` planned for issue 9; this one serves the registry until it lands.)"""

from __future__ import annotations

from typing import Protocol


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(row: _Row) -> int:
    """`row.id`, or `ValueError` when the row has none (not flushed yet)."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return row.id
