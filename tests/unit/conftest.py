"""The fixture the service tests share: one tenant's shop on in-memory fakes (tests/unit/shop.py)."""

from __future__ import annotations

import pytest

from tests.unit.shop import Shop


@pytest.fixture
def shop() -> Shop:
    return Shop()
