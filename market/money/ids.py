"""The id of a row that must have one (written, or read from the database): a missing id is a
bug, so it raises instead of standing in as 0."""

from __future__ import annotations

from typing import Protocol


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def require_id(row: _HasId) -> int:
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id (not written yet)")
    return row.id
