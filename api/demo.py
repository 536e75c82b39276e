"""The Mậu A demo: the central market of Mậu A town (Văn Yên, Yên Bái) with about 350 stalls in
six zones, vendors with realistic Vietnamese names, payout accounts on real BINs, and one demo
user per role. Deterministic (seeded) and loaded only once per database."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from market.clock import local_today, utc_now
from market.db import require_id
from market.money.ledger import shopper_wallet
from market.money.wallets import top_up
from market.registry.access import SYSTEM
from market.registry.markets import create_market, create_zone
from market.registry.models import (
    AccountKind,
    AssignmentCreate,
    GoodsCategory,
    Market,
    MarketCreate,
    PayoutAccountCreate,
    Role,
    StallCreate,
    User,
    UserCreate,
    VendorCreate,
    ZoneCreate,
)
from market.registry.payouts import add_account
from market.registry.stalls import assign_vendor, create_stall
from market.registry.users import create_user, hash_password
from market.registry.vendors import create_vendor
from market.text import InvalidPhoneError, normalise_mobile

MARKET_CODE = "mau-a"
DEMO_SHOPPER_PHONE = "+84901234567"  # the demo shopper's wallet, topped up with 500.000 ₫
DEMO_PASSWORD = "cho40-demo"
# the demo shopper signs in to the wallet with phone + a 6-digit PIN, which is their password
DEMO_SHOPPER_PIN = "246810"

# (zone code, name, number of stalls, categories sold there)
ZONES: list[tuple[str, str, int, list[GoodsCategory]]] = [
    ("A", "Khu A - Rau củ, trái cây", 70, [GoodsCategory.VEGETABLES, GoodsCategory.FRUIT]),
    ("B", "Khu B - Thịt, cá", 60, [GoodsCategory.MEAT, GoodsCategory.FISH_SEAFOOD]),
    (
        "C",
        "Khu C - Tạp hóa, đồ khô",
        60,
        [GoodsCategory.GROCERY, GoodsCategory.DRY_GOODS, GoodsCategory.RICE_GRAIN],
    ),
    (
        "D",
        "Khu D - Quần áo, giày dép",
        70,
        [GoodsCategory.CLOTHING, GoodsCategory.FOOTWEAR, GoodsCategory.COSMETICS],
    ),
    ("E", "Khu E - Ăn uống", 40, [GoodsCategory.COOKED_FOOD]),
    (
        "F",
        "Khu F - Gia dụng, vật tư",
        50,
        [
            GoodsCategory.HOUSEHOLD,
            GoodsCategory.ELECTRONICS,
            GoodsCategory.AGRICULTURAL_SUPPLIES,
            GoodsCategory.FLOWERS,
            GoodsCategory.SERVICES,
        ],
    ),
]

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Hà",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Vũ",
    "Lò",
    "Triệu",
    "Bàn",
    "Lương",
    "Nông",
    "Đinh",
    "Phùng",
    "Lý",
    "Hứa",
    "Ngô",
]
MIDDLE_F = ["Thị", "Thị", "Thị", "Thu", "Ngọc", "Hồng", "Minh", "Thanh", "Kim", "Mai"]
MIDDLE_M = ["Văn", "Văn", "Đức", "Minh", "Quang", "Xuân", "Hữu", "Trọng", "Công", "Tiến"]
GIVEN_F = [
    "Hường",
    "Lan",
    "Hương",
    "Thảo",
    "Nga",
    "Hằng",
    "Loan",
    "Yến",
    "Phượng",
    "Hiền",
    "Nhung",
    "Thủy",
    "Dung",
    "Liên",
    "Huyền",
    "Ngọc",
    "Trang",
    "Oanh",
    "Vân",
    "Xuân",
    "Mai",
    "Hạnh",
    "Quyên",
    "Tươi",
    "Lụa",
    "Chiêm",
    "Mẩy",
    "Ợt",
]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Tuấn",
    "Thắng",
    "Cường",
    "Hải",
    "Long",
    "Sơn",
    "Bình",
    "Quý",
    "Đạt",
    "Lợi",
    "Phúc",
    "Toàn",
    "Khải",
    "Chiến",
    "Thịnh",
    "Vượng",
    "Hưởng",
    "Tài",
]
# Payout BINs, weighted towards what Mậu A vendors were enrolled with (Viettel Money) and the
# banks with branches in Văn Yên.
BINS = [
    ("971005", 35),
    ("970405", 20),
    ("970418", 12),
    ("970415", 10),
    ("970436", 8),
    ("970422", 8),
    ("970449", 4),
    ("970407", 3),
]
# Viettel mobile prefixes (the programme enrolled vendors with Viettel).
PREFIXES = ["086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039"]


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    password: str


def _name(rng: random.Random) -> str:
    if rng.random() < 0.68:  # most market vendors are women
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        text = rng.choice(PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(7))
        try:
            phone = normalise_mobile(text)
        except InvalidPhoneError:
            continue
        if phone not in used:
            used.add(phone)
            return phone


def _account(rng: random.Random, bin_code: str) -> tuple[str, AccountKind]:
    if bin_code == "971005":  # Viettel Money: the wallet is addressed by the phone-like number
        return "0" + "".join(str(rng.randrange(10)) for _ in range(9)), AccountKind.EWALLET
    length = rng.choice([10, 12, 13, 14])
    return "".join(str(rng.randrange(10)) for _ in range(length)), AccountKind.BANK_ACCOUNT


def load_demo(session: Session, *, seed: int = 2023) -> tuple[Market, list[DemoLogin], bool]:
    """Create the demo market and users unless they exist; returns (market, logins, created)."""
    logins = [
        DemoLogin(Role.ADMIN, "admin", DEMO_PASSWORD),
        DemoLogin(Role.MANAGER, "quanly.maua", DEMO_PASSWORD),
        DemoLogin(Role.VENDOR, "tieuthuong.b12", DEMO_PASSWORD),
        DemoLogin(Role.PLANNER, "kehoach.vanyen", DEMO_PASSWORD),
        DemoLogin(Role.SHOPPER, "nguoimua", DEMO_SHOPPER_PIN),
    ]
    existing = session.exec(select(Market).where(Market.code == MARKET_CODE)).first()
    if existing is not None:
        return existing, logins, False
    rng = random.Random(seed)  # noqa: S311  (demo data, not secrets)
    held_since = local_today() - timedelta(days=30)  # the vendors held their stalls a month ago
    market = create_market(
        session,
        actor=SYSTEM,
        data=MarketCreate(
            code=MARKET_CODE,
            name="Chợ trung tâm thị trấn Mậu A",
            commune="Thị trấn Mậu A",
            district="Huyện Văn Yên",
            province="Tỉnh Yên Bái",
            address="Tổ dân phố 5, thị trấn Mậu A, huyện Văn Yên, tỉnh Yên Bái",
        ),
    )
    market_id = require_id(market)
    used_phones: set[str] = set()
    bins, weights = zip(*BINS, strict=True)
    b12_vendor_id: int | None = None  # stall B-12 always gets its vendor below
    for zone_code, zone_name, count, categories in ZONES:
        zone = create_zone(
            session,
            actor=SYSTEM,
            market_id=market_id,
            data=ZoneCreate(code=zone_code, name=zone_name),
        )
        for number in range(1, count + 1):
            code = f"{zone_code}-{number:02d}" if number < 100 else f"{zone_code}-{number}"
            area = rng.choice([4.0, 6.0, 6.0, 8.0, 9.0, 12.0])
            stall = create_stall(
                session,
                actor=SYSTEM,
                market_id=market_id,
                data=StallCreate(
                    code=code,
                    zone_id=zone.id,
                    area_m2=area,
                    category=rng.choice(categories),
                    monthly_fee=int(area * 40_000),
                ),
            )
            if rng.random() < 0.08 and code != "B-12":
                continue  # a few vacant stalls
            name = "Nguyễn Thị Hường" if code == "B-12" else _name(rng)
            vendor = create_vendor(
                session,
                actor=SYSTEM,
                market_id=market_id,
                data=VendorCreate(
                    full_name=name,
                    phone=_phone(rng, used_phones),
                    national_id="0" + "15" + "".join(str(rng.randrange(10)) for _ in range(9))
                    if rng.random() < 0.7
                    else None,
                ),
            )
            assign_vendor(
                session,
                actor=SYSTEM,
                stall_id=require_id(stall),
                data=AssignmentCreate(vendor_id=require_id(vendor), start_date=held_since),
            )
            if code == "B-12":
                b12_vendor_id = require_id(vendor)
            if rng.random() < 0.85 or code == "B-12":
                bin_code = rng.choices(bins, weights)[0]
                number_text, kind = _account(rng, bin_code)
                add_account(
                    session,
                    actor=SYSTEM,
                    vendor_id=require_id(vendor),
                    data=PayoutAccountCreate(bin=bin_code, account_number=number_text, kind=kind),
                )
    for login in logins:
        if session.exec(select(User).where(User.username == login.username)).first():
            continue
        create_user(
            session,
            actor=SYSTEM,
            data=UserCreate(
                username=login.username,
                password=DEMO_PASSWORD,  # the shopper's is replaced by the PIN below
                full_name={
                    Role.ADMIN: "Quản trị hệ thống",
                    Role.MANAGER: "Ban quản lý chợ Mậu A",
                    Role.VENDOR: "Nguyễn Thị Hường",
                    Role.PLANNER: "Phòng Kinh tế - Hạ tầng Văn Yên",
                    Role.SHOPPER: "Người mua thử",
                }[login.role],
                role=login.role,
                market_ids=[market_id] if login.role is Role.MANAGER else [],
                vendor_id=b12_vendor_id if login.role is Role.VENDOR else None,
            ),
        )
    shopper = session.exec(select(User).where(User.username == "nguoimua")).one()
    shopper.phone = DEMO_SHOPPER_PHONE
    shopper.password_hash = hash_password(DEMO_SHOPPER_PIN)  # a wallet's PIN, as open_wallet sets
    session.add(shopper)
    session.flush()
    top_up(
        session, wallet=shopper_wallet(session, require_id(shopper)), amount=500_000, now=utc_now()
    )
    return market, logins, True
