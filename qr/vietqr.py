"""The VietQR payload codec (NAPAS 247 transfers in EMVCo merchant-presented mode).

`VietQR` is the typed value; `encode` turns it into the payload string; `decode` checks a string
strictly (or, with `lenient=True`, accepts the harmless real-world quirks and reports them as
warnings) and returns the value. Every problem has a stable code and a plain reason in
Vietnamese and English. Lengths count characters after NFC; the CRC covers the UTF-8 bytes.
Rules: EMVCo QR Code Specification for Payment Systems, Merchant-Presented Mode (tags, lengths,
CRC-16/CCITT-FALSE), and NAPAS, "Tài liệu quy định về định dạng mã VietQR trong dịch vụ chuyển
nhanh NAPAS247" v1.0 (2021) for tag 38, its service codes and the Vietnamese fields.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass, field, fields

from qr.amounts import format_vnd
from qr.banks import bank_by_bin
from qr.crc import payload_crc
from qr.text import strip_diacritics
from qr.tlv import DataObject, TLVError, format_object, parse

NAPAS_GUID = "A000000727"
VNPAY_GUID = "A000000775"
CURRENCY_VND = "704"
COUNTRY_VN = "VN"
MAX_AMOUNT = 499_999_999  # one NAPAS 247 transfer is below 500,000,000 ₫
MAX_PAYLOAD_CHARS = 512

_ANS = re.compile(r"^[\x20-\x7e]*$")
_AMOUNT = re.compile(r"^[0-9]+\.?$")
_HEX4 = re.compile(r"^[0-9A-Fa-f]{4}$")
_ADDITIONAL_TAGS = {"01", "02", "03", "04", "05", "06", "07", "08"}


class Initiation(enum.StrEnum):
    STATIC = "11"  # reusable, the payer types the amount: a printed stall board
    DYNAMIC = "12"  # one transaction, usually with an amount: a per-sale code


class Service(enum.StrEnum):
    ACCOUNT = "QRIBFTTA"  # 24/7 transfer to a bank account (or wallet account)
    CARD = "QRIBFTTC"  # 24/7 transfer to a card number


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a payload or a value: a stable code, a reason and the tag concerned."""

    code: str
    reason: str
    tag: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "reason": self.reason, "tag": self.tag}


class VietQRError(ValueError):
    """The payload or value is not acceptable; `problems` says every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.code}: {p.reason}" for p in problems))

    @property
    def code(self) -> str:
        return self.problems[0].code


def _ans(text: str | None) -> str | None:
    if text is None:
        return None
    folded = " ".join(strip_diacritics(unicodedata.normalize("NFC", text)).split())
    return folded or None


@dataclass(frozen=True)
class VietQR:
    """A VietQR transfer code. Build one from user input with `VietQR.build` (which strips
    diacritics from the ANS fields); `decode` returns the same type."""

    bin: str
    account: str
    service: Service = Service.ACCOUNT
    initiation: Initiation = Initiation.STATIC
    amount: int | None = None
    memo: str | None = None  # 62.08 purpose of transaction ("nội dung")
    bill_number: str | None = None  # 62.01
    store_label: str | None = None  # 62.03
    reference_label: str | None = None  # 62.05
    terminal_label: str | None = None  # 62.07
    merchant_name: str | None = None  # 59, ASCII
    merchant_city: str | None = None  # 60, ASCII
    name_vi: str | None = None  # 64.01, Vietnamese with diacritics
    city_vi: str | None = None  # 64.02
    mcc: str | None = None  # 52

    @classmethod
    def build(
        cls,
        *,
        bin: str,
        account: str,
        card: bool = False,
        amount: int | None = None,
        memo: str | None = None,
        bill_number: str | None = None,
        store_label: str | None = None,
        reference_label: str | None = None,
        terminal_label: str | None = None,
        merchant_name: str | None = None,
        merchant_city: str | None = None,
        name_vi: str | None = None,
        city_vi: str | None = None,
        mcc: str | None = None,
        initiation: Initiation | None = None,
    ) -> VietQR:
        """A code from user input: text fields NFC-normalised, ANS fields without diacritics,
        dynamic when an amount is given unless `initiation` says otherwise. Raises
        `VietQRError` if anything is out of bounds (nothing is truncated silently)."""
        value = cls(
            bin=bin.strip(),
            account=account.strip(),
            service=Service.CARD if card else Service.ACCOUNT,
            initiation=initiation
            or (Initiation.DYNAMIC if amount is not None else Initiation.STATIC),
            amount=amount,
            memo=_ans(memo),
            bill_number=_ans(bill_number),
            store_label=_ans(store_label),
            reference_label=_ans(reference_label),
            terminal_label=_ans(terminal_label),
            merchant_name=_ans(merchant_name),
            merchant_city=_ans(merchant_city),
            name_vi=" ".join(unicodedata.normalize("NFC", name_vi).split()) or None
            if name_vi
            else None,
            city_vi=" ".join(unicodedata.normalize("NFC", city_vi).split()) or None
            if city_vi
            else None,
            mcc=mcc,
        )
        problems = validate(value)
        if problems:
            raise VietQRError(problems)
        return value


def validate(value: VietQR) -> list[Problem]:
    """Everything that would make `value` an invalid code (empty when it is fine)."""
    problems = _beneficiary_problems(value)
    if value.amount is not None:
        problems += _amount_problems(value.amount)
    if value.initiation is Initiation.STATIC and value.amount is not None:
        problems.append(_static_with_amount())
    problems += _text_problems(value)
    if value.mcc is not None and not re.fullmatch(r"[0-9]{4}", value.mcc):
        problems.append(Problem("bad-mcc", "mã MCC phải có 4 chữ số (MCC: 4 digits)", "52"))
    return problems


def _beneficiary_problems(value: VietQR) -> list[Problem]:
    """The bank BIN and the account or card number (tag 38)."""
    problems: list[Problem] = []
    if not re.fullmatch(r"[0-9]{6}", value.bin):
        problems.append(Problem("bad-bin", "BIN phải gồm 6 chữ số (BIN must be 6 digits)", "38"))
    elif bank_by_bin(value.bin) is None:
        problems.append(_unknown_bin(value.bin))
    if (
        not value.account
        or len(value.account) > 19
        or not re.fullmatch(r"[0-9A-Za-z]+", value.account)
    ):
        problems.append(
            Problem(
                "bad-account",
                "số tài khoản/thẻ phải có 1–19 chữ hoặc số (account: 1-19 letters or digits)",
                "38",
            )
        )
    if value.service is Service.CARD and not re.fullmatch(r"[0-9]{16,19}", value.account):
        problems.append(
            Problem("bad-account", "số thẻ phải có 16–19 chữ số (card: 16-19 digits)", "38")
        )
    return problems


def _text_problems(value: VietQR) -> list[Problem]:
    """The free-text fields: ASCII-only ANS fields and the length limits, Vietnamese in 64."""
    problems: list[Problem] = []
    for name, tag, limit in _ANS_FIELDS:
        text = getattr(value, name)
        if text is None:
            continue
        if not text or not _ANS.match(text):
            problems.append(
                Problem(
                    "non-ans-characters",
                    f"trường {tag} chỉ được dùng chữ không dấu (field {tag}: ASCII letters only)",
                    tag,
                )
            )
        if len(text) > limit:
            problems.append(_too_long(tag, len(text), limit))
    for name, tag, limit in (("name_vi", "64.01", 25), ("city_vi", "64.02", 15)):
        text = getattr(value, name)
        if text is not None and len(text) > limit:
            problems.append(_too_long(tag, len(text), limit))
    if value.city_vi and not value.name_vi:
        problems.append(Problem("missing-tag", "64.02 cần có 64.01 (64.02 needs 64.01)", "64"))
    return problems


_ANS_FIELDS = [
    ("memo", "62.08", 25),
    ("bill_number", "62.01", 25),
    ("store_label", "62.03", 25),
    ("reference_label", "62.05", 25),
    ("terminal_label", "62.07", 25),
    ("merchant_name", "59", 25),
    ("merchant_city", "60", 15),
]
_ADDITIONAL_FIELDS = {
    "01": "bill_number",
    "03": "store_label",
    "05": "reference_label",
    "07": "terminal_label",
    "08": "memo",
}


def _amount_problems(amount: int) -> list[Problem]:
    if isinstance(amount, bool) or not isinstance(amount, int):
        return [Problem("bad-amount", "số tiền phải là số nguyên đồng (integer dong)", "54")]
    if amount <= 0:
        return [Problem("bad-amount", "số tiền phải lớn hơn 0 (amount must be > 0)", "54")]
    if amount > MAX_AMOUNT:
        return [
            Problem(
                "amount-over-limit",
                f"số tiền vượt hạn mức một giao dịch NAPAS 247 (dưới "
                f"{format_vnd(MAX_AMOUNT + 1)}) (over the per-transfer limit)",
                "54",
            )
        ]
    return []


def _too_long(tag: str, length: int, limit: int) -> Problem:
    return Problem(
        "value-too-long",
        f"trường {tag} dài {length} ký tự, tối đa {limit} ({tag}: {length} > {limit} characters)",
        tag,
    )


def _unknown_bin(bin_code: str) -> Problem:
    return Problem(
        "unknown-bin",
        f"BIN {bin_code} không có trong danh mục ngân hàng (unknown bank BIN)",
        "38.01.00",
    )


def _static_with_amount() -> Problem:
    return Problem(
        "static-with-amount",
        "mã tĩnh (01=11) lại có số tiền; mã theo số tiền phải là mã động 01=12 "
        "(static code carries an amount)",
        "01",
    )


# ---------------------------------------------------------------------------------------------
# Encoding


def encode(value: VietQR) -> str:
    """The payload string: tags in ascending order, 63 last, CRC in upper-case hex."""
    problems = validate(value)
    if problems:
        raise VietQRError(problems)
    beneficiary = format_object("00", value.bin) + format_object("01", value.account)
    merchant = (
        format_object("00", NAPAS_GUID)
        + format_object("01", beneficiary)
        + format_object("02", value.service.value)
    )
    parts = [format_object("00", "01"), format_object("01", value.initiation.value)]
    parts.append(format_object("38", merchant))
    if value.mcc:
        parts.append(format_object("52", value.mcc))
    parts.append(format_object("53", CURRENCY_VND))
    if value.amount is not None:
        parts.append(format_object("54", str(value.amount)))
    parts.append(format_object("58", COUNTRY_VN))
    if value.merchant_name:
        parts.append(format_object("59", value.merchant_name))
    if value.merchant_city:
        parts.append(format_object("60", value.merchant_city))
    additional = "".join(
        format_object(tag, getattr(value, name))
        for tag, name in sorted(_ADDITIONAL_FIELDS.items())
        if getattr(value, name)
    )
    if additional:
        if len(additional) > 99:
            raise VietQRError([_too_long("62", len(additional), 99)])
        parts.append(format_object("62", additional))
    if value.name_vi:
        alternate = format_object("00", "vi") + format_object("01", value.name_vi)
        if value.city_vi:
            alternate += format_object("02", value.city_vi)
        parts.append(format_object("64", alternate))
    body = "".join(parts) + "6304"
    return body + payload_crc(body)


# ---------------------------------------------------------------------------------------------
# Decoding


@dataclass(frozen=True)
class Decoded:
    """A decoded VietQR: the value, its CRC as written, and warnings (lenient mode)."""

    value: VietQR
    crc: str
    warnings: tuple[Problem, ...] = ()
    extra_tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VnpayQR:
    """A VNPAY-QR merchant code (root tag 26, GUID A000000775): paid through VNPAY, it carries
    no bank BIN or account, so it is not a NAPAS 247 transfer code."""

    merchant_id: str | None
    mcc: str | None
    merchant_name: str | None
    merchant_city: str | None
    additional: dict[str, str]
    crc: str


class _Collector:
    def __init__(self, lenient: bool) -> None:
        self.lenient = lenient
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, problem: Problem) -> None:
        self.errors.append(problem)

    def quirk(self, problem: Problem) -> None:
        """A deviation real apps accept: an error in strict mode, a warning in lenient mode."""
        (self.warnings if self.lenient else self.errors).append(problem)

    def warn(self, problem: Problem) -> None:
        self.warnings.append(problem)


def decode(payload: str, *, lenient: bool = False) -> Decoded:
    """The VietQR in `payload`, or `VietQRError` listing every problem found. A VNPAY-QR code is
    named as such (code `vnpay-qr`) rather than called garbage."""
    result = decode_any(payload, lenient=lenient)
    if isinstance(result, VnpayQR):
        raise VietQRError(
            [
                Problem(
                    "vnpay-qr",
                    "đây là mã VNPAY-QR của cửa hàng (thẻ 26), thanh toán qua VNPAY, không phải "
                    "mã chuyển khoản VietQR/NAPAS 247 (a VNPAY-QR merchant code, not VietQR)",
                    "26",
                )
            ]
        )
    return result


def decode_any(payload: str, *, lenient: bool = False) -> Decoded | VnpayQR:
    """Like `decode`, but returns a VNPAY-QR merchant code instead of refusing it."""
    if not isinstance(payload, str):
        raise VietQRError([Problem("not-text", "mã QR phải là chuỗi ký tự (payload must be text)")])
    collector = _Collector(lenient)
    text = payload.strip()
    normalised = unicodedata.normalize("NFC", text)
    if normalised != text:
        collector.warn(
            Problem("not-nfc", "chuỗi không ở dạng NFC; đã chuẩn hóa (text was not NFC)")
        )
        text = normalised
    if not text:
        raise VietQRError([Problem("empty", "chuỗi rỗng (empty payload)")])
    if len(text) > MAX_PAYLOAD_CHARS:
        raise VietQRError(
            [Problem("too-long", f"chuỗi dài quá {MAX_PAYLOAD_CHARS} ký tự (payload too long)")]
        )
    crc_written = _check_crc(text, collector)
    try:
        root = parse(text)
    except TLVError as exc:
        collector.error(Problem(exc.code, exc.reason))
        raise VietQRError(collector.errors) from None
    tags = _root_tags(root, text, collector)
    scheme = _scheme(tags, collector)
    if scheme == "vnpay" and not collector.errors:
        return _vnpay(tags, crc_written)
    if scheme != "vietqr":
        raise VietQRError(collector.errors)
    value, extra = _vietqr(tags, collector)
    if collector.errors or value is None:
        raise VietQRError(collector.errors)
    return Decoded(value, crc_written, tuple(collector.warnings), extra)


def _check_crc(text: str, collector: _Collector) -> str:
    if len(text) < 8 or text[-8:-4] != "6304":
        collector.error(
            Problem(
                "crc-missing",
                "không có trường CRC (63, 4 ký tự) ở cuối chuỗi (no CRC object at the end)",
                "63",
            )
        )
        raise VietQRError(collector.errors)
    written = text[-4:]
    if not _HEX4.match(written):
        collector.error(
            Problem(
                "crc-format", f"CRC '{written}' không phải 4 chữ số hex (not 4 hex digits)", "63"
            )
        )
        raise VietQRError(collector.errors)
    computed = payload_crc(text[:-4])
    if written.upper() != computed:
        collector.error(
            Problem(
                "crc-mismatch",
                f"CRC ghi {written.upper()} nhưng tính ra {computed}: mã bị sửa hoặc hỏng "
                f"(CRC mismatch: written {written.upper()}, computed {computed})",
                "63",
            )
        )
    elif written != written.upper():
        collector.quirk(Problem("crc-lowercase", "CRC viết chữ thường (lower-case CRC hex)", "63"))
    return written


def _root_tags(root: list[DataObject], text: str, collector: _Collector) -> dict[str, str]:
    if root[0].tag != "00":
        collector.error(
            Problem("tag-order", "thẻ 00 phải đứng đầu (tag 00 must come first)", root[0].tag)
        )
    if root[-1].tag != "63" or root[-1].position != len(text) - 8:
        collector.error(Problem("tag-order", "thẻ 63 phải đứng cuối (tag 63 must be last)", "63"))
    tags: dict[str, str] = {}
    for obj in root:
        if obj.tag in tags:
            collector.error(
                Problem("duplicate-tag", f"thẻ {obj.tag} lặp lại (duplicate tag)", obj.tag)
            )
        tags[obj.tag] = obj.value
    for tag in ("00", "01"):
        if tag not in tags:
            collector.error(_missing(tag))
    if tags.get("00", "01") != "01":
        collector.error(
            Problem(
                "bad-format-indicator",
                f"thẻ 00 phải là '01', gặp '{tags['00']}' (payload format indicator must be 01)",
                "00",
            )
        )
    return tags


def _missing(tag: str) -> Problem:
    return Problem("missing-tag", f"thiếu thẻ bắt buộc {tag} (missing mandatory tag {tag})", tag)


def _scheme(tags: dict[str, str], collector: _Collector) -> str:
    if "38" in tags and _guid(tags["38"]) == NAPAS_GUID:
        return "vietqr"
    if "26" in tags and _guid(tags["26"]) == VNPAY_GUID:
        return "vnpay"
    if tags.get("01") == "10":
        collector.error(
            Problem(
                "not-vietqr",
                "mã ví cá nhân riêng của VNPay (01=10), không theo chuẩn EMV/VietQR "
                "(proprietary VNPay wallet code)",
                "01",
            )
        )
    else:
        collector.error(
            Problem(
                "not-vietqr",
                "không có thông tin tài khoản VietQR (thẻ 38 với GUID A000000727) "
                "(no VietQR merchant account information)",
                "38",
            )
        )
    return "other"


def _guid(template: str) -> str | None:
    try:
        return next((o.value for o in parse(template) if o.tag == "00"), None)
    except TLVError:
        return None


def _vietqr(tags: dict[str, str], collector: _Collector) -> tuple[VietQR | None, dict[str, str]]:
    initiation = tags.get("01")
    if initiation is not None and initiation not in ("11", "12"):
        collector.error(
            Problem(
                "bad-initiation",
                f"thẻ 01 phải là 11 (tĩnh) hoặc 12 (động), gặp '{initiation}' "
                "(point of initiation must be 11 or 12)",
                "01",
            )
        )
    account = _merchant_account(tags["38"], collector)
    for tag, expected, name in (("53", CURRENCY_VND, "currency"), ("58", COUNTRY_VN, "country")):
        if tag not in tags:
            collector.error(_missing(tag))
        elif tags[tag] != expected:
            collector.error(
                Problem(
                    f"bad-{name}",
                    f"thẻ {tag} phải là '{expected}', gặp '{tags[tag]}' "
                    f"({name} must be {expected})",
                    tag,
                )
            )
    amount = _amount(tags.get("54"), collector)
    if initiation == "11" and amount is not None:
        collector.quirk(_static_with_amount())
    if initiation == "12" and amount is None:
        collector.warn(
            Problem(
                "dynamic-without-amount",
                "mã động (01=12) không có số tiền; người trả sẽ tự nhập "
                "(dynamic code without amount)",
                "01",
            )
        )
    additional = _additional(tags.get("62"), collector)
    texts: dict[str, str | None] = {}
    for tag, limit, name in (("59", 25, "merchant_name"), ("60", 15, "merchant_city")):
        texts[name] = tags.get(tag)
        if tags.get(tag) is not None:
            _check_ans(tag, tags[tag], limit, collector)
    name_vi, city_vi = _alternate(tags.get("64"), collector)
    mcc = tags.get("52")
    if mcc is not None and not re.fullmatch(r"[0-9]{4}", mcc):
        collector.error(Problem("bad-mcc", "mã MCC phải có 4 chữ số (MCC: 4 digits)", "52"))
    known = {"00", "01", "38", "52", "53", "54", "58", "59", "60", "62", "63", "64"}
    extra = {tag: value for tag, value in tags.items() if tag not in known}
    if account is None or initiation not in ("11", "12"):
        return None, extra
    bin_code, number, service = account
    value = VietQR(
        bin=bin_code,
        account=number,
        service=service,
        initiation=Initiation(initiation),
        amount=amount,
        memo=additional.get("08"),
        bill_number=additional.get("01"),
        store_label=additional.get("03"),
        reference_label=additional.get("05"),
        terminal_label=additional.get("07"),
        merchant_name=texts["merchant_name"],
        merchant_city=texts["merchant_city"],
        name_vi=name_vi,
        city_vi=city_vi,
        mcc=mcc,
    )
    return value, extra


def _merchant_account(template: str, collector: _Collector) -> tuple[str, str, Service] | None:
    try:
        objects = {o.tag: o.value for o in parse(template)}
    except TLVError as exc:
        collector.error(Problem(exc.code, f"thẻ 38: {exc.reason}", "38"))
        return None
    if "01" not in objects:
        collector.error(_missing("38.01"))
        return None
    try:
        beneficiary = parse(objects["01"])
    except TLVError as exc:
        collector.error(Problem(exc.code, f"thẻ 38.01: {exc.reason}", "38.01"))
        return None
    inner = {o.tag: o.value for o in beneficiary}
    unexpected = sorted(set(inner) - {"00", "01"})
    if unexpected:
        collector.error(
            Problem(
                "unexpected-tag",
                f"thẻ 38.01 chứa thẻ lạ {', '.join(unexpected)} (unexpected sub-tags in 38.01; "
                "the service code belongs in 38.02)",
                "38.01",
            )
        )
    bin_code, number = inner.get("00"), inner.get("01")
    _check_bin(bin_code, collector)
    _check_number(number, collector)
    service = _service(objects.get("02"), collector)
    if bin_code is None or number is None:
        return None
    return bin_code, number, service


def _check_bin(bin_code: str | None, collector: _Collector) -> None:
    """38.01.00: six digits naming a bank of the directory."""
    if bin_code is None:
        collector.error(_missing("38.01.00"))
    elif not re.fullmatch(r"[0-9]{6}", bin_code):
        collector.error(
            Problem("bad-bin", "BIN phải gồm 6 chữ số (BIN must be 6 digits)", "38.01.00")
        )
    elif bank_by_bin(bin_code) is None:
        collector.error(_unknown_bin(bin_code))


def _check_number(number: str | None, collector: _Collector) -> None:
    """38.01.01: the account or card number, at most 19 letters or digits."""
    if number is None:
        collector.error(_missing("38.01.01"))
    elif len(number) > 19:
        collector.error(_too_long("38.01.01", len(number), 19))
    elif not re.fullmatch(r"[0-9A-Za-z]+", number):
        collector.error(
            Problem(
                "bad-account",
                "số tài khoản chỉ gồm chữ và số (account: letters, digits)",
                "38.01.01",
            )
        )


def _service(service_code: str | None, collector: _Collector) -> Service:
    """38.02: QRIBFTTA (to an account) or QRIBFTTC (to a card); missing reads as an account."""
    if service_code is None:
        collector.quirk(_missing("38.02"))
        return Service.ACCOUNT
    if service_code not in {s.value for s in Service}:
        collector.error(
            Problem(
                "bad-service",
                f"mã dịch vụ '{service_code}' không phải QRIBFTTA/QRIBFTTC "
                "(service code must be QRIBFTTA or QRIBFTTC)",
                "38.02",
            )
        )
        return Service.ACCOUNT
    return Service(service_code)


def _amount(text: str | None, collector: _Collector) -> int | None:
    if text is None:
        return None
    if len(text) > 13 or not _AMOUNT.match(text):
        collector.error(
            Problem(
                "bad-amount",
                f"số tiền '{text}' không hợp lệ: chỉ gồm chữ số, không dấu phân cách, không phần "
                "lẻ với VND (amount must be whole dong digits)",
                "54",
            )
        )
        return None
    amount = int(text.rstrip("."))
    problems = _amount_problems(amount)
    for problem in problems:
        collector.error(problem)
    return None if problems else amount


def _additional(template: str | None, collector: _Collector) -> dict[str, str]:
    if template is None:
        return {}
    try:
        objects = parse(template)
    except TLVError as exc:
        collector.error(Problem(exc.code, f"thẻ 62: {exc.reason}", "62"))
        return {}
    values: dict[str, str] = {}
    for obj in objects:
        tag = f"62.{obj.tag}"
        if obj.tag in _ADDITIONAL_TAGS:
            _check_ans(tag, obj.value, 25, collector)
        values[obj.tag] = obj.value
    return values


def _check_ans(tag: str, value: str, limit: int, collector: _Collector) -> None:
    if len(value) > limit:
        collector.quirk(_too_long(tag, len(value), limit))
    if not _ANS.match(value):
        collector.quirk(
            Problem(
                "non-ans-characters",
                f"trường {tag} có ký tự có dấu/ngoài bảng ANS; nhiều app ngân hàng đọc sai "
                f"(field {tag} has characters outside the ANS set)",
                tag,
            )
        )


def _alternate(template: str | None, collector: _Collector) -> tuple[str | None, str | None]:
    if template is None:
        return None, None
    try:
        objects = {o.tag: o.value for o in parse(template)}
    except TLVError as exc:
        collector.error(Problem(exc.code, f"thẻ 64: {exc.reason}", "64"))
        return None, None
    if "00" not in objects or "01" not in objects:
        collector.error(_missing("64.00" if "00" not in objects else "64.01"))
    name, city = objects.get("01"), objects.get("02")
    if name is not None and len(name) > 25:
        collector.quirk(_too_long("64.01", len(name), 25))
    if city is not None and len(city) > 15:
        collector.quirk(_too_long("64.02", len(city), 15))
    return name, city


def _vnpay(tags: dict[str, str], crc: str) -> VnpayQR:
    try:
        merchant = {o.tag: o.value for o in parse(tags["26"])}
        additional = {o.tag: o.value for o in parse(tags["62"])} if "62" in tags else {}
    except TLVError as exc:
        raise VietQRError([Problem(exc.code, exc.reason, "26")]) from None
    return VnpayQR(
        merchant_id=merchant.get("01"),
        mcc=tags.get("52"),
        merchant_name=tags.get("59"),
        merchant_city=tags.get("60"),
        additional=additional,
        crc=crc,
    )


def describe(decoded: Decoded) -> dict[str, object]:
    """A JSON-ready description of a decoded code (what `cho qr decode` prints)."""
    value = decoded.value
    bank = bank_by_bin(value.bin)
    data: dict[str, object] = {f.name: getattr(value, f.name) for f in fields(value)}
    data.update(
        service=value.service.value,
        initiation="static" if value.initiation is Initiation.STATIC else "dynamic",
        initiation_code=value.initiation.value,
        bank=bank.short_name if bank else None,
        crc=decoded.crc,
        warnings=[w.as_dict() for w in decoded.warnings],
    )
    if decoded.extra_tags:
        data["extra_tags"] = decoded.extra_tags
    return data
