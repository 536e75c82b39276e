"""Vietnamese text rules: folding, NFC, stall codes, phones, holder names, money display."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from market.text import (
    InvalidPhoneError,
    InvalidStallCodeError,
    alnum_key,
    canonical_stall_code,
    fold,
    holder_name,
    nfc,
    normalise_mobile,
)

VIETNAMESE_LETTERS = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"


def test_fold_examples() -> None:
    assert fold("Nguyễn Thị Hường") == "nguyen thi huong"
    assert fold("ĐẶNG  Văn Đức") == "dang van duc"
    assert fold(unicodedata.normalize("NFD", "Hường")) == "huong"


@given(st.text(alphabet=VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper() + " -0123456789"))
def test_fold_is_ascii_and_same_for_nfc_and_nfd(text: str) -> None:
    folded = fold(text)
    assert folded.isascii()
    assert folded == fold(unicodedata.normalize("NFD", text)) == fold(nfc(text))
    assert fold(folded) == folded


@given(st.text(alphabet=VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper()))
def test_nfc_counts_vietnamese_letters_once(text: str) -> None:
    assert len(nfc(unicodedata.normalize("NFD", text))) == len(
        unicodedata.normalize("NFC", text).strip()
    )


@pytest.mark.parametrize("variant", ["b12", "B 12", "B-12", "b-12", " b_12 "])
def test_stall_code_variants(variant: str) -> None:
    assert canonical_stall_code(variant) == "B-12"
    assert alnum_key(variant) == "b12"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("k3a", "K-3-A"),
        ("Ô 5", "O-5"),
        ("đ.10", "D-10"),
        ("A/12", "A-12"),
        ("B - 12", "B-12"),
        ("g 2", "G-2"),
    ],
)
def test_stall_codes_that_canonicalise_cleanly(text: str, code: str) -> None:
    assert canonical_stall_code(text) == code


@pytest.mark.parametrize(
    "junk", ["ô@#", "---", "", "B--12", "B-.12", "-B12", "B12-", "B#12", "B\u200b12", "Ⅻ", "B+12"]
)
def test_junk_stall_codes_are_refused_with_the_rule(junk: str) -> None:
    with pytest.raises(InvalidStallCodeError) as refused:
        canonical_stall_code(junk)
    assert "chữ cái và chữ số" in str(refused.value)


@given(st.text(max_size=12))
def test_a_stall_code_is_refused_or_keeps_its_letters_and_digits(text: str) -> None:
    try:
        code = canonical_stall_code(text)
    except InvalidStallCodeError:
        return
    assert re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", code)
    assert alnum_key(code) == alnum_key(text)


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("0386123456", "+84386123456"),
    ],
)
def test_phone_forms(text: str, e164: str) -> None:
    assert normalise_mobile(text) == e164


@pytest.mark.parametrize(
    "text", ["02163851234", "0212345678", "01234567890", "12345", "", "+1 650 253 0000"]
)
def test_not_vietnamese_mobiles(text: str) -> None:
    with pytest.raises(InvalidPhoneError):
        normalise_mobile(text)


def test_holder_name() -> None:
    assert holder_name("Đặng Thị Ợt") == "DANG THI OT"
