"""The id of a row that must have one: a row read from the database or flushed has an id, and a
missing one is a bug to raise, not a 0 to carry on with. (Same signature as the shared
`market.db.require_id` planned for issue 9; this one serves the registry until it lands.)"""

from __future__ import annotations

from sqlmodel import SQLModel


def require_id(row: SQLModel) -> int:
    """`row.id`, or `ValueError` when the row has none (not flushed yet)."""
    row_id = getattr(row, "id", None)
    if not isinstance(row_id, int):
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return row_id
