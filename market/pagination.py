"""Keyset (cursor) pagination on a row id: pages neither repeat nor skip rows while rows are added.
A cursor is an opaque string; callers pass back what `next_cursor` returned."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel
from sqlmodel import col
from sqlmodel.sql.expression import SelectOfScalar

from market.errors import FieldError, InvalidInputError

MAX_LIMIT = 200

Q = TypeVar("Q", bound=SelectOfScalar[Any])
T = TypeVar("T")


class HasId(Protocol):
    id: int | None


@dataclass(frozen=True)
class Cursor:
    last_id: int


def decode_cursor(text: str | None) -> Cursor | None:
    """The cursor in `text`, or None; a malformed cursor is a validation error on `cursor`."""
    if not text:
        return None
    try:
        raw = base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))
        prefix, _, value = raw.decode("ascii").partition(":")
        if prefix != "id" or not value.isdigit() or len(value) > 18:
            raise ValueError(text)
        return Cursor(int(value))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInputError(
            "Con trỏ phân trang không hợp lệ (invalid cursor).",
            errors=[FieldError("cursor", "invalid-cursor", "not a cursor returned by this API")],
        ) from None


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode("ascii").rstrip("=")


def apply_keyset(
    query: Q, id_column: Any, cursor: Cursor | None, limit: int, *, newest_first: bool = False
) -> Q:
    """Order by id and fetch one row more than `limit` (to know whether a next page exists)."""
    column = col(id_column)
    if cursor is not None:
        query = query.where(column < cursor.last_id if newest_first else column > cursor.last_id)
    order = column.desc() if newest_first else column.asc()
    return query.order_by(order).limit(limit + 1)


def next_cursor(rows: list[Any], limit: int) -> str | None:
    """The cursor of the page after `rows` (fetched with `apply_keyset`), or None at the end."""
    if len(rows) <= limit:
        return None
    return encode_cursor(rows[limit - 1].id)


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` as `cursor` to get the next page."""

    items: list[T]
    next_cursor: str | None = None
