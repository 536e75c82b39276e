"""The model's parameters and numbers as a planner reads them: each parameter's Vietnamese label
and unit (the table is `simulator.params.LABELS`, next to the parameters), numbers with the
Vietnamese decimal comma and never in scientific notation, and the reading of a number a
person typed ("0,7" or "0.7"; a list separated by ";", spaces or lines)."""

from __future__ import annotations

import math
import re
from typing import Any

from simulator.params import LABELS, SCENARIO_LABELS, Params

MINUS = "\u2212"  # a proper minus sign, not a hyphen
DEFAULTS = Params()
# one value: digits with a decimal comma or point, "1.234,5" with dot thousands, or 1e-4
_SINGLE = re.compile(r"^[-+]?(\d+([.,]\d+)?|\d{1,3}(\.\d{3})+(,\d+)?)([eE][-+]?\d+)?$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")


def label(name: str) -> str:
    """The parameter's Vietnamese label, or the name itself for something not a parameter."""
    return LABELS[name][0] if name in LABELS else name


def scenario_label(name: str) -> str:
    """A scenario's Vietnamese label ("Gấp đôi tổ CĐS"), or its name if it has none."""
    return SCENARIO_LABELS.get(name, name)


def unit(name: str) -> str:
    return LABELS[name][1] if name in LABELS else ""


def decimal(value: float | int | None, lang: str = "vi", digits: int = 3) -> str:
    """8000 → "8.000", 0.65 → "0,65", 8.2e-05 → "0,0000822" (about `digits` significant
    digits, never scientific notation), -2.0 → "−2"; English keeps the point and commas."""
    if value is None:
        return "–"
    number = float(value)
    if number == 0 or not math.isfinite(number):
        return "0" if number == 0 else str(number)
    places = max(0, digits - 1 - math.floor(math.log10(abs(number))))
    text = f"{abs(number):,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return (MINUS if number < 0 else "") + text


def is_share(name: str) -> bool:
    """A parameter between 0 and 1 read as a share or probability (shown also as a percent)."""
    return name in LABELS and LABELS[name][1].startswith(("tỉ lệ", "xác suất"))


def shown(name: str, value: Any, lang: str = "vi") -> str:
    """A parameter's value as a person reads it: "0,65 (65 %)", "8.000", "1,6; 0,6; …"."""
    if isinstance(value, tuple | list):
        return "; ".join(decimal(v, lang) for v in value)
    text = decimal(value, lang)
    if is_share(name) and 0 < float(value) <= 1:
        return f"{text} ({decimal(100 * float(value), lang)}\u00a0%)"
    return text


def default(name: str, lang: str = "vi") -> str:
    return shown(name, getattr(DEFAULTS, name), lang)


def read_number(raw: str, *, whole: bool = False) -> float | None:
    """What a person typed as one number, or None: "0,7" and "0.7" are both 0.7, "1.234,5" is
    1234.5, spaces are ignored; for a whole-number parameter "8.000" is eight thousand."""
    text = raw.replace(" ", "").replace("\u00a0", "").replace(MINUS, "-")
    if not _SINGLE.match(text):
        return None
    if "," in text or (whole and _THOUSANDS.match(text)):
        text = text.replace(".", "").replace(",", ".")
    return float(text)


def split_list(raw: str) -> list[str]:
    """A list a person typed: values separated by ";", spaces or lines (so "0,5; 0,8" is two
    values with decimal commas); a comma directly before a space also separates ("0, 240")."""
    return [item.rstrip(",") for item in re.split(r"[;\s]+", raw) if item.rstrip(",")]
