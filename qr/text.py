"""Vietnamese letters as ASCII: the one rule for stripping tone and vowel marks, shared by the
VietQR fields, the bank search and the registry's search keys."""

from __future__ import annotations

import unicodedata


def strip_diacritics(text: str) -> str:
    """ "Chợ Mậu A" → "Cho Mau A"; đ/Đ → d/D (NFD, then combining marks dropped)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
