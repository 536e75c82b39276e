"""Amounts of đồng for people: digits with dot thousands ("150.000 ₫") and Vietnamese words with
the unit ("Một trăm năm mươi nghìn đồng"), as printed on per-sale codes and read aloud."""

from __future__ import annotations

from functools import lru_cache

from num2words import num2words


def format_vnd(amount: int) -> str:
    """150000 → "150.000 ₫" (dot thousands, no-break space before the sign)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount):,}".replace(",", ".") + "\u00a0₫"


@lru_cache(maxsize=4096)
def amount_in_words(amount: int) -> str:
    """150000 → "Một trăm năm mươi nghìn đồng" (kept for the amounts a market pays over and over:
    every payment's event carries its amount in words)."""
    if amount < 0:
        raise ValueError("amounts in words are for positive amounts")
    words = str(num2words(amount, lang="vi"))
    return f"{words[0].upper()}{words[1:]} đồng"
