"""Zones as people write them in a spreadsheet: "Khu A", "khu a", "KHU-A", "Dãy A" and "A" all
name zone A. Text that names no zone of the market reads as a zone to create, with the code it
spells ("Dãy D" → code D, named "Dãy D"; "E" → code E, named "Khu E"), or as nothing when it
spells no zone code (more than 12 letters and digits)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import ValidationError

from market.registry.models import Zone, ZoneCreate
from market.text import alnum_key, fold, nfc

# Words that introduce a zone's code, folded: khu (zone), dãy (row), lô (lot), nhà (hall).
_ZONE_WORDS = frozenset({"khu", "day", "lo", "nha", "zone"})
_WORD_BREAKS = re.compile(r"[\s\-_.:]+")
MAX_ZONE_CODE = 12
ZONE_RULE_VI = (
    "khu chưa có trong chợ và không đọc được mã khu mới: viết tên hoặc mã khu đã có, hoặc mã "
    f"khu mới tối đa {MAX_ZONE_CODE} chữ cái và chữ số (ví dụ 'Khu A', 'Dãy B', 'C')"
)


@dataclass(frozen=True)
class NewZone:
    """A zone the text names that the market does not have yet."""

    code: str
    name: str


def read_zone(text: str, zones: list[Zone]) -> Zone | NewZone | None:
    """The zone of `zones` that `text` names (by code, then by name, then by the code after a
    word such as "Khu" or "Dãy"; case and diacritics ignored), else the zone it would create,
    else None."""
    key = alnum_key(text)
    words = [word for word in _WORD_BREAKS.split(fold(text)) if word]
    prefixed = len(words) > 1 and words[0] in _ZONE_WORDS
    bare = alnum_key("".join(words[1:])) if prefixed else key
    found = (
        next((zone for zone in zones if alnum_key(zone.code) == key), None)
        or next((zone for zone in zones if fold(zone.name) == fold(text)), None)
        or next((zone for zone in zones if alnum_key(zone.code) == bare), None)
    )
    if found is not None:
        return found
    if not bare or len(bare) > MAX_ZONE_CODE or (words == [bare] and bare in _ZONE_WORDS):
        return None  # no code, too long a code, or a lone "Khu"
    code = bare.upper()
    try:
        new = ZoneCreate(code=code, name=nfc(text) if prefixed else f"Khu {code}")
    except ValidationError:
        return None  # a name with control characters or over 80 characters
    return NewZone(new.code, new.name)
