"""The registry's tables and their public shapes, one model family per entity:
`XBase` (shared fields) → `X(table=True)` → `XCreate` / `XUpdate` (input) / `XPublic` (output).

Input types normalise as they validate: text to NFC, phones to E.164, stall codes to their
canonical form; every table keeps a folded search key beside the text it searches.
"""

from __future__ import annotations

import enum
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, StringConstraints, field_validator
from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from market import patterns
from market.db import require_id
from market.inputs import Boolean, Id, IsoDate, Number, WholeNumber
from market.text import (
    InvalidPhoneError,
    canonical_stall_code,
    holder_name,
    mask_digits,
    nfc,
    normalise_mobile,
)
from market.types import UTCDateTime, created_at_field, status_field
from qr.banks import bank_by_bin

# ---------------------------------------------------------------------------------------------
# Input types


def _nfc(value: str) -> str:
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValueError("không được chứa ký tự điều khiển (control characters are not allowed)")
    return nfc(value)


def _mobile(value: str) -> str:
    try:
        return normalise_mobile(value)
    except InvalidPhoneError:
        raise ValueError(
            "không phải số di động Việt Nam (not a Vietnamese mobile number)"
        ) from None


def _bin(value: str) -> str:
    if bank_by_bin(value) is None:
        raise ValueError("mã BIN không có trong danh mục ngân hàng (unknown bank BIN)")
    return value


def _holder(value: str) -> str:
    name = holder_name(value)
    if not name.replace(" ", "").isalpha():
        raise ValueError("tên chủ tài khoản chỉ gồm chữ cái (holder name: letters only)")
    return name


def text_field(max_length: int, min_length: int = 1) -> Any:
    """A Vietnamese text input: NFC-normalised, trimmed, then length-bounded in characters by one
    constraint, the one the schema states (so a refusal names that limit)."""
    return Annotated[
        str,
        AfterValidator(_nfc),
        StringConstraints(min_length=min_length, max_length=max_length),
    ]


Name = Annotated[str, StringConstraints(max_length=400), AfterValidator(_nfc)]
ShortText = Annotated[str, StringConstraints(max_length=800), AfterValidator(_nfc)]
MobilePhone = Annotated[str, StringConstraints(max_length=32), AfterValidator(_mobile)]
BankBin = Annotated[str, StringConstraints(pattern=patterns.BANK_BIN.regex)]
AccountNumber = Annotated[str, StringConstraints(pattern=patterns.ACCOUNT_NUMBER.regex)]
NationalId = Annotated[str, StringConstraints(pattern=patterns.NATIONAL_ID.regex)]
TaxCode = Annotated[str, StringConstraints(pattern=patterns.TAX_CODE.regex)]
StallCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=20),
    AfterValidator(canonical_stall_code),
    StringConstraints(max_length=20),  # "a1a1…" grows by a '-' between groups
]
MarketCode = Annotated[str, StringConstraints(pattern=patterns.MARKET_CODE.regex, max_length=40)]
ZoneCode = Annotated[str, StringConstraints(pattern=patterns.ZONE_CODE.regex)]
T = TypeVar("T")
Money = Annotated[WholeNumber, Field(ge=0, le=1_000_000_000_000)]


class Status(enum.StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class StallStatus(enum.StrEnum):
    VACANT = "vacant"
    OCCUPIED = "occupied"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class AccountKind(enum.StrEnum):
    BANK_ACCOUNT = "bank_account"
    CARD = "card"
    EWALLET = "ewallet"


class Role(enum.StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    VENDOR = "vendor"
    PLANNER = "planner"
    SHOPPER = "shopper"


class GoodsCategory(enum.StrEnum):
    """The closed list of goods categories (ngành hàng); labels in `CATEGORY_LABELS`."""

    VEGETABLES = "vegetables"
    FRUIT = "fruit"
    MEAT = "meat"
    FISH_SEAFOOD = "fish_seafood"
    RICE_GRAIN = "rice_grain"
    DRY_GOODS = "dry_goods"
    GROCERY = "grocery"
    COOKED_FOOD = "cooked_food"
    CLOTHING = "clothing"
    FOOTWEAR = "footwear"
    HOUSEHOLD = "household"
    COSMETICS = "cosmetics"
    FLOWERS = "flowers"
    ELECTRONICS = "electronics"
    AGRICULTURAL_SUPPLIES = "agricultural_supplies"
    SERVICES = "services"
    OTHER = "other"


CATEGORY_LABELS: dict[GoodsCategory, str] = {
    GoodsCategory.VEGETABLES: "Rau củ",
    GoodsCategory.FRUIT: "Trái cây",
    GoodsCategory.MEAT: "Thịt tươi sống",
    GoodsCategory.FISH_SEAFOOD: "Cá, thủy sản",
    GoodsCategory.RICE_GRAIN: "Gạo, ngũ cốc",
    GoodsCategory.DRY_GOODS: "Đồ khô, gia vị",
    GoodsCategory.GROCERY: "Tạp hóa",
    GoodsCategory.COOKED_FOOD: "Ăn uống, đồ chín",
    GoodsCategory.CLOTHING: "Quần áo, vải vóc",
    GoodsCategory.FOOTWEAR: "Giày dép",
    GoodsCategory.HOUSEHOLD: "Đồ gia dụng",
    GoodsCategory.COSMETICS: "Mỹ phẩm",
    GoodsCategory.FLOWERS: "Hoa tươi",
    GoodsCategory.ELECTRONICS: "Điện thoại, điện tử",
    GoodsCategory.AGRICULTURAL_SUPPLIES: "Vật tư nông nghiệp",
    GoodsCategory.SERVICES: "Dịch vụ",
    GoodsCategory.OTHER: "Khác",
}


# ---------------------------------------------------------------------------------------------
# Market


class MarketBase(SQLModel):
    name: str = Field(max_length=120, description="Tên chợ, e.g. 'Chợ trung tâm thị trấn Mậu A'")
    commune: str = Field(default="", max_length=80, description="Xã / thị trấn")
    district: str = Field(default="", max_length=80, description="Huyện")
    province: str = Field(default="", max_length=80, description="Tỉnh")
    address: str = Field(default="", max_length=200)


class Market(MarketBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name_key: str = Field(max_length=400)
    status: Status = status_field(Status.ACTIVE)
    created_at: datetime = created_at_field()


class MarketCreate(SQLModel):
    code: MarketCode
    name: text_field(120)  # type: ignore[valid-type]
    commune: text_field(80, 0) = ""  # type: ignore[valid-type]
    district: text_field(80, 0) = ""  # type: ignore[valid-type]
    province: text_field(80, 0) = ""  # type: ignore[valid-type]
    address: text_field(200, 0) = ""  # type: ignore[valid-type]


class MarketUpdate(SQLModel):
    name: text_field(120) | None = None  # type: ignore[valid-type]
    commune: text_field(80, 0) | None = None  # type: ignore[valid-type]
    district: text_field(80, 0) | None = None  # type: ignore[valid-type]
    province: text_field(80, 0) | None = None  # type: ignore[valid-type]
    address: text_field(200, 0) | None = None  # type: ignore[valid-type]


class MarketPublic(MarketBase):
    id: int
    code: str
    status: Status
    created_at: datetime


# ---------------------------------------------------------------------------------------------
# Zone


class Zone(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("market_id", "code", name="uq_zone_market_code"),)

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    code: str = Field(max_length=12)
    name: str = Field(max_length=80)
    status: Status = status_field(Status.ACTIVE)
    created_at: datetime = created_at_field()


class ZoneCreate(SQLModel):
    code: ZoneCode
    name: text_field(80)  # type: ignore[valid-type]


class ZoneUpdate(SQLModel):
    name: text_field(80) | None = None  # type: ignore[valid-type]


class ZonePublic(SQLModel):
    id: int
    market_id: int
    code: str
    name: str
    status: Status


# ---------------------------------------------------------------------------------------------
# Stall


class Stall(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("market_id", "code_key", name="uq_stall_market_code"),
        CheckConstraint("monthly_fee >= 0", name="ck_stall_fee_nonnegative"),
        CheckConstraint("area_m2 >= 0", name="ck_stall_area_nonnegative"),
    )

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    zone_id: int | None = Field(default=None, foreign_key="zone.id", index=True)
    code: str = Field(max_length=24)
    code_key: str = Field(max_length=24)
    area_m2: float = Field(default=0)
    category: str = Field(default=GoodsCategory.OTHER, max_length=32)
    monthly_fee: int = Field(default=0, sa_type=BigInteger)
    status: StallStatus = status_field(StallStatus.VACANT)
    created_at: datetime = created_at_field()


class StallCreate(SQLModel):
    code: StallCode
    zone_id: Id | None = None
    area_m2: Number = Field(default=0, ge=0, le=10_000)
    category: GoodsCategory = GoodsCategory.OTHER
    monthly_fee: Money = 0


class StallUpdate(SQLModel):
    code: StallCode | None = None
    zone_id: Id | None = None
    area_m2: Number | None = Field(default=None, ge=0, le=10_000)
    category: GoodsCategory | None = None
    monthly_fee: Money | None = None
    status: StallStatus | None = Field(
        default=None, description="suspended or closed; occupied/vacant follow assignments"
    )


class StallPublic(SQLModel):
    id: int
    market_id: int
    zone_id: int | None
    code: str
    area_m2: float
    category: GoodsCategory
    category_label: str
    monthly_fee: int
    status: StallStatus
    current_vendor_id: int | None = None
    current_vendor_name: str | None = None


# ---------------------------------------------------------------------------------------------
# Vendor


class Vendor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    full_name: str = Field(max_length=120)
    name_key: str = Field(max_length=400, index=True)
    phone: str = Field(max_length=16, unique=True)
    phone_keys: str = Field(max_length=40)
    national_id: str | None = Field(default=None, max_length=12, unique=True)
    tax_code: str | None = Field(default=None, max_length=14)
    fee_bps: int = Field(
        default=0,
        description="fee on incoming QR payments, basis points",
        sa_column_kwargs={"server_default": "0"},
    )
    status: Status = status_field(Status.ACTIVE)
    created_at: datetime = created_at_field()


FeeBps = Annotated[
    WholeNumber, Field(ge=0, le=1000, description="basis points: 100 = 1 %, at most 10 %")
]


class VendorCreate(SQLModel):
    full_name: text_field(120)  # type: ignore[valid-type]
    phone: MobilePhone
    national_id: NationalId | None = None
    tax_code: TaxCode | None = None
    fee_bps: FeeBps = 0


class VendorUpdate(SQLModel):
    full_name: text_field(120) | None = None  # type: ignore[valid-type]
    phone: MobilePhone | None = None
    national_id: NationalId | None = None
    tax_code: TaxCode | None = None
    fee_bps: FeeBps | None = None


class VendorPublic(SQLModel):
    id: int
    market_id: int
    full_name: str
    phone: str
    national_id_masked: str | None
    tax_code: str | None
    fee_bps: int
    status: Status
    has_payout_account: bool = False
    stall_codes: list[str] = Field(default_factory=list)

    @classmethod
    def from_row(cls, vendor: Vendor, **extra: Any) -> VendorPublic:
        return cls(
            id=require_id(vendor),
            market_id=vendor.market_id,
            full_name=vendor.full_name,
            phone=vendor.phone,
            national_id_masked=mask_digits(vendor.national_id) if vendor.national_id else None,
            tax_code=vendor.tax_code,
            fee_bps=vendor.fee_bps,
            status=Status(vendor.status),
            **extra,
        )


# ---------------------------------------------------------------------------------------------
# Stall assignment (history between vendors and stalls)


class StallAssignment(SQLModel, table=True):
    __tablename__ = "stall_assignment"
    __table_args__ = (
        Index(
            "uq_assignment_current_per_stall",
            "stall_id",
            unique=True,
            sqlite_where=text("end_date IS NULL"),
            postgresql_where=text("end_date IS NULL"),
        ),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ck_assignment_dates"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stall_id: int = Field(foreign_key="stall.id", index=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    start_date: date
    end_date: date | None = None
    created_at: datetime = created_at_field()


class AssignmentCreate(SQLModel):
    vendor_id: Id
    start_date: IsoDate | None = Field(
        default=None, description="defaults to today (Asia/Ho_Chi_Minh)"
    )


class AssignmentEnd(SQLModel):
    end_date: IsoDate | None = Field(
        default=None, description="defaults to today (Asia/Ho_Chi_Minh)"
    )


class AssignmentPublic(SQLModel):
    id: int
    stall_id: int
    vendor_id: int
    start_date: date
    end_date: date | None


# ---------------------------------------------------------------------------------------------
# Payout account


class PayoutAccount(SQLModel, table=True):
    __tablename__ = "payout_account"
    __table_args__ = (
        Index(
            "uq_payout_default_per_vendor",
            "vendor_id",
            unique=True,
            sqlite_where=text("is_default AND status = 'active'"),
            postgresql_where=text("is_default AND status = 'active'"),
        ),
        Index(
            "uq_payout_live_bin_account",
            "bin",
            "account_number",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    bin: str = Field(max_length=6)
    account_number: str = Field(max_length=19)
    holder_name: str = Field(max_length=50)
    kind: str = Field(default=AccountKind.BANK_ACCOUNT, max_length=16)
    is_default: bool = Field(default=False)
    status: Status = status_field(Status.ACTIVE)
    created_at: datetime = created_at_field()


class PayoutAccountCreate(SQLModel):
    bin: BankBin
    account_number: AccountNumber
    holder_name: (
        Annotated[str, StringConstraints(max_length=50), AfterValidator(_holder)] | None
    ) = Field(default=None, description="defaults to the vendor's name in capitals, no diacritics")
    kind: AccountKind = AccountKind.BANK_ACCOUNT
    is_default: Boolean = Field(default=True, description="the account printed on the stall board")

    @field_validator("bin")
    @classmethod
    def _known_bin(cls, value: str) -> str:
        return _bin(value)


class PayoutAccountUpdate(SQLModel):
    holder_name: (
        Annotated[str, StringConstraints(max_length=50), AfterValidator(_holder)] | None
    ) = None
    kind: AccountKind | None = None
    is_default: Boolean | None = None


class PayoutAccountPublic(SQLModel):
    id: int
    vendor_id: int
    bin: str
    bank_short_name: str
    account_number_masked: str
    holder_name: str
    kind: AccountKind
    is_default: bool
    status: Status

    @classmethod
    def from_row(cls, account: PayoutAccount) -> PayoutAccountPublic:
        bank = bank_by_bin(account.bin)
        return cls(
            id=require_id(account),
            vendor_id=account.vendor_id,
            bin=account.bin,
            bank_short_name=bank.short_name if bank else account.bin,
            account_number_masked=mask_digits(account.account_number),
            holder_name=account.holder_name,
            kind=AccountKind(account.kind),
            is_default=account.is_default,
            status=Status(account.status),
        )


# ---------------------------------------------------------------------------------------------
# Users, tokens, login throttling


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("phone", name="uq_app_user_phone"),)

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(default="", max_length=120)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id")
    phone: str | None = Field(default=None, max_length=16, description="shopper wallets")
    status: Status = status_field(Status.ACTIVE)
    created_at: datetime = created_at_field()


class UserMarket(SQLModel, table=True):
    """The markets a manager manages."""

    __tablename__ = "user_market"

    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    market_id: int = Field(foreign_key="market.id", primary_key=True)


Username = Annotated[str, StringConstraints(pattern=patterns.USERNAME.regex)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]


class UserCreate(SQLModel):
    username: Username
    password: Password
    full_name: text_field(120, 0) = ""  # type: ignore[valid-type]
    role: Role
    market_ids: list[Id] = Field(default_factory=list, max_length=100)
    vendor_id: Id | None = None


class UserUpdate(SQLModel):
    full_name: text_field(120, 0) | None = None  # type: ignore[valid-type]
    password: Password | None = None
    market_ids: list[Id] | None = Field(default=None, max_length=100)


class UserPublic(SQLModel):
    id: int
    username: str
    full_name: str
    role: Role
    market_ids: list[int]
    vendor_id: int | None
    status: Status


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_at_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(max_length=200, index=True, description="'user:<name>' or 'client:<ip>'")
    at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)


class TokenPublic(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    role: Role


# ---------------------------------------------------------------------------------------------
# Audit log


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_at_field()
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32)
    entity: str = Field(max_length=32, index=True)
    entity_id: int
    market_id: int | None = Field(default=None, index=True)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class AuditEntryPublic(SQLModel):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int
    market_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


# ---------------------------------------------------------------------------------------------
# Printed boards (the stall's static VietQR code and its serials)


class BoardStatus(enum.StrEnum):
    LIVE = "live"  # on the stall now: its code may be paid
    REPLACED = "replaced"  # reprinted under a new serial
    REVOKED = "revoked"  # the vendor left the stall or the payout account changed


class Board(SQLModel, table=True):
    """One printed board: a serial, the payload it carries and whether it is still live."""

    __table_args__ = (
        Index(
            "uq_board_live_per_stall",
            "stall_id",
            unique=True,
            sqlite_where=text("status = 'live'"),
            postgresql_where=text("status = 'live'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    serial: str = Field(max_length=25, unique=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    stall_id: int = Field(foreign_key="stall.id", index=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    payout_account_id: int = Field(foreign_key="payout_account.id", index=True)
    payload: str = Field(max_length=512, index=True)
    status: BoardStatus = status_field(BoardStatus.LIVE)
    printed_at: datetime = created_at_field()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=200)


class SaleCode(SQLModel, table=True):
    """A per-sale (dynamic) code issued for a board: its own reference (VietQR 62.01, the bill
    number) and amount. It pays once: the money wing writes the paying transfer's id."""

    __tablename__ = "sale_code"

    id: int | None = Field(default=None, primary_key=True)
    board_id: int = Field(foreign_key="board.id", index=True)
    reference: str = Field(max_length=25, unique=True)
    amount: int = Field(sa_type=BigInteger)
    issued_at: datetime = created_at_field()
    transfer_id: int | None = Field(default=None, sa_type=BigInteger, unique=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BoardPublic(SQLModel):
    id: int
    serial: str
    stall_id: int
    vendor_id: int
    payout_account_id: int
    payload: str
    status: BoardStatus
    printed_at: datetime
    ended_at: datetime | None
    end_reason: str | None
