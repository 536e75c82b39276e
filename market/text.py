"""Vietnamese text rules: NFC at input, folded search keys, stall codes, phones, holder names."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from qr.text import strip_diacritics

_STALL_CODE_PARTS = re.compile(r"[A-Z]+|[0-9]+")
# Letters and digits in groups, each pair of groups joined by nothing, one space, or one of
# - _ . / (spaces allowed around it): "B-12", "b 12", "K3A", "A / 12".
_CLEAN_STALL_CODE = re.compile(r"[A-Za-z0-9]+(?:(?: ?[-_./] ?| )[A-Za-z0-9]+)*")
STALL_CODE_RULE_VI = (
    "mã ki-ốt chỉ gồm chữ cái và chữ số, ngăn cách bởi một dấu '-', '_', '.', '/' hoặc khoảng "
    "trắng, ví dụ B-12"
)
STALL_CODE_RULE = (
    f"{STALL_CODE_RULE_VI} (stall code: letters and digits, separated by single '-', '_', '.', "
    "'/' or spaces, e.g. B-12)"
)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    """The NFC form of `text` with outer whitespace trimmed and inner runs of spaces collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """The search key of `text`: no diacritics, casefolded, single-spaced, printable characters
    only ("Hường" → "huong")."""
    printable = "".join(ch for ch in strip_diacritics(text) if ch.isprintable() or ch.isspace())
    return _SPACES.sub(" ", printable.casefold()).strip()


def alnum_key(text: str) -> str:
    """Only the letters and digits of the folded text ("B-12", "b 12" → "b12")."""
    return _NON_ALNUM.sub("", fold(text))


class InvalidStallCodeError(ValueError):
    """The text is not a stall code: something besides letters, digits and single separators."""

    def __init__(self, text: str) -> None:
        super().__init__(STALL_CODE_RULE)
        self.text = text


def canonical_stall_code(text: str) -> str:
    """The display form of a stall code: upper case, letter and digit groups joined by '-'
    ("b12", "B 12", "b-12" → "B-12"; "k3a" → "K-3-A"; "Ô 5" → "O-5"). Text that does not
    canonicalise cleanly ("ô@#", "B--12", "---") raises `InvalidStallCodeError`, whose message
    states the rule."""
    ascii_text = strip_diacritics(nfc(text))
    if not _CLEAN_STALL_CODE.fullmatch(ascii_text):
        raise InvalidStallCodeError(text)
    return "-".join(_STALL_CODE_PARTS.findall(ascii_text.upper()))


def natural_key(code: str) -> tuple[tuple[int, int, str], ...]:
    """A sort key that reads the numbers in a code as numbers: "G-2" before "G-10", "B-3"
    before "B-3-A" before "B-12"."""
    parts = _STALL_CODE_PARTS.findall(strip_diacritics(code).upper())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def holder_name(full_name: str) -> str:
    """An account holder name as Vietnamese banks display it: capitals, no diacritics."""
    return _SPACES.sub(" ", strip_diacritics(nfc(full_name)).upper()).strip()


class InvalidPhoneError(ValueError):
    """The text is not a Vietnamese mobile number."""


def normalise_mobile(text: str) -> str:
    """A Vietnamese mobile number in E.164 (`+849…`); accepts 09x…, +849x…, 849x…, spaces, dots."""
    cleaned = re.sub(r"[\s.\-()]", "", text)
    if cleaned.startswith("84") and len(cleaned) == 11:
        cleaned = "+" + cleaned
    try:
        number = phonenumbers.parse(cleaned, "VN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneError(text) from exc
    if number.country_code != 84 or not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError(text)
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        raise InvalidPhoneError(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_as_written(e164: str | None) -> str:
    """A stored number as people write it at home: `+84912345679` → "0912 345 679" (anything
    that does not parse is shown as stored)."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def phone_search_keys(e164: str) -> str:
    """Digit strings a person might type for a stored phone: `+84912…` → "84912… 0912…"."""
    digits = e164.lstrip("+")
    return f"{digits} 0{digits[2:]}" if digits.startswith("84") else digits


def mask_digits(value: str, visible: int = 4) -> str:
    """All but the last `visible` characters replaced by '•' ("012345678901" → "••••••••8901");
    a value no longer than `visible` is hidden whole ("123" → "•••")."""
    if len(value) <= visible:
        return "•" * len(value)
    return "•" * (len(value) - visible) + value[-visible:]
