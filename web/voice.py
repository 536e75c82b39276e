"""What the soundbox says: an amount of đồng read the Vietnamese way, as a sequence of clip keys
the vendor's page plays one after another (the page only plays; every reading rule is here).

Reading rules (the northern reading banks' soundboxes use):
- groups of three digits, each followed by its unit: nghìn, triệu, tỷ (then nghìn tỷ …);
- inside a group: "mười" for 1x, "mươi" after 2–9 tens; 1 after mươi is "mốt", 4 after mươi is
  "tư", 5 after mười or mươi is "lăm"; a lone unit after hundreds takes "lẻ" (105 → một trăm
  lẻ năm);
- a group after the first that has no hundreds still says "không trăm" (1.015 → một nghìn
  không trăm mười lăm), so a listener never confuses 1.015 with 1.150; all-zero groups are
  silent (21.000.000 → hai mươi mốt triệu).

Tone marks are phonemic, so clip keys are explicit ASCII names (`muoi_huyen` "mười" vs `muoi`
"mươi", `mot` vs `mot_sac`, `nam` vs `lam`); `WORDS` maps each key to its written word."""

from __future__ import annotations

WORDS: dict[str, str] = {
    "khong": "không",
    "mot": "một",
    "mot_sac": "mốt",
    "hai": "hai",
    "ba": "ba",
    "bon": "bốn",
    "tu": "tư",
    "nam": "năm",
    "lam": "lăm",
    "sau": "sáu",
    "bay": "bảy",
    "tam": "tám",
    "chin": "chín",
    "muoi_huyen": "mười",
    "muoi": "mươi",
    "tram": "trăm",
    "le": "lẻ",
    "nghin": "nghìn",
    "trieu": "triệu",
    "ty": "tỷ",
    "da_nhan": "đã nhận",
    "dong": "đồng",
    # the catch-up summary and the tiny-credit warning
    "mat_ket_noi": "trong lúc mất kết nối đã nhận",
    "khoan": "khoản",
    "tong": "tổng",
    "canh_bao": "chú ý, số tiền rất nhỏ",
}
CHIME = "chime"  # a short tone before every announcement (a clip, not a word)
DIGITS = ("khong", "mot", "hai", "ba", "bon", "nam", "sau", "bay", "tam", "chin")
UNITS = ("", "nghin", "trieu", "ty")  # then "nghìn tỷ", "triệu tỷ" …
TINY_CREDIT = 1_000  # below this a credit is suspicious (the 200-đồng scam): a warning is said


def _group(value: int, *, full: bool) -> list[str]:
    """One group of three digits (1–999). `full`: a group after the first, whose missing
    hundreds are said ("không trăm")."""
    hundreds, tens, units = value // 100, value // 10 % 10, value % 10
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "tram"]
    if tens == 0:
        if units:
            words += ["le", DIGITS[units]] if words else [DIGITS[units]]
        return words
    words += ["muoi_huyen"] if tens == 1 else [DIGITS[tens], "muoi"]
    if units == 1 and tens > 1:
        words.append("mot_sac")
    elif units == 4 and tens > 1:
        words.append("tu")
    elif units == 5:
        words.append("lam")
    elif units:
        words.append(DIGITS[units])
    return words


def _unit(index: int) -> list[str]:
    """The unit after the group `index` places from the right (0: none, 1: nghìn, 2: triệu,
    3: tỷ, 4: nghìn tỷ, …)."""
    words: list[str] = []
    while index >= 3:
        words.insert(0, "ty")
        index -= 3
    return ([UNITS[index]] if index else []) + words


def number_keys(amount: int) -> list[str]:
    """The clip keys reading a whole number ≥ 0: 105000 → một trăm lẻ năm nghìn."""
    if amount < 0:
        raise ValueError("only amounts ≥ 0 are read")
    if amount == 0:
        return ["khong"]
    groups: list[int] = []
    while amount:
        groups.insert(0, amount % 1000)
        amount //= 1000
    keys: list[str] = []
    for position, value in enumerate(groups):
        if value == 0:
            continue
        keys += _group(value, full=position > 0)
        keys += _unit(len(groups) - 1 - position)
    return keys


def amount_keys(amount: int) -> list[str]:
    """An amount with its unit: 150000 → một trăm năm mươi nghìn đồng."""
    return [*number_keys(amount), "dong"]


def announcement(amount: int) -> list[str]:
    """What is played for one payment: chime, "đã nhận", the amount, "đồng"; a tiny credit
    gets the warning after it."""
    keys = [CHIME, "da_nhan", *amount_keys(amount)]
    if amount < TINY_CREDIT:
        keys.append("canh_bao")
    return keys


def summary(count: int, total: int) -> list[str]:
    """One catch-up summary after a lost connection: "trong lúc mất kết nối đã nhận 3 khoản,
    tổng 450.000 đồng"."""
    return [CHIME, "mat_ket_noi", *number_keys(count), "khoan", "tong", *amount_keys(total)]


def spoken(keys: list[str]) -> str:
    """The words a sequence says (the chime is silent), for the screen and for tests."""
    return " ".join(WORDS[k] for k in keys if k != CHIME)
