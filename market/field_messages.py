"""Per-field validation messages, Vietnamese first and English second, with the limit the schema
states: one table from pydantic's error types, for the API's problems, the pages' forms and the
command line alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from market import patterns
from market.errors import FieldError

# Per-field messages by pydantic error `type`: (Vietnamese, English), formatted with the error's
# `ctx` (so a limit is the one the schema states). Types not listed fall back to a Vietnamese
# sentence around pydantic's own English message.
_NOT_EMPTY = ("không được để trống", "must not be empty")
_AT_LEAST_CHARS = ("phải có ít nhất {min_length} ký tự", "at least {min_length} characters")
_AT_MOST_CHARS = ("tối đa {max_length} ký tự", "at most {max_length} characters")
_AT_LEAST_ITEMS = ("phải có ít nhất {min_length} mục", "at least {min_length} items")
_AT_MOST_ITEMS = ("tối đa {max_length} mục", "at most {max_length} items")
_WHOLE_NUMBER = ("phải là số nguyên", "must be a whole number")
_NUMBER = ("phải là số", "must be a number")
_BOOLEAN = ("phải là true hoặc false", "must be true or false")
_DATE = ("phải là ngày dạng YYYY-MM-DD", "must be a date written YYYY-MM-DD")
_DATETIME = (
    "phải là thời điểm ISO 8601, ví dụ 2026-11-26T10:00:00+07:00",
    "must be an ISO 8601 date and time",
)
_LIST = ("phải là danh sách", "must be a list")
_OBJECT = ("phải là đối tượng JSON", "must be a JSON object")
_URL = ("không phải địa chỉ URL hợp lệ", "not a valid URL")
_CHOICE = ("phải là một trong: {expected}", "must be one of: {expected}")
_LIMIT_KEYS = {"gt", "ge", "lt", "le"}
MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("bắt buộc phải có", "required"),
    "extra_forbidden": ("trường này không được nhận", "unexpected field"),
    "json_invalid": (
        "JSON không đọc được ở ký tự {position}",
        "invalid JSON at character {position}: {error}",
    ),
    "json_type": ("phải là chuỗi JSON", "must be JSON text"),
    "string_type": ("phải là chuỗi ký tự", "must be text"),
    "string_unicode": ("phải là văn bản Unicode", "must be valid Unicode text"),
    "string_not_ascii": ("chỉ được dùng ký tự ASCII", "ASCII characters only"),
    "string_pattern_mismatch": ("không đúng định dạng", "does not match the expected format"),
    "int_type": _WHOLE_NUMBER,
    "int_parsing": _WHOLE_NUMBER,
    "int_from_float": _WHOLE_NUMBER,
    "int_parsing_size": ("số quá lớn", "number too large"),
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": ("phải là số hữu hạn", "must be a finite number"),
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "bool_type": _BOOLEAN,
    "bool_parsing": _BOOLEAN,
    "greater_than": ("phải lớn hơn {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("phải từ {ge} trở lên", "must be at least {ge}"),
    "less_than": ("quá lớn, phải nhỏ hơn {lt}", "too large: must be less than {lt}"),
    "less_than_equal": ("quá lớn, tối đa là {le}", "too large: at most {le}"),
    "multiple_of": ("phải là bội số của {multiple_of}", "must be a multiple of {multiple_of}"),
    "enum": _CHOICE,
    "literal_error": _CHOICE,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "datetime_object_invalid": _DATETIME,
    "timezone_naive": ("cần múi giờ", "a time zone offset is required"),
    "timezone_aware": ("không được có múi giờ", "no time zone offset allowed"),
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "iterable_type": _LIST,
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "url_type": _URL,
    "url_parsing": _URL,
    "url_syntax_violation": _URL,
    "url_too_long": ("địa chỉ URL quá dài (tối đa {max_length} ký tự)", "URL too long"),
    "url_scheme": (
        "địa chỉ URL phải bắt đầu bằng {expected_schemes}",
        "URL scheme should be {expected_schemes}",
    ),
    "uuid_type": ("phải là UUID", "must be a UUID"),
    "uuid_parsing": ("phải là UUID", "must be a UUID"),
}


def field_message(error: Mapping[str, Any]) -> str:
    """The message for one pydantic error: Vietnamese first, English second in brackets, with
    the limits the schema states."""
    kind = str(error.get("type", ""))
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "string_pattern_mismatch" and ctx.get("pattern") in patterns.RULES:
        rule = patterns.RULES[ctx["pattern"]]
        return f"không đúng định dạng: {rule.vi} ({rule.en})"
    if kind == "json_invalid":  # its location is (body, character position)
        ctx["position"] = next(iter(error.get("loc", ())[1:]), 0)
    if kind in {"value_error", "assertion_error"}:
        return _own_message(str(ctx.get("error") or error.get("msg", "")))
    # `too_short`/`too_long` come from a length constraint placed after a validator: on text
    # (field_type "Value") it counts characters, on a list items.
    is_text = kind.startswith("string_") or ctx.get("field_type", "Value") == "Value"
    if kind in {"string_too_short", "too_short"}:
        vi, en = _AT_LEAST_CHARS if is_text else _AT_LEAST_ITEMS
        if is_text and ctx.get("min_length") == 1:
            vi, en = _NOT_EMPTY
    elif kind in {"string_too_long", "too_long"}:
        vi, en = _AT_MOST_CHARS if is_text else _AT_MOST_ITEMS
    elif kind in MESSAGES:
        vi, en = MESSAGES[kind]
    else:
        return f"giá trị không hợp lệ ({error.get('msg', 'invalid value')})"
    try:
        return f"{_vi(vi.format(**_limits(ctx, '.')))} ({en.format(**_limits(ctx, ','))})"
    except (KeyError, IndexError, ValueError):
        return f"{_vi(vi)} ({error.get('msg', en)})"


def _limits(ctx: dict[str, Any], thousands: str) -> dict[str, Any]:
    """Whole-number limits written with thousands separators (1.000.000 in Vietnamese, 1,000,000
    in English), so a limit of đồng reads as money does."""
    return {
        key: f"{value:,}".replace(",", thousands)
        if key in _LIMIT_KEYS and isinstance(value, int) and not isinstance(value, bool)
        else value
        for key, value in ctx.items()
    }


def _vi(text: str) -> str:
    return text.replace("' or '", "' hoặc '")


def _own_message(text: str) -> str:
    """A validator's own message, without pydantic's "Value error, " / "Assertion failed, "
    prefix. Ours are Vietnamese first already; a message in English only is wrapped."""
    for prefix in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(prefix)
    if text.isascii():
        return f"giá trị không hợp lệ ({text})"
    return text


# Domain rules name a field's problem by a short code and an English reason; the problem answer
# puts Vietnamese before it, by the code (a message that has Vietnamese already is kept).
DOMAIN_FIELD_VI: dict[str, str] = {
    "duplicate": "đã tồn tại",
    "required": "bắt buộc phải có",
    "not-found": "không tìm thấy",
    "not-allowed": "không được phép",
    "invalid-state": "trạng thái không cho phép",
    "stall-occupied": "ki-ốt đã có tiểu thương",
    "overlap": "trùng thời gian với lần thuê trước",
    "before-start": "trước ngày bắt đầu",
    "card-length": "số thẻ phải có 16-19 chữ số",
    "default-required": "tiểu thương cần một tài khoản mặc định",
    "missing-column": "thiếu cột",
    "amount-override": "số tiền khác với mã",
    "amount-required": "cần số tiền",
    "day-not-over": "ngày chưa kết thúc",
    "out-of-range": "ngoài khoảng cho phép",
    "unknown-scenario": "không có kịch bản này",
    "unknown-parameter": "không có tham số này",
    "invalid-phone": "không phải số di động Việt Nam",
    "invalid-pin": "mã PIN gồm đúng 6 chữ số",
}


def vietnamese_first(error: FieldError) -> FieldError:
    """`error` with its message Vietnamese first, English second."""
    if not error.message.isascii():
        return error
    vietnamese = DOMAIN_FIELD_VI.get(error.code, "không hợp lệ")
    return replace(error, message=f"{vietnamese} ({error.message})")
