"""Text formats the registry accepts: each regular expression beside the rule a person reads,
so a refusal states the rule ("gồm đúng 12 chữ số"), never the expression."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    regex: str
    vi: str
    en: str


BANK_BIN = Format(r"^[0-9]{6}$", "gồm đúng 6 chữ số", "exactly 6 digits")
ACCOUNT_NUMBER = Format(r"^[0-9]{1,19}$", "chỉ gồm chữ số, tối đa 19 số", "1 to 19 digits")
NATIONAL_ID = Format(r"^[0-9]{12}$", "gồm đúng 12 chữ số", "exactly 12 digits")
TAX_CODE = Format(
    r"^[0-9]{10}(-[0-9]{3})?$|^[0-9]{12}$",
    "10 chữ số, có thể thêm -3 chữ số của chi nhánh, hoặc 12 chữ số",
    "10 digits, optionally -NNN, or 12 digits",
)
MARKET_CODE = Format(
    r"^[a-z0-9]+(-[a-z0-9]+)*$",
    "chữ thường không dấu, chữ số và dấu gạch ngang giữa các phần, ví dụ mau-a",
    "lowercase letters and digits in parts joined by single hyphens, e.g. mau-a",
)
ZONE_CODE = Format(
    r"^[A-Za-z0-9-]{1,12}$",
    "1 đến 12 ký tự: chữ không dấu, chữ số hoặc dấu gạch ngang, ví dụ B",
    "1 to 12 letters without accents, digits or hyphens",
)
USERNAME = Format(
    r"^[a-z0-9][a-z0-9._-]{2,63}$",
    "3 đến 64 ký tự: chữ thường không dấu, chữ số, dấu chấm, gạch dưới hoặc gạch ngang,"
    " bắt đầu bằng chữ hoặc số",
    "3 to 64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
)
RULES = {
    f.regex: f
    for f in (BANK_BIN, ACCOUNT_NUMBER, NATIONAL_ID, TAX_CODE, MARKET_CODE, ZONE_CODE, USERNAME)
}
