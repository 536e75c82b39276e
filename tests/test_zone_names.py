"""Zones as people write them: codes and names in any case, with or without diacritics or a
leading "Khu"/"Dãy", name the same zone; other text reads as the zone it would create."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.registry.models import Zone
from market.registry.zone_names import NewZone, read_zone

ZONES = [
    Zone(id=1, market_id=1, code="A", name="Khu A"),
    Zone(id=2, market_id=1, code="B", name="Dãy hàng khô"),
    Zone(id=3, market_id=1, code="RAU", name="Khu rau"),
]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A", "A"),
        ("a", "A"),
        ("Khu A", "A"),
        ("khu a", "A"),
        ("KHU-A", "A"),
        ("Dãy A", "A"),
        ("day a", "A"),
        ("B", "B"),
        ("dãy hàng khô", "B"),
        ("DAY HANG KHO", "B"),
        ("Khu rau", "RAU"),
        ("rau", "RAU"),
    ],
)
def test_texts_that_name_a_zone(text: str, code: str) -> None:
    zone = read_zone(text, ZONES)
    assert isinstance(zone, Zone)
    assert zone.code == code


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("Dãy D", NewZone("D", "Dãy D")),
        ("E", NewZone("E", "Khu E")),
        ("khu  c2", NewZone("C2", "khu c2")),
        ("Lô 7", NewZone("7", "Lô 7")),
    ],
)
def test_texts_that_name_a_new_zone(text: str, new: NewZone) -> None:
    assert read_zone(text, ZONES) == new


@pytest.mark.parametrize("text", ["Khu thực phẩm tươi sống", "---", "Khu", "Khu \x07X"])
def test_texts_that_name_no_zone(text: str) -> None:
    assert read_zone(text, ZONES) is None


codes = st.text(alphabet="ABCDEFGHKLMNPQRSTUVXY0123456789", min_size=1, max_size=12)


@given(codes, st.sampled_from(["{}", "Khu {}", "khu {}", "Dãy {}", "DAY-{}", "{} "]))
def test_an_existing_code_is_found_however_written(code: str, form: str) -> None:
    zone = Zone(id=9, market_id=1, code=code, name="Chợ cá")
    found = read_zone(form.format(code.lower()), [*ZONES, zone])
    if code in {"A", "B", "RAU"}:
        return  # the fixed zones above already own these codes
    assert found is zone
