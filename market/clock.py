"""Time: UTC instants, the market's business day in Asia/Ho_Chi_Minh, and a replaceable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

MARKET_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant, timezone-aware in UTC."""
    return datetime.now(UTC)


def business_day(instant: datetime) -> date:
    """The market's calendar day (Asia/Ho_Chi_Minh) that an instant falls on."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: instants must carry a timezone")
    return instant.astimezone(MARKET_TZ).date()


def local_today(clock: Clock = utc_now) -> date:
    return business_day(clock())
