"""Languages and formats of the pages: Vietnamese first (the msgids are Vietnamese), English from
the gettext catalog `web/locale/en/LC_MESSAGES/messages.po`, compiled in memory when the app
starts (so `pip install -e .` needs no build step). Dates `01/12/2026`, times in
Asia/Ho_Chi_Minh, money `150.000 ₫` with a no-break space."""

from __future__ import annotations

import gettext
from datetime import date, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from market.clock import MARKET_TZ
from qr.amounts import format_vnd

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"


def N_(message: str) -> str:  # noqa: N802  (gettext's conventional name for "mark only")
    """Mark a message for extraction; the template translates it when it shows it."""
    return message


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalog for `lang`, compiled from its .po file once per process."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def pick(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def money(amount: int | None) -> str:
    return "" if amount is None else format_vnd(int(amount))


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(MARKET_TZ).date()
    return f"{value:%d/%m/%Y}"


def moment(value: datetime | None) -> str:
    """An instant as the market's local time: 01/12/2026 07:05."""
    if value is None:
        return ""
    return f"{value.astimezone(MARKET_TZ):%d/%m/%Y %H:%M}"


def percent(value: float | None, lang: str = DEFAULT) -> str:
    """0.425 → "42,5 %" in Vietnamese, "42.5 %" in English; None → "–"."""
    if value is None:
        return "–"
    text = f"{value * 100:.1f}"
    if lang == "vi":
        text = text.replace(".", ",")
    return f"{text}\u00a0%"


def number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def measure(value: float, lang: str = DEFAULT) -> str:
    """A measured quantity to two decimals at most, as people write it and as the forms read it
    back: 12.0 → "12", 6.5 → "6,5" in Vietnamese ("6.5" in English); no thousands grouping."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if lang == "vi" else text


def area(value: float, lang: str = DEFAULT) -> str:
    """A stall's floor area: 12.0 → "12 m²", 6.5 → "6,5 m²" in Vietnamese."""
    return f"{measure(value, lang)} m²"


# The goods categories' labels come from market/registry/models.py; listed here so the catalog
# extractor sees them (a test keeps this list equal to CATEGORY_LABELS).
CATEGORY_MSGIDS = (
    N_("Rau củ"),
    N_("Trái cây"),
    N_("Thịt tươi sống"),
    N_("Cá, thủy sản"),
    N_("Gạo, ngũ cốc"),
    N_("Đồ khô, gia vị"),
    N_("Tạp hóa"),
    N_("Ăn uống, đồ chín"),
    N_("Quần áo, vải vóc"),
    N_("Giày dép"),
    N_("Đồ gia dụng"),
    N_("Mỹ phẩm"),
    N_("Hoa tươi"),
    N_("Điện thoại, điện tử"),
    N_("Vật tư nông nghiệp"),
    N_("Dịch vụ"),
    N_("Khác"),
)
