"""Model parameters: one frozen dataclass with units, Mậu A defaults and where each comes from,
and the named scenarios planners compare (../shared/reference/simulator.md §3)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


def _p(default: Any, unit: str, source: str) -> Any:
    return field(default=default, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class Params:
    """Everything a run needs. Rates are per day unless the unit says otherwise."""

    # population
    n_shoppers: int = _p(
        8_000,
        "people",
        "Mậu A catchment of the market: town and near communes (assumption; district ≈ 80,100 adults, FACTS.md)",
    )
    n_villages: int = _p(
        40,
        "villages",
        "172 villages/groups in the district; ~40 within reach of the market (assumption)",
    )
    n_vendors: int = _p(350, "stalls", "Decree 60/2024 class-2 market: 200-400 points (ux.md §2.2)")
    smartphone_share: float = _p(
        0.57,
        "share of adults",
        "56-58 % in comparable mountain provinces, 2022 (simulator.md §3.4)",
    )
    account_share: float = _p(
        0.56,
        "share of adults",
        "World Bank Findex 2021: 56 % of Vietnamese adults hold an account; training opens one",
    )
    town_share: float = _p(
        0.35, "share of shoppers", "Mậu A town residents among market-goers (assumption)"
    )
    visit_town: float = _p(0.6, "visits/day", "town residents shop near-daily (simulator.md §3.1)")
    visit_village: float = _p(
        0.15, "visits/day", "remote villages weekly or on peak days (simulator.md §3.1)"
    )
    purchases_per_visit: int = _p(2, "stalls/visit", "assumption")
    ticket_mean: float = _p(60_000.0, "đồng", "typical market ticket (assumption)")
    ticket_sigma: float = _p(0.8, "lognormal σ", "spread of ticket sizes (assumption)")
    ticket_by_category: tuple[float, ...] = _p(
        (1.6, 0.6, 1.0, 2.0, 0.8, 1.5),
        "× mean ticket",
        "meat/fish, vegetables/fruit, grocery, clothing/household, cooked food, agri inputs (assumption)",
    )
    # shopper readiness (Bass + word of mouth within villages + training)
    p_s: float = _p(
        0.03 / 365, "per day", "Bass p ≈ 0.03/yr, Sultan-Farley-Lehmann 1990 (simulator.md §1.1)"
    )
    q_s: float = _p(
        0.38 / 365 * 20,
        "per day",
        "Bass q ≈ 0.38/yr, scaled for a campaign regime (calibrated, see calibrate)",
    )
    threshold: int = _p(
        0, "adopting contacts", "0 = linear Bass; k > 0 = complex contagion (Centola)"
    )
    members: int = _p(
        120,
        "CĐS members",
        "1,643 in the district (321 commune + 1,322 village), share in the catchment",
    )
    trainees_per_member_week: float = _p(
        1.0, "people/member/week", "assumption, calibrated to 78 % after 150 days"
    )
    training_efficacy: float = _p(
        0.6, "probability", "η: a training session makes a wallet ready (assumption)"
    )
    student_boost: float = _p(
        1.0, "× member capacity", "summer volunteer campaign doubles capacity (FACTS.md)"
    )
    summer_start_day: int = _p(30, "day of run", "campaign began in May; summer June-August")
    summer_end_day: int = _p(120, "day of run", "end of August")
    # vendor acceptance (two-sided)
    p_v: float = _p(0.002, "per day", "organic vendor uptake (assumption)")
    q_v: float = _p(0.02, "per day", "imitation of same-category vendors (assumption)")
    r_v: float = _p(
        0.10, "per day per asking share", "vendors respond to customers asking (Higgins 2022)"
    )
    ask_propensity: float = _p(
        0.3, "probability", "a ready shopper asks a non-accepting vendor (assumption)"
    )
    vendor_campaign_per_day: float = _p(
        8.0,
        "vendors/day",
        "bank/Viettel staff enrol vendors at the market (Hạ Long: 1,200 vendors, ux.md)",
    )
    vendor_campaign_days: int = _p(
        45, "days", "length of the staff campaign at the market (assumption)"
    )
    # habit, outages, fees, churn
    habit_start: float = _p(0.5, "probability of choosing QR", "assumption")
    habit_gain: float = _p(0.1, "α per success", "learning by doing (Agarwal-Kulkarni-Ritadhi)")
    habit_loss: float = _p(0.2, "β per failure", "a failed attempt sends people back to cash")
    outage_prob: float = _p(0.02, "per day", "mobile data/Wi-Fi outage days (assumption)")
    fee_rate: float = _p(0.0, "share of value", "personal-account VietQR is free (ledger.md §4)")
    fee_sensitivity: float = _p(
        0.5, "daily drop hazard per unit of fee rate", "assumption: 1 % fee → 0.5 %/day"
    )
    inactive_days: int = _p(
        30, "days", "a vendor with no QR receipt for this long is inactive (simulator.md §3.2.7)"
    )
    inactive_drop: float = _p(
        0.01, "per day", "inactive vendors remove the code (Thái Nguyên: half idle)"
    )
    lapse_days: int = _p(
        30, "days", "a wallet unused for this long is inactive (simulator.md §3.2.7)"
    )
    lapse_prob: float = _p(
        0.0, "per day", "inactive wallets lapse back to cash (off by default: shopper dis-adoption)"
    )
    blitz_start_day: int = _p(0, "day of run", "a temporary training blitz (persistence check)")
    blitz_end_day: int = _p(0, "day of run", "end of the blitz (0 = no blitz)")
    blitz_members: int = _p(0, "CĐS members", "extra trainers during the blitz")
    # switches
    bass_only: bool = _p(False, "", "the pure Bass reduction: one class, full mixing, extras off")
    substeps: int = _p(
        1,
        "steps per day",
        "Bass reduction only: split each day into this many steps with p/substeps, q/substeps",
    )
    seed_share: float = _p(0.0, "share", "shoppers ready on day 0")

    def with_changes(self, **changes: Any) -> Params:
        return replace(self, **changes)

    def problems(self) -> list[str]:
        """What is out of range (empty when the parameters make sense)."""
        found = []
        bounds = {
            "n_shoppers": (1, 200_000),
            "n_vendors": (1, 5_000),
            "n_villages": (1, 1_000),
            "purchases_per_visit": (1, 10),
            "members": (0, 100_000),
            "threshold": (0, 1_000),
        }
        for name, (low, high) in bounds.items():
            if not low <= getattr(self, name) <= high:
                found.append(f"{name} must be between {low} and {high}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                if len(value) != 6 or min(value) <= 0:
                    found.append(f"{f.name} needs 6 positive multipliers")
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            if value < 0 or value != value:
                found.append(f"{f.name} must be a non-negative number")
            if f.metadata["unit"].startswith(("share", "probability")) and value > 1:
                found.append(f"{f.name} is a share: at most 1")
        return found

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Each parameter with its default, unit and source (what `cho simulate scenarios` shows)."""
        defaults = cls()
        return [
            {
                "name": f.name,
                "default": getattr(defaults, f.name),
                "unit": f.metadata["unit"],
                "source": f.metadata["source"],
            }
            for f in fields(cls)
        ]


BASS = {
    "bass_only": True,
    "p_s": 0.03,
    "q_s": 0.38,
    "members": 0,
    "student_boost": 0.0,
    "vendor_campaign_per_day": 0.0,
    "outage_prob": 0.0,
    "fee_rate": 0.0,
    "inactive_drop": 0.0,
    "smartphone_share": 1.0,
    "seed_share": 0.0,
}

SCENARIOS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "no_teams": {"members": 0, "student_boost": 0.0},
    "double_teams": {"members": 240},
    "no_student_summer": {"student_boost": 0.0},
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
    "soundbox": "Có loa báo tiền",
    "fee_1pct": "Phí 1 %",
    "frequent_outages": "Mất mạng thường xuyên",
    "bass": "Mô hình Bass thuần",
}


def scenario_params(name: str, overrides: dict[str, Any] | None = None) -> Params:
    """The parameters of a named scenario, with `--param KEY=VALUE` overrides applied."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return Params().with_changes(**SCENARIOS[name], **(overrides or {}))


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`["members=200", "fee_rate=0.01"]` → typed values for `Params`."""
    types = {f.name: f.type for f in fields(Params)}
    result: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or key not in types:
            raise ValueError(f"--param {item!r}: expected KEY=VALUE with KEY one of the parameters")
        kind = str(types[key])
        if "bool" in kind:
            result[key] = raw.lower() in {"1", "true", "yes"}
        elif "int" in kind:
            result[key] = int(raw)
        else:
            result[key] = float(raw)
    return result
