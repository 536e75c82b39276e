"""Model parameters: one frozen dataclass with units, Mậu A defaults and the public source of each,
the range each may take, and the named scenarios planners compare.

Anchors (analogue markets, sources in README "Adoption simulator"): vendor acceptance plateaus
at 70–83 % after months of push (Thái Nguyên pilot, Quảng Ninh); about half of accepting vendors
have any QR receipt (Thái Nguyên's 11 pilot markets); ≈ 0.55 QR receipts per point per day and
≈ 660,000 đồng per QR payment (Yên Bái province: ~9,900 payments worth ~6.5 bn đồng a month at
> 600 points)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

THAI_NGUYEN = "Thái Nguyên Chợ 4.0 pilot, vietnamnet.vn/thai-nguyen-quyet-liet-trien-khai-mo-hinh-cho-4-0-2096581.html"
THAI_NGUYEN_11 = "wwwiso.com/thai-nguyen-nhan-rong-cho-4-0-a183468.html (70 % created a QR, about half of those used it)"
YEN_BAI = "Lao Động c. 2024, fr.laodong.vn/xa-hoi/hang-chuc-cho-o-vung-cao-yen-bai-lap-dat-diem-phat-wifi-mien-phi-1367928.ldo"
SMARTPHONES = "MIC March 2022 via sggpnews.org.vn/science_technology/vietnam-has-935-million-mobile-cellular-subscriptions-98795.html (mountain provinces 56-58 %)"
BASS_1990 = (
    "Sultan, Farley & Lehmann 1990, J. Marketing Research 27(1):70-77 (p ≈ 0.03, q ≈ 0.38 per year)"
)
VAN_YEN = "Báo Yên Bái 2023 on Văn Yên's 150-day digital-citizen campaign (25 commune teams, 321 members; 172 village teams, 1,322 members)"


def _p(default: Any, unit: str, source: str, low: float = 0.0, high: float | None = None) -> Any:
    bounds = (low, 1.0 if high is None and unit.startswith(("share", "probability")) else high)
    return field(default=default, metadata={"unit": unit, "source": source, "bounds": bounds})


def _en(bound: float) -> str:
    """A range's bound in plain digits: 50,000,000 or 0.1 (never 5e+07)."""
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:g}"


def _vi(bound: float) -> str:
    """The same as Vietnamese writes it: 50.000.000, 0,1."""
    return _en(bound).replace(",", "\x00").replace(".", ",").replace("\x00", ".")


@dataclass(frozen=True)
class Params:
    """Everything a run needs. Rates are per day unless the unit says otherwise."""

    # population
    n_shoppers: int = _p(
        8_000,
        "people",
        "catchment of Mậu A market: town and near communes (assumption; district ≈ 80,100 adults, "
        + VAN_YEN
        + ")",
        1,
        200_000,
    )
    n_villages: int = _p(
        40,
        "villages incl. the town",
        "172 villages in the district, ~40 within reach of the market (assumption)",
        1,
        1_000,
    )
    n_vendors: int = _p(
        350,
        "stalls",
        "district-centre analogues: Đại Từ ≈ 375 ("
        + THAI_NGUYEN
        + "), Cái Rồng 364 (vov.vn/kinh-te/…-post1132799.vov); assumption 300-400",
        1,
        5_000,
    )
    smartphone_share: float = _p(
        0.65,
        "share of adults",
        "73.5 % nationally, 56-58 % in the poorest mountain provinces, March 2022 ("
        + SMARTPHONES
        + "); assumption 60-70 % for the catchment in 2023",
    )
    account_share: float = _p(
        0.6,
        "share of adults",
        "> 60 % of adults with a bank account by mid-2022 (NAPAS, m.hanoitimes.vn/about-60-of-vietnamese-adults-have-bank-account-napas-321341.html); training opens one",
    )
    town_share: float = _p(
        0.35, "share of shoppers", "Mậu A town residents among market-goers (assumption)"
    )
    visit_town: float = _p(
        0.6, "probability of a visit a day", "town residents shop near-daily (assumption)"
    )
    visit_village: float = _p(
        0.15, "probability of a visit a day", "remote villages about weekly (assumption)"
    )
    purchases_per_visit: int = _p(2, "stalls a visit", "assumption", 1, 10)
    ticket_mean: float = _p(
        120_000.0,
        "đồng",
        "mean market purchase (assumption; the mean QR payment, larger, is the target: ≈ 660,000 đồng, "
        + YEN_BAI
        + ")",
        1_000,
        50_000_000,
    )
    ticket_sigma: float = _p(
        1.4,
        "lognormal σ",
        "wide spread: a bunch of herbs to a sack of fertiliser (assumption)",
        0,
        3,
    )
    ticket_by_category: tuple[float, ...] = _p(
        (1.6, 0.6, 1.0, 2.0, 0.8, 1.5),
        "× mean ticket",
        "meat/fish, vegetables/fruit, grocery, clothing/household, cooked food, agri inputs (assumption)",
    )
    vendor_popularity_sigma: float = _p(
        2.0,
        "lognormal σ",
        "a few stalls draw most customers (assumption; sets the active share)",
        0,
        3,
    )
    # shopper readiness (Bass + word of mouth + training)
    p_s: float = _p(0.03 / 365, "per day", BASS_1990 + ", as a daily rate p/365")
    q_s: float = _p(
        0.04,
        "per day at full local adoption",
        "word of mouth in village Zalo groups during a campaign (assumption; ≈ 40× Bass q/365)",
    )
    threshold: int = _p(
        0,
        "ready contacts",
        "0 = linear Bass in the village; k > 0 = ready when ≥ k of one's contacts are (Centola 2010, Science 329:1194)",
        0,
        1_000,
    )
    contacts: int = _p(
        10,
        "contacts in the village",
        "size of a shopper's circle for the threshold rule (assumption)",
        1,
        100,
    )
    members: int = _p(
        120,
        "CĐS members",
        "1,643 members in the district ("
        + VAN_YEN
        + "); ~120 in the market's catchment (assumption)",
        0,
        100_000,
    )
    trainees_per_member_week: float = _p(
        1.0,
        "people a member a week",
        "about one person a member a week (assumption; with q_s the ready share reaches the smartphone share in ~9 months)",
        0,
        50,
    )
    training_efficacy: float = _p(
        0.6, "probability", "η: a training session makes a wallet ready (assumption)"
    )
    student_boost: float = _p(
        1.0,
        "× member capacity",
        "summer volunteer campaign of grade 9-12 students (" + VAN_YEN + ")",
        0,
        20,
    )
    start_day_of_year: int = _p(
        121, "day of year", "the 150-day campaign began in May 2023 (" + VAN_YEN + ")", 0, 364
    )
    summer_start_day_of_year: int = _p(152, "day of year", "school summer: 1 June", 0, 364)
    summer_end_day_of_year: int = _p(243, "day of year", "school summer: 31 August", 0, 364)
    tet_start_day_of_year: int = _p(
        20,
        "day of year",
        "the weeks before Tết (late January to mid-February; the lunar date moves, assumption)",
        0,
        364,
    )
    tet_days: int = _p(21, "days", "length of the Tết shopping peak (assumption)", 0, 120)
    tet_visit_boost: float = _p(
        0.5, "× extra visits", "more market trips before Tết (assumption)", 0, 5
    )
    tet_ticket_boost: float = _p(
        0.5, "× extra ticket size", "bigger purchases before Tết (assumption)", 0, 5
    )
    # vendor acceptance (two-sided)
    vendor_phone_share: float = _p(
        0.85,
        "share of vendors",
        "vendors with a smartphone (assumption, above adults' 65 %: traders)",
    )
    vendor_account_share: float = _p(
        0.5,
        "share of vendors",
        "vendors with a bank account before the campaign (assumption); the campaign opens one (Viettel Money accounts were handed out)",
    )
    p_v: float = _p(0.0005, "per day", "organic vendor uptake (assumption)")
    q_v: float = _p(
        0.01, "per day at full category adoption", "imitation of same-category vendors (assumption)"
    )
    r_v: float = _p(
        0.05,
        "per day per asking share",
        "vendors respond to customers asking (Higgins 2024, AER 114(11):3469)",
    )
    ask_propensity: float = _p(
        0.3, "probability", "a ready shopper asks a non-accepting vendor (assumption)"
    )
    vendor_campaign_per_day: float = _p(
        8.0,
        "vendors visited a day",
        "bank/Viettel staff at the market (assumption: 2 staff × 4 stalls a day); fractions carry to the next day",
        0,
        1_000,
    )
    vendor_campaign_days: int = _p(
        45, "days", "8 a day × 45 days reaches every stall once (assumption)", 0, 3650
    )
    campaign_efficacy: float = _p(
        0.9,
        "probability",
        "a visited vendor with a phone starts accepting (assumption; sets the 70-83 % plateau with vendor_phone_share)",
    )
    # choosing QR
    habit_start: float = _p(
        0.8,
        "probability of choosing QR",
        "assumption (with cash_pref_mean and qr_half_ticket: ≈ 0.3-0.5 QR receipts per accepting vendor a day)",
    )
    cash_pref_mean: float = _p(
        0.35,
        "share (Beta mean)",
        "cash remains the default: 69 % of Vietnamese were unbanked in 2017 (Findex via cashmatters.org); assumption",
    )
    qr_half_ticket: float = _p(
        1_000_000.0,
        "đồng",
        "ticket at which QR appeals half as much as for a large one (assumption; makes QR payments larger than cash ones)",
        1,
        50_000_000,
    )
    habit_gain: float = _p(
        0.1, "α per success", "learning by doing (Agarwal, Kulkarni & Ritadhi, 'Cash is King')"
    )
    habit_loss: float = _p(
        0.2, "β per failure", "a failed attempt sends people back to cash (assumption)"
    )
    outage_prob: float = _p(
        0.02, "probability of an outage day", "mobile data/Wi-Fi outage days (assumption)"
    )
    # fees and drop-out
    fee_rate: float = _p(
        0.0,
        "share of value",
        "personal-account VietQR transfers are free (NAPAS); merchant QR pricing is an input",
        0,
        0.1,
    )
    receipt_benefit: float = _p(
        2_000.0,
        "đồng a QR receipt",
        "time saved on change and counting, no counterfeit notes (assumption)",
        0,
        1_000_000,
    )
    fee_drop: float = _p(
        0.05,
        "per day",
        "a vendor whose fees exceed the benefit of receipts and asks stops accepting (assumption)",
    )
    active_days: int = _p(
        7,
        "days",
        "a vendor with a QR receipt in the last week is active (with vendor_popularity_sigma: about half of accepting vendors, "
        + THAI_NGUYEN_11
        + ")",
        1,
        365,
    )
    inactive_days: int = _p(
        60, "days", "a vendor with no QR receipt for this long may remove the code", 1, 3650
    )
    inactive_drop: float = _p(
        0.002,
        "per day",
        "idle codes stay up for months (Thái Nguyên: about half idle, " + THAI_NGUYEN_11 + ")",
    )
    lapse_days: int = _p(30, "days", "a wallet unused for this long is inactive", 1, 3650)
    lapse_prob: float = _p(0.0, "per day", "inactive wallets lapse back to cash (off by default)")
    blitz_start_day: int = _p(
        0, "day of run", "a temporary training blitz (persistence check)", 0, 3650
    )
    blitz_end_day: int = _p(0, "day of run", "end of the blitz (0 = no blitz)", 0, 3650)
    blitz_members: int = _p(0, "CĐS members", "extra trainers during the blitz", 0, 100_000)
    substeps: int = _p(
        1,
        "steps a day",
        "readiness only: each day split into this many steps with p/substeps, q/substeps",
        1,
        1_000,
    )
    seed_share: float = _p(0.0, "share", "shoppers ready on day 0")

    def with_changes(self, **changes: Any) -> Params:
        return replace(self, **changes)

    def problems(self) -> list[tuple[str, str]]:
        """(parameter, what is wrong) for each value out of its range; empty when all make sense."""
        found = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                if len(value) != 6 or min(value) <= 0:
                    found.append((f.name, "cần 6 hệ số dương (needs 6 positive multipliers)"))
                continue
            low, high = f.metadata["bounds"]
            if value != value or value < low or (high is not None and value > high):
                where = f"từ {_vi(low)} đến {_vi(high)}" if high is not None else f"≥ {_vi(low)}"
                english = (
                    f"between {_en(low)} and {_en(high)}"
                    if high is not None
                    else f"at least {_en(low)}"
                )
                found.append((f.name, f"phải {where} (must be {english})"))
        return found

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Each parameter with its default, unit, range and source (`cho simulate scenarios`)."""
        defaults = cls()
        return [
            {
                "name": f.name,
                "default": getattr(defaults, f.name),
                "unit": f.metadata["unit"],
                "range": list(f.metadata["bounds"]),
                "source": f.metadata["source"],
            }
            for f in fields(cls)
        ]


# Each parameter as a person reads it: (Vietnamese label, Vietnamese unit). The pages show these,
# with the code name in small type for experts; a test fails when a parameter has no label.
LABELS: dict[str, tuple[str, str]] = {
    "n_shoppers": ("Số người mua trong vùng", "người"),
    "n_villages": ("Số thôn, tổ dân phố", "thôn (kể cả thị trấn)"),
    "n_vendors": ("Số ki-ốt, sạp", "ki-ốt"),
    "smartphone_share": ("Tỉ lệ người lớn có điện thoại thông minh", "tỉ lệ người lớn"),
    "account_share": ("Tỉ lệ người lớn có tài khoản ngân hàng", "tỉ lệ người lớn"),
    "town_share": ("Tỉ lệ người mua sống ở thị trấn", "tỉ lệ người mua"),
    "visit_town": ("Khả năng người thị trấn đi chợ mỗi ngày", "xác suất mỗi ngày"),
    "visit_village": ("Khả năng người ở thôn xa đi chợ mỗi ngày", "xác suất mỗi ngày"),
    "purchases_per_visit": ("Số sạp mua mỗi lần đi chợ", "sạp mỗi lần"),
    "ticket_mean": ("Giá trị trung bình một lần mua", "đồng"),
    "ticket_sigma": ("Độ phân tán giá trị một lần mua", "σ log-chuẩn"),
    "ticket_by_category": ("Hệ số giá trị theo ngành hàng", "lần giá trị trung bình"),
    "vendor_popularity_sigma": ("Độ chênh lệch lượng khách giữa các sạp", "σ log-chuẩn"),
    "p_s": ("Tự sẵn sàng trả QR (đổi mới, Bass p)", "mỗi ngày"),
    "q_s": ("Lan truyền trong thôn (bắt chước, Bass q)", "mỗi ngày khi cả thôn đã dùng"),
    "threshold": ("Ngưỡng người quen đã dùng", "người quen"),
    "contacts": ("Số người quen trong thôn", "người"),
    "members": ("Số thành viên tổ công nghệ số cộng đồng", "thành viên"),
    "trainees_per_member_week": ("Số người mỗi thành viên hướng dẫn mỗi tuần", "người mỗi tuần"),
    "training_efficacy": ("Hiệu quả một buổi hướng dẫn", "xác suất"),
    "student_boost": ("Học sinh hướng dẫn trong hè", "lần sức của tổ"),
    "start_day_of_year": ("Ngày bắt đầu chiến dịch trong năm", "ngày thứ trong năm"),
    "summer_start_day_of_year": ("Ngày bắt đầu hè", "ngày thứ trong năm"),
    "summer_end_day_of_year": ("Ngày kết thúc hè", "ngày thứ trong năm"),
    "tet_start_day_of_year": ("Ngày bắt đầu mùa mua sắm Tết", "ngày thứ trong năm"),
    "tet_days": ("Độ dài mùa mua sắm Tết", "ngày"),
    "tet_visit_boost": ("Đi chợ nhiều hơn trước Tết", "lần thêm"),
    "tet_ticket_boost": ("Mua nhiều tiền hơn trước Tết", "lần thêm"),
    "vendor_phone_share": ("Tỉ lệ tiểu thương có điện thoại thông minh", "tỉ lệ tiểu thương"),
    "vendor_account_share": ("Tỉ lệ tiểu thương có tài khoản ngân hàng", "tỉ lệ tiểu thương"),
    "p_v": ("Tiểu thương tự mở mã QR", "mỗi ngày"),
    "q_v": ("Tiểu thương bắt chước cùng ngành hàng", "mỗi ngày khi cả ngành đã dùng"),
    "r_v": ("Tiểu thương mở QR vì khách hỏi", "mỗi ngày theo tỉ lệ khách hỏi"),
    "ask_propensity": ("Khả năng người mua hỏi trả QR", "xác suất"),
    "vendor_campaign_per_day": ("Số tiểu thương được vận động mỗi ngày", "tiểu thương mỗi ngày"),
    "vendor_campaign_days": ("Độ dài đợt vận động tiểu thương", "ngày"),
    "campaign_efficacy": ("Hiệu quả một lần vận động", "xác suất"),
    "habit_start": ("Thói quen trả QR lúc đầu", "xác suất chọn QR"),
    "cash_pref_mean": ("Mức ưa tiền mặt trung bình", "tỉ lệ (trung bình Beta)"),
    "qr_half_ticket": ("Giá trị mua mà QR hấp dẫn một nửa", "đồng"),
    "habit_gain": ("Quen dần sau mỗi lần trả QR được", "α mỗi lần"),
    "habit_loss": ("Nản sau mỗi lần trả QR hỏng", "β mỗi lần"),
    "outage_prob": ("Khả năng một ngày mất mạng", "xác suất mỗi ngày"),
    "fee_rate": ("Phí giao dịch QR của tiểu thương", "tỉ lệ giá trị"),
    "receipt_benefit": ("Lợi ích của một lần nhận tiền QR", "đồng mỗi lần"),
    "fee_drop": ("Tiểu thương bỏ QR vì phí", "mỗi ngày"),
    "active_days": ("Số ngày tính là còn dùng QR", "ngày"),
    "inactive_days": ("Số ngày không có giao dịch thì có thể gỡ mã", "ngày"),
    "inactive_drop": ("Tiểu thương gỡ mã không dùng", "mỗi ngày"),
    "lapse_days": ("Số ngày không dùng thì ví coi như bỏ", "ngày"),
    "lapse_prob": ("Người mua quay lại tiền mặt", "mỗi ngày"),
    "blitz_start_day": ("Ngày bắt đầu đợt hướng dẫn tăng cường", "ngày của lượt chạy"),
    "blitz_end_day": (
        "Ngày kết thúc đợt hướng dẫn tăng cường (0 = không có)",
        "ngày của lượt chạy",
    ),
    "blitz_members": ("Số người hướng dẫn thêm trong đợt tăng cường", "thành viên"),
    "substeps": ("Số bước tính mỗi ngày", "bước mỗi ngày"),
    "seed_share": ("Tỉ lệ người mua sẵn sàng từ ngày đầu", "tỉ lệ người mua"),
}

BASS: dict[str, Any] = {
    # the Bass reduction of the one engine: one village (full mixing), everyone able to adopt,
    # no training, no market (so no vendors, outages, fees or habit) and no dis-adoption
    "n_villages": 1,
    "smartphone_share": 1.0,
    "account_share": 1.0,
    "members": 0,
    "student_boost": 0.0,
    "visit_town": 0.0,
    "visit_village": 0.0,
    "vendor_campaign_per_day": 0.0,
    "p_v": 0.0,
    "q_v": 0.0,
    "r_v": 0.0,
    "threshold": 0,
    "lapse_prob": 0.0,
    "seed_share": 0.0,
    "p_s": 0.03 / 365,
    "q_s": 0.38 / 365,
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "no_teams": {"members": 0, "student_boost": 0.0},
    "double_teams": {"members": 240},
    "no_student_summer": {"student_boost": 0.0},
    "no_vendor_campaign": {"vendor_campaign_per_day": 0.0},
    "soundbox": {"habit_gain": 0.2, "habit_start": 0.6},
    "fee_1pct": {"fee_rate": 0.01},
    "frequent_outages": {"outage_prob": 0.15},
    "bass": BASS,
}

SCENARIO_LABELS = {
    "baseline": "Cơ sở (baseline)",
    "no_teams": "Không có tổ CĐS",
    "double_teams": "Gấp đôi tổ CĐS",
    "no_student_summer": "Không có học sinh mùa hè",
    "no_vendor_campaign": "Không có đợt vận động tiểu thương",
    "soundbox": "Có loa báo tiền",
    "fee_1pct": "Phí 1 %",
    "frequent_outages": "Mất mạng thường xuyên",
    "bass": "Mô hình Bass thuần (p, q theo năm)",
}


class ParameterError(ValueError):
    """A parameter override that is unknown, malformed or out of range; `field` names it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def scenario_params(name: str, overrides: dict[str, Any] | None = None) -> Params:
    """A named scenario's parameters with overrides applied; overrides win over the scenario.
    Raises KeyError for an unknown scenario and ParameterError for an out-of-range value."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    unknown = sorted(set(overrides or {}) - {f.name for f in fields(Params)})
    if unknown:
        raise ParameterError(unknown[0], "không phải tham số của mô hình (not a model parameter)")
    params = Params().with_changes(**(SCENARIOS[name] | (overrides or {})))
    problems = params.problems()
    if problems:
        raise ParameterError(*problems[0])
    return params


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`["members=200", "fee_rate=0.01"]` → typed values for `Params`."""
    types = {f.name: str(f.type) for f in fields(Params)}
    result: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or key not in types:
            raise ParameterError(
                key or item, "cần KEY=VALUE với KEY là một tham số (expected KEY=VALUE)"
            )
        try:
            result[key] = int(raw) if types[key] == "int" else float(raw)
        except ValueError:
            raise ParameterError(key, f"{raw!r} không phải một số (not a number)") from None
    return result


# The metrics drawn as band charts for every run (file stems of the chart outputs).
# the day of a run each headline month (6, 12, 24) is read on
MONTH_DAYS = {6: 182, 12: 365, 24: 730}
CHARTED = ("qr_tx_share", "qr_value_share", "vendors_accepting_share", "shoppers_ready_share")
