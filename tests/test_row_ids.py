"""A row's id where one is needed: a missing id raises instead of turning into 0."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from market.db import require_id
from market.registry.models import Market, Zone


def test_a_row_without_an_id_raises() -> None:
    with pytest.raises(ValueError, match="Zone has no id yet"):
        require_id(Zone(market_id=1, code="A", name="Khu A"))


def test_a_flushed_row_has_its_id(engine: Engine) -> None:
    with Session(engine) as session:
        market = Market(code="cho-thu", name="Chợ Thử", name_key="cho thu")
        session.add(market)
        session.flush()
        assert require_id(market) == market.id
        session.rollback()
