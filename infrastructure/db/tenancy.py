"""The one place that knows how a database session is put under a tenant.

Row-level security reads the tenant from the transaction-local setting `app.tenant_id`
(`TENANT_SETTING`). Everything that talks to tenant-owned tables goes through a prelude from
here: the one-trip read, the UnitOfWork's BEGIN, the owner-role jobs and the migrations'
policies. Every prelude takes the tenant as the `tenant_id` parameter, the same name the
statements use in their WHERE clauses, so a caller passes the tenant once.
"""

from __future__ import annotations

TENANT_SETTING = "app.tenant_id"

# The policy predicate the migrations install. `(select ...)` makes PostgreSQL evaluate it once
# per statement (an InitPlan), not once per row; `nullif(..., '')` makes an unset or empty
# setting compare to NULL, so a session without a tenant sees and writes nothing.
TENANT_PREDICATE = (
    f"tenant_id = (select nullif(current_setting('{TENANT_SETTING}', true), '')::uuid)"
)

# `set_config(..., true)` lasts until the end of the transaction: the implicit one of a
# multi-statement simple query (a read), or the explicit one a UnitOfWork opens.
_SET_TENANT = f"set_config('{TENANT_SETTING}', %(tenant_id)s::text, true)"
_SET_TIMEOUT = "set_config('statement_timeout', %(_statement_timeout)s, true)"
_READ_ONLY = " set local transaction_read_only = on; "

# Prepended to a tenant-scoped read: tenant, timeout, read-only guard, then the statement, all
# in ONE simple-protocol query (see infrastructure/db/reads.py).
TENANT_READ_PRELUDE = f"select {_SET_TENANT}, {_SET_TIMEOUT};{_READ_ONLY}"

# Prepended to a read of tables no tenant owns (the tenant lookup).
GLOBAL_READ_PRELUDE = f"select {_SET_TIMEOUT};{_READ_ONLY}"

# client_connection_check_interval: if a command is abandoned (request deadline, shutdown) the
# driver closes the socket, but a backend waiting on a lock would not notice until it gets the
# lock; with the check it gives up within a second and releases what it holds.
BEGIN_PRELUDE = (
    f"begin; select {_SET_TENANT}, {_SET_TIMEOUT},"
    " set_config('client_connection_check_interval', '1000', true)"
)

# For owner-role jobs that already run inside a transaction (seed, purge).
ACT_AS_TENANT = f"select {_SET_TENANT}"
