"""The bank BIN directory (NAPAS/SBV BINs of banks and e-wallets), packaged as `data/banks.csv`.

Banks are matched on their 6-digit BIN, never on short codes: codes differ between sources and
even collide (see the `notes` column of the CSV)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from qr.text import strip_diacritics


@dataclass(frozen=True)
class Bank:
    """One entry of the directory."""

    bin: str
    short_name: str
    name: str
    code: str
    swift_code: str
    kind: str


def _fold(text: str) -> str:
    return strip_diacritics(text).casefold()


@lru_cache(maxsize=1)
def all_banks() -> tuple[Bank, ...]:
    """Every bank in the directory, ordered by short name."""
    text = files("qr").joinpath("data/banks.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    banks = [
        Bank(
            bin=row["bin"].strip(),
            short_name=row["short_name"].strip(),
            name=row["name"].strip(),
            code=row["code"].strip(),
            swift_code=row["swift_code"].strip(),
            kind=row["kind"].strip(),
        )
        for row in rows
    ]
    return tuple(sorted(banks, key=lambda b: _fold(b.short_name)))


@lru_cache(maxsize=1)
def _by_bin() -> dict[str, Bank]:
    return {bank.bin: bank for bank in all_banks()}


def bank_by_bin(bin_code: str) -> Bank | None:
    """The bank with this BIN, or None."""
    return _by_bin().get(bin_code)


def search_banks(query: str) -> list[Bank]:
    """Banks whose BIN, short name, code and full name together contain every word of `query`,
    ignoring diacritics and case ("vietin", "cong thuong", "970415")."""
    words = _fold(query).split()
    return [
        bank
        for bank in all_banks()
        if all(
            word in _fold(f"{bank.bin} {bank.short_name} {bank.code} {bank.name}") for word in words
        )
    ]
