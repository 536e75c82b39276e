"""Strict input types, one set for JSON bodies, path and query parameters and spreadsheet cells.

Strict here means no type confusion: a boolean is not a number and a number not a boolean
(`false` is no integer, `0` no boolean), a whole number has no fraction (`5.0`, `1e3`), and a day
is `YYYY-MM-DD` (`0` is not 1970-01-01). Text written the canonical way is accepted, because
query strings and spreadsheet cells carry every value as text: ASCII digits for a whole number,
a decimal for a number, `true`/`false` for a boolean.

- `WholeNumber`, `Number`, `Boolean`, `IsoDate`: the rules above.
- `Id`: a row id, a whole number from 1 to `MAX_ID`, so a larger one is a validation error on
  both databases instead of an overflow in the driver (SQLite) or the server (PostgreSQL).

Refusals are pydantic errors with pydantic's own `type`s (`int_type`, `int_parsing`,
`bool_parsing`, `date_parsing`…), which the API words in Vietnamese and English.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from annotated_types import Interval
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# Every id column is an INTEGER: 32 bits on PostgreSQL (SQLite's would hold 64). An id above
# this exists on neither database, and PostgreSQL refuses to even compare one.
MAX_ID = 2**31 - 1
ID_RANGE = Interval(ge=1, le=MAX_ID)

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"-?[0-9]{1,40}")
_DIGITS = re.compile(r"[0-9]+")  # too long for _WHOLE: a whole number, only too large
_DECIMAL = re.compile(r"-?[0-9]{1,40}(\.[0-9]{1,40})?")
_DATE_MESSAGE = "Input should be a valid date in the format YYYY-MM-DD"


def iso_day(text: str) -> date | None:
    """The real day `text` writes as YYYY-MM-DD, else None (`date.fromisoformat` alone also
    takes "20261126" and week dates; forms and the API take only the one form)."""
    if not _ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime):
        raise PydanticCustomError("date_type", "Input should be a valid date")
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("date_type", "Input should be a valid date")
    day = iso_day(value)
    if day is None:
        raise PydanticCustomError("date_parsing", _DATE_MESSAGE)
    return day


def _whole_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, str):
        if not _WHOLE.fullmatch(value):
            if _DIGITS.fullmatch(value):
                raise PydanticCustomError("int_parsing_size", "Input is too large")
            raise PydanticCustomError(
                "int_parsing", "Input should be a valid integer, unable to parse string"
            )
        return int(value)
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PydanticCustomError("float_type", "Input should be a valid number")
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise PydanticCustomError(
                "float_parsing", "Input should be a valid number, unable to parse string"
            )
        return float(value)
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError("bool_parsing", "Input should be a valid boolean (true or false)")


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Number = Annotated[float, BeforeValidator(_number)]
Boolean = Annotated[bool, BeforeValidator(_boolean)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Id = Annotated[int, BeforeValidator(_whole_number), ID_RANGE]
