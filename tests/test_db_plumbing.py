"""Shared plumbing in market.db: `require_id` raises on a row without an id."""

from __future__ import annotations

import pytest

from market.db import require_id
from market.registry.models import Market


def test_require_id_returns_the_id() -> None:
    assert require_id(Market(id=7, code="x", name="X", name_key="x")) == 7


def test_require_id_refuses_a_row_without_one() -> None:
    with pytest.raises(ValueError, match="Market has no id"):
        require_id(Market(code="x", name="X", name_key="x"))
