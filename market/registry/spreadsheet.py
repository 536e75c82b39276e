"""Excel and CSV in and out: the import template, a dry run that lists every bad row with its row,
column, value and a Vietnamese reason and counts what the good rows would do (zones to create
included), an all-or-nothing commit keyed on stall code (re-importing the same file changes
nothing), and exports as .xlsx and as CSV in UTF-8 with a BOM."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from market.db import require_id
from market.errors import FieldError, ImportRowsError, SpreadsheetError
from market.field_messages import field_message
from market.registry.access import Actor, require_market_manager
from market.registry.markets import create_zone, require_active_market
from market.registry.models import (
    CATEGORY_LABELS,
    AccountKind,
    AssignmentCreate,
    GoodsCategory,
    PayoutAccount,
    PayoutAccountCreate,
    PayoutAccountUpdate,
    Stall,
    StallAssignment,
    StallCreate,
    StallUpdate,
    Status,
    Vendor,
    VendorCreate,
    VendorUpdate,
    Zone,
    ZoneCreate,
)
from market.registry.payouts import add_account, default_account, live_account, update_account
from market.registry.stalls import (
    assign_vendor,
    create_stall,
    current_assignment,
    end_assignment,
    find_stall_by_code,
    update_stall,
)
from market.registry.vendors import create_vendor, find_vendor_by_phone, update_vendor
from market.registry.zone_names import ZONE_RULE_VI, NewZone, read_zone
from market.text import STALL_CODE_RULE_VI, alnum_key, fold, mask_digits, natural_key, nfc
from qr.banks import all_banks

MAX_ROWS = 5000

# (key, Vietnamese header) in template order.
COLUMNS: list[tuple[str, str]] = [
    ("zone", "Khu"),
    ("stall_code", "Mã ki-ốt"),
    ("area_m2", "Diện tích (m²)"),
    ("category", "Ngành hàng"),
    ("monthly_fee", "Phí tháng (đồng)"),
    ("vendor_name", "Họ tên tiểu thương"),
    ("phone", "Số điện thoại"),
    ("national_id", "Số CCCD"),
    ("tax_code", "Mã số thuế"),
    ("bank", "Ngân hàng (BIN)"),
    ("account_number", "Số tài khoản"),
    ("holder_name", "Tên chủ tài khoản"),
    ("account_kind", "Loại tài khoản"),
]
HEADERS = dict(COLUMNS)
_TEXT_COLUMNS = {"stall_code", "phone", "national_id", "tax_code", "bank", "account_number"}
_KIND_LABELS = {
    AccountKind.BANK_ACCOUNT: "Tài khoản ngân hàng",
    AccountKind.CARD: "Thẻ",
    AccountKind.EWALLET: "Ví điện tử",
}
_MASKED = re.compile(r"^•+[0-9]{1,4}$")

# Which model field feeds which column, to report pydantic errors by column.
_FIELD_COLUMNS = {
    "code": "stall_code",
    "area_m2": "area_m2",
    "category": "category",
    "monthly_fee": "monthly_fee",
    "full_name": "vendor_name",
    "phone": "phone",
    "national_id": "national_id",
    "tax_code": "tax_code",
    "bin": "bank",
    "account_number": "account_number",
    "holder_name": "holder_name",
    "kind": "account_kind",
}
_TOO_LARGE = {"less_than", "less_than_equal", "int_parsing_size"}
_REASONS_VI = {
    "phone": "không phải số di động Việt Nam",
    "bin": "không có trong danh mục ngân hàng",
    "account_number": "chỉ gồm chữ số, tối đa 19 số",
    "national_id": "CCCD phải có đúng 12 chữ số",
    "tax_code": "mã số thuế phải có 10, 12 hoặc 10-3 chữ số",
    "code": f"{STALL_CODE_RULE_VI}, tối đa 20 ký tự",
    "category": "ngành hàng không có trong danh mục",
    "monthly_fee": "phí phải là số nguyên đồng, không âm",
    "area_m2": "diện tích phải là số không âm",
    "full_name": "họ tên trống hoặc quá dài",
    "holder_name": "tên chủ tài khoản chỉ gồm chữ cái, tối đa 50 ký tự",
    "kind": "loại tài khoản không hợp lệ",
}


@dataclass
class ImportRow:
    number: int
    stall: StallCreate
    zone_text: str | None
    vendor: VendorCreate | None
    account: PayoutAccountCreate | None


@dataclass
class ImportReport:
    """What the file does (a dry run: would do). With bad rows, the counts are those of the
    good rows."""

    rows: int = 0
    bad_rows: int = 0
    zones_created: int = 0
    new_zones: list[NewZone] = field(default_factory=list)
    stalls_created: int = 0
    stalls_updated: int = 0
    vendors_created: int = 0
    vendors_updated: int = 0
    accounts_created: int = 0
    assignments_changed: int = 0
    unchanged_rows: int = 0
    errors: list[FieldError] = field(default_factory=list)
    committed: bool = False


# ---------------------------------------------------------------------------------------------
# Reading files


def read_table(content: bytes, filename: str = "") -> list[dict[str, str]]:
    """Rows of an .xlsx workbook (first sheet) or a UTF-8 CSV, keyed by column key. A file that
    is neither, or lacks the template's header, raises `SpreadsheetError`."""
    if not content:
        raise SpreadsheetError("Tệp rỗng (the file is empty).")
    if content[:4] == b"PK\x03\x04":
        raw_rows = _xlsx_rows(content)
    elif filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise SpreadsheetError("Tệp không phải Excel .xlsx hợp lệ (not a valid .xlsx workbook).")
    else:
        raw_rows = _csv_rows(content)
    if not raw_rows:
        raise SpreadsheetError("Tệp không có dòng tiêu đề (no header row).")
    header_keys = _header_keys(raw_rows[0])
    if len(raw_rows) - 1 > MAX_ROWS:
        raise SpreadsheetError(f"Tệp có quá {MAX_ROWS} dòng (more than {MAX_ROWS} rows).")
    rows = []
    for values in raw_rows[1:]:
        row = {key: _cell_text(values[i]) if i < len(values) else "" for i, key in header_keys}
        rows.append(row)
    return rows


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise SpreadsheetError(
            "Tệp không phải Excel .xlsx hợp lệ (not a valid .xlsx workbook)."
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)]
    finally:
        workbook.close()


def _csv_rows(content: bytes) -> list[list[Any]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            "Tệp không phải Excel hoặc CSV UTF-8 (neither .xlsx nor UTF-8 CSV)."
        ) from exc
    if "\x00" in text:
        raise SpreadsheetError("Tệp không phải Excel hoặc CSV (binary content).")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as exc:
        raise _csv_error(reader.line_num, exc) from exc


def _csv_error(line: int, exc: csv.Error) -> SpreadsheetError:
    """A CSV the csv module cannot read, named by its line. A carriage return (CR) alone inside
    an unquoted cell is the usual cause: a cell edited on an old Mac, or a line break typed into
    a cell and saved without quotes."""
    if "new-line" in str(exc):
        reason_vi = "có ký tự xuống dòng CR (\\r) đứng riêng trong một ô không có ngoặc kép"
        reason_en = "a bare carriage return (CR) inside an unquoted cell"
    else:
        reason_vi, reason_en = "không đọc được dạng CSV", f"unreadable CSV: {exc}"
    return SpreadsheetError(
        f"Dòng {line}: {reason_vi}; hãy lưu lại tệp dạng CSV UTF-8 hoặc Excel .xlsx "
        f"(line {line}: {reason_en}; save the file again as CSV UTF-8 or .xlsx).",
        errors=[
            FieldError(
                "file",
                "unreadable-csv",
                f"Dòng {line}: {reason_vi} (line {line}: {reason_en}).",
                row=line,
            )
        ],
    )


def _header_keys(header: list[Any]) -> list[tuple[int, str]]:
    wanted = {fold(label): key for key, label in COLUMNS} | {key: key for key, _ in COLUMNS}
    found = []
    for index, cell in enumerate(header):
        key = wanted.get(fold(str(cell or "")))
        if key is not None:
            found.append((index, key))
    keys = {key for _, key in found}
    if "stall_code" not in keys:
        raise SpreadsheetError(
            f"Thiếu cột '{HEADERS['stall_code']}': hãy dùng tệp mẫu (missing the stall code "
            "column; use the template).",
            errors=[
                FieldError("file", "missing-column", f"missing column {HEADERS['stall_code']}")
            ],
        )
    return found


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return nfc(str(value))


# ---------------------------------------------------------------------------------------------
# Validating rows


def _category(text: str) -> str:
    if not text:
        return GoodsCategory.OTHER
    folded = fold(text)
    for category, label in CATEGORY_LABELS.items():
        if folded in (fold(label), category.value):
            return category
    return text  # left for validation to reject


def _kind(text: str) -> str:
    if not text:
        return AccountKind.BANK_ACCOUNT
    folded = fold(text)
    for kind, label in _KIND_LABELS.items():
        if folded in (fold(label), kind.value):
            return kind
    return text


def _bin(text: str) -> str:
    if re.fullmatch(r"[0-9]{6}", text):
        return text
    folded = fold(text)
    for bank in all_banks():
        if folded in (fold(bank.short_name), fold(bank.code)):
            return bank.bin
    return text


def _phone(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    # Excel drops the leading 0 of a number typed into a number cell.
    return "0" + digits if len(digits) == 9 and digits[0] in "35789" else text


def _validate(
    model: type[BaseModel], data: dict[str, Any], row: int, errors: list[FieldError]
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else ""
            column_key = _FIELD_COLUMNS.get(name, name)
            column = HEADERS.get(column_key, column_key)
            reason = _REASONS_VI.get(name, "giá trị không hợp lệ")
            if err["type"] in _TOO_LARGE:  # a whole number still: say what the limit is
                reason = field_message(err)
            errors.append(
                FieldError(
                    f"rows.{row}.{column_key}",
                    "invalid",
                    f"Dòng {row}, cột '{column}': {reason} (giá trị: '{data.get(name, '')}').",
                    row=row,
                    column=column,
                )
            )
        return None


def parse_rows(rows: list[dict[str, str]]) -> tuple[list[ImportRow], list[FieldError]]:
    """Validate every row; return the good ones and an error for each bad cell."""
    errors: list[FieldError] = []
    parsed: list[ImportRow] = []
    seen_codes: dict[str, int] = {}
    for offset, row in enumerate(rows):
        number = offset + 2  # row 1 is the header
        if not any(row.values()):
            continue
        before = len(errors)
        stall = _validate(
            StallCreate,
            {
                "code": row.get("stall_code", ""),
                "area_m2": row.get("area_m2") or 0,
                "category": _category(row.get("category", "")),
                "monthly_fee": row.get("monthly_fee") or 0,
            },
            number,
            errors,
        )
        vendor = None
        if row.get("vendor_name") or row.get("phone"):
            national_id = row.get("national_id") or None
            vendor = _validate(
                VendorCreate,
                {
                    "full_name": row.get("vendor_name", ""),
                    "phone": _phone(row.get("phone", "")),
                    "national_id": None
                    if national_id and _MASKED.match(national_id)
                    else national_id,
                    "tax_code": row.get("tax_code") or None,
                },
                number,
                errors,
            )
        account = None
        if row.get("bank") or row.get("account_number"):
            if vendor is None and len(errors) == before:
                errors.append(
                    FieldError(
                        f"rows.{number}.vendor_name",
                        "required",
                        f"Dòng {number}, cột '{HEADERS['vendor_name']}': "
                        "tài khoản cần có tiểu thương.",
                        row=number,
                        column=HEADERS["vendor_name"],
                    )
                )
            account = _validate(
                PayoutAccountCreate,
                {
                    "bin": _bin(row.get("bank", "")),
                    "account_number": re.sub(r"[\s.]", "", row.get("account_number", "")),
                    "holder_name": row.get("holder_name") or None,
                    "kind": _kind(row.get("account_kind", "")),
                    "is_default": True,
                },
                number,
                errors,
            )
        key = alnum_key(row.get("stall_code", ""))
        if key and key in seen_codes:
            errors.append(
                FieldError(
                    f"rows.{number}.stall_code",
                    "duplicate",
                    f"Dòng {number}, cột '{HEADERS['stall_code']}': mã ki-ốt "
                    f"'{row.get('stall_code')}' trùng với dòng {seen_codes[key]}.",
                    row=number,
                    column=HEADERS["stall_code"],
                )
            )
        if key:
            seen_codes.setdefault(key, number)
        if len(errors) == before:
            parsed.append(ImportRow(number, stall, row.get("zone") or None, vendor, account))
    return parsed, errors


def _cross_check(session: Session, market_id: int, rows: list[ImportRow]) -> list[FieldError]:
    """Errors that need the database or several rows: a phone of another market, one phone with
    two names, an account already registered to someone else."""
    errors: list[FieldError] = []
    names_by_phone: dict[str, tuple[str, int]] = {}
    phone_by_account: dict[tuple[str, str], tuple[str, int]] = {}
    for row in rows:
        if row.vendor is not None:
            phone = row.vendor.phone
            first = names_by_phone.setdefault(phone, (row.vendor.full_name, row.number))
            if first[0] != row.vendor.full_name:
                errors.append(
                    _row_error(
                        row.number,
                        "phone",
                        f"số điện thoại trùng với dòng {first[1]} nhưng khác họ tên",
                        phone,
                    )
                )
            existing = find_vendor_by_phone(session, phone)
            if existing is not None and existing.market_id != market_id:
                errors.append(
                    _row_error(
                        row.number, "phone", "số điện thoại thuộc tiểu thương của chợ khác", phone
                    )
                )
        if row.account is not None and row.vendor is not None:
            key = (row.account.bin, row.account.account_number)
            first_owner = phone_by_account.setdefault(key, (row.vendor.phone, row.number))
            if first_owner[0] != row.vendor.phone:
                errors.append(
                    _row_error(
                        row.number,
                        "account_number",
                        f"tài khoản trùng với dòng {first_owner[1]} của tiểu thương khác",
                        key[1],
                    )
                )
            live = live_account(session, bin_code=key[0], account_number=key[1])
            if live is not None:
                owner = session.get(Vendor, live.vendor_id)
                if owner is not None and owner.phone != row.vendor.phone:
                    errors.append(
                        _row_error(
                            row.number,
                            "account_number",
                            "tài khoản đã đăng ký cho tiểu thương khác",
                            key[1],
                        )
                    )
    return errors


def _row_error(row: int, key: str, reason: str, value: str) -> FieldError:
    column = HEADERS[key]
    return FieldError(
        f"rows.{row}.{key}",
        "conflict",
        f"Dòng {row}, cột '{column}': {reason} (giá trị: '{value}').",
        row=row,
        column=column,
    )


# ---------------------------------------------------------------------------------------------
# Importing


def import_table(
    session: Session,
    *,
    actor: Actor,
    market_id: int,
    content: bytes,
    filename: str = "",
    dry_run: bool = True,
) -> ImportReport:
    """Check (and unless `dry_run`, apply) a stall/vendor/account file. With any bad row nothing is
    applied: a dry run reports the errors, a commit raises `ImportRowsError` listing them."""
    require_market_manager(actor, market_id)
    require_active_market(session, market_id)
    table = read_table(content, filename)
    rows, errors = parse_rows(table)
    errors += _cross_check(session, market_id, rows)
    zones, zone_errors = _read_zones(session, market_id, rows)
    errors += zone_errors
    errors.sort(key=lambda e: (e.row or 0, e.field))
    bad = {e.row for e in errors if e.row is not None}
    report = ImportReport(
        rows=len({row.number for row in rows} | bad), bad_rows=len(bad), errors=errors
    )
    if errors and not dry_run:
        raise ImportRowsError(
            f"Tệp có {len(bad)} dòng lỗi; chưa nhập gì (rows with errors; nothing was imported).",
            errors=errors,
        )
    good = [row for row in rows if row.number not in bad]
    savepoint = session.begin_nested()
    try:
        zone_ids = _create_zones(
            session, actor=actor, market_id=market_id, zones=zones, rows=good, report=report
        )
        for row in good:
            zone_id = zone_ids[row.zone_text] if row.zone_text else None
            _apply_row(
                session, actor=actor, market_id=market_id, row=row, zone_id=zone_id, report=report
            )
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()  # a dry run counts what would change, then changes nothing
        return report
    savepoint.commit()
    report.committed = True
    return report


def _read_zones(
    session: Session, market_id: int, rows: list[ImportRow]
) -> tuple[dict[str, Zone | NewZone], list[FieldError]]:
    """The zone each row's zone text names, or would create (one new zone per code, named as
    its first row writes it); an error for each text that names no zone."""
    zones = list(session.exec(select(Zone).where(Zone.market_id == market_id)))
    read: dict[str, Zone | NewZone] = {}
    new_by_code: dict[str, NewZone] = {}
    errors: list[FieldError] = []
    for row in rows:
        text = row.zone_text
        if not text or text in read:
            continue
        zone = read_zone(text, zones)
        if zone is None:
            column = HEADERS["zone"]
            errors.append(
                FieldError(
                    f"rows.{row.number}.zone",
                    "invalid",
                    f"Dòng {row.number}, cột '{column}': {ZONE_RULE_VI} (giá trị: '{text}').",
                    row=row.number,
                    column=column,
                )
            )
            continue
        if isinstance(zone, NewZone):
            zone = new_by_code.setdefault(zone.code, zone)
        read[text] = zone
    return read, errors + _into_stopped_zones(session, market_id, rows, read)


def _into_stopped_zones(
    session: Session, market_id: int, rows: list[ImportRow], read: dict[str, Zone | NewZone]
) -> list[FieldError]:
    """An error for each row that would place a stall in a stopped zone (a stall already there
    may stay)."""
    errors = []
    for row in rows:
        zone = read.get(row.zone_text or "")
        if not isinstance(zone, Zone) or zone.status == Status.ACTIVE:
            continue
        stall = find_stall_by_code(session, market_id=market_id, code=row.stall.code)
        if stall is not None and stall.zone_id == zone.id:
            continue
        column = HEADERS["zone"]
        errors.append(
            FieldError(
                f"rows.{row.number}.zone",
                "inactive",
                f"Dòng {row.number}, cột '{column}': khu {zone.code} đã ngừng, không xếp thêm"
                f" ki-ốt vào khu này (giá trị: '{row.zone_text}').",
                row=row.number,
                column=column,
            )
        )
    return errors


def _create_zones(
    session: Session,
    *,
    actor: Actor,
    market_id: int,
    zones: dict[str, Zone | NewZone],
    rows: list[ImportRow],
    report: ImportReport,
) -> dict[str, int]:
    """Create the new zones the rows name (counted in the report); the zone id of each text."""
    created: dict[str, int] = {}
    ids: dict[str, int] = {}
    for row in rows:
        if not row.zone_text:
            continue
        zone = zones[row.zone_text]
        if isinstance(zone, NewZone):
            if zone.code not in created:
                data = ZoneCreate(code=zone.code, name=zone.name)
                made = create_zone(session, actor=actor, market_id=market_id, data=data)
                created[zone.code] = require_id(made)
                report.new_zones.append(zone)
            ids[row.zone_text] = created[zone.code]
        else:
            ids[row.zone_text] = require_id(zone)
    report.zones_created = len(report.new_zones)
    return ids


def _apply_row(
    session: Session,
    *,
    actor: Actor,
    market_id: int,
    row: ImportRow,
    zone_id: int | None,
    report: ImportReport,
) -> None:
    changed = False
    stall = find_stall_by_code(session, market_id=market_id, code=row.stall.code)
    if stall is None:
        stall = create_stall(
            session,
            actor=actor,
            market_id=market_id,
            data=row.stall.model_copy(update={"zone_id": zone_id}),
        )
        report.stalls_created += 1
        changed = True
    else:
        wanted = {
            "zone_id": zone_id,
            "area_m2": row.stall.area_m2,
            "category": row.stall.category,
            "monthly_fee": row.stall.monthly_fee,
        }
        diff = {k: v for k, v in wanted.items() if getattr(stall, k) != v}
        if diff:
            update_stall(
                session,
                actor=actor,
                stall_id=require_id(stall),
                data=StallUpdate.model_validate(diff),
            )
            report.stalls_updated += 1
            changed = True
    if row.vendor is not None:
        vendor = find_vendor_by_phone(session, row.vendor.phone)
        if vendor is None:
            vendor = create_vendor(session, actor=actor, market_id=market_id, data=row.vendor)
            report.vendors_created += 1
            changed = True
        else:
            wanted_vendor = row.vendor.model_dump(exclude={"phone"}, exclude_none=True)
            diff = {k: v for k, v in wanted_vendor.items() if getattr(vendor, k) != v}
            if diff or vendor.status != Status.ACTIVE:
                update_vendor(
                    session,
                    actor=actor,
                    vendor_id=require_id(vendor),
                    data=VendorUpdate.model_validate(diff),
                )
                report.vendors_updated += 1
                changed = True
        current = current_assignment(session, require_id(stall))
        if current is None or current.vendor_id != vendor.id:
            if current is not None:
                end_assignment(session, actor=actor, stall_id=require_id(stall))
            assign_vendor(
                session,
                actor=actor,
                stall_id=require_id(stall),
                data=AssignmentCreate(vendor_id=require_id(vendor)),
            )
            report.assignments_changed += 1
            changed = True
        if row.account is not None:
            changed |= _apply_account(session, actor=actor, vendor=vendor, row=row, report=report)
    if not changed:
        report.unchanged_rows += 1


def _apply_account(
    session: Session, *, actor: Actor, vendor: Vendor, row: ImportRow, report: ImportReport
) -> bool:
    assert row.account is not None
    live = live_account(
        session, bin_code=row.account.bin, account_number=row.account.account_number
    )
    if live is None:
        add_account(session, actor=actor, vendor_id=require_id(vendor), data=row.account)
        report.accounts_created += 1
        return True
    update: dict[str, Any] = {}
    if row.account.holder_name and live.holder_name != row.account.holder_name:
        update["holder_name"] = row.account.holder_name
    if live.kind != row.account.kind:
        update["kind"] = row.account.kind
    if not live.is_default:
        update["is_default"] = True
    if update:
        update_account(
            session,
            actor=actor,
            account_id=require_id(live),
            data=PayoutAccountUpdate.model_validate(update),
        )
        return True
    return False


# ---------------------------------------------------------------------------------------------
# Template and exports


def template_xlsx() -> bytes:
    """The empty import template with Vietnamese headers, text-formatted number columns and a
    sheet listing the categories, account kinds and banks to choose from."""
    return _workbook([], with_help=True)


def export_rows(session: Session, *, actor: Actor, market_id: int) -> list[dict[str, str]]:
    """One row per stall (open or not) in template order, with its current vendor and default
    payout account; national IDs masked."""
    require_market_manager(actor, market_id)
    zones = {z.id: z.code for z in session.exec(select(Zone).where(Zone.market_id == market_id))}
    stalls = sorted(
        session.exec(select(Stall).where(Stall.market_id == market_id)),
        key=lambda stall: (natural_key(stall.code), stall.code),
    )
    out = []
    for stall in stalls:
        row = {key: "" for key, _ in COLUMNS}
        row.update(
            zone=zones.get(stall.zone_id, "") if stall.zone_id else "",
            stall_code=stall.code,
            area_m2=f"{stall.area_m2:g}",
            category=CATEGORY_LABELS[GoodsCategory(stall.category)],
            monthly_fee=str(stall.monthly_fee),
        )
        assignment = session.exec(
            select(StallAssignment).where(
                StallAssignment.stall_id == stall.id, col(StallAssignment.end_date).is_(None)
            )
        ).first()
        vendor = session.get(Vendor, assignment.vendor_id) if assignment else None
        if vendor is not None:
            row.update(
                vendor_name=vendor.full_name,
                phone="0" + vendor.phone[3:],
                national_id=mask_digits(vendor.national_id) if vendor.national_id else "",
                tax_code=vendor.tax_code or "",
            )
            account: PayoutAccount | None = default_account(session, require_id(vendor))
            if account is not None:
                row.update(
                    bank=account.bin,
                    account_number=account.account_number,
                    holder_name=account.holder_name,
                    account_kind=_KIND_LABELS[AccountKind(account.kind)],
                )
        out.append(row)
    return out


def export_xlsx(session: Session, *, actor: Actor, market_id: int) -> bytes:
    return _workbook(export_rows(session, actor=actor, market_id=market_id), with_help=False)


def export_csv(session: Session, *, actor: Actor, market_id: int) -> bytes:
    """CSV in UTF-8 with a BOM, so Excel shows "Hiền" and not mojibake."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([label for _, label in COLUMNS])
    for row in export_rows(session, actor=actor, market_id=market_id):
        writer.writerow([row[key] for key, _ in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def _workbook(rows: list[dict[str, str]], *, with_help: bool) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Ki-ot"
    sheet.append([label for _, label in COLUMNS])
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F6F43")
    for row in rows:
        sheet.append([row[key] for key, _ in COLUMNS])
    # Text format keeps leading zeros of phones and account numbers typed into the template.
    formatted_rows = len(rows) + 1 if not with_help else 500
    for index, (key, label) in enumerate(COLUMNS, start=1):
        cell = sheet.cell(row=1, column=index)
        cell.font = header_font
        cell.fill = header_fill
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(label) + 4)
        if key in _TEXT_COLUMNS:
            for row_index in range(2, formatted_rows + 1):
                sheet.cell(row=row_index, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    if with_help:
        help_sheet = workbook.create_sheet("Huong dan")
        help_sheet.append(["Ngành hàng"])
        for label in CATEGORY_LABELS.values():
            help_sheet.append([label])
        help_sheet.append([])
        help_sheet.append(["Loại tài khoản"])
        for label in _KIND_LABELS.values():
            help_sheet.append([label])
        help_sheet.append([])
        help_sheet.append(["Mã BIN", "Ngân hàng"])
        for bank in all_banks():
            help_sheet.append([bank.bin, bank.short_name])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
