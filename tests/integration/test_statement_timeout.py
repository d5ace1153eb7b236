"""statement_timeout travels with every read and command: a runaway query is cancelled."""

from __future__ import annotations

import pytest

from infrastructure.db.errors import QueryTimeout
from infrastructure.db.reads import TenantReads
from infrastructure.db.sql import raw


async def test_a_query_past_statement_timeout_is_cancelled_and_retryable(make_db, tenant):
    db = make_db(maxsize=1, statement_timeout_ms=100)
    with pytest.raises(QueryTimeout):
        await TenantReads(db).fetch_all(tenant.id, raw("select pg_sleep(2)"))
    # The connection is usable again straight away.
    assert await TenantReads(db).fetch_all(tenant.id, raw("select 1")) == [(1,)]
    assert db.in_use == 0
