"""Login throttling kept in PostgreSQL, so every worker and every instance shares the counts.

The policy (docs/security.md, "Login throttling", against OWASP's Authentication Cheat Sheet):
failures are counted per (account, address), per address and per account, each in a fixed
window. An address that fails too often for one account is refused for that account only; an
address that fails too often overall is refused for every account; an account refuses every
address but those it logged in from lately once its much higher ceiling is reached (a
distributed guess). So ten wrong passwords for carol from address A refuse A, and carol still
logs in from B at once.

Each attempt costs one statement (a function under the rows' locks, migration 0008) before
the password is checked, and a correct password one more: no transaction spans the hashing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from domain.errors import TooManyLoginAttempts
from infrastructure.db.database import Database
from infrastructure.db.tenancy import ACT_AS_TENANT

_ATTEMPT = (
    f"{ACT_AS_TENANT}; select login_throttle_attempt(%(tenant_id)s, %(pair)s, %(address)s,"
    " %(account)s, %(pair_limit)s, %(address_limit)s, %(account_limit)s, %(window_s)s)"
)
_SUCCESS = (
    f"{ACT_AS_TENANT}; select login_throttle_success(%(tenant_id)s, %(pair)s, %(address)s,"
    " %(account)s, %(trust_s)s)"
)


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    per_account_address: int = 5
    per_address: int = 30
    per_account: int = 100
    window_s: int = 900
    trust_s: int = 30 * 86400  # an address the account logged in from is trusted this long


class PgLoginThrottle:
    def __init__(self, db: Database, policy: ThrottlePolicy) -> None:
        self._db = db
        self._policy = policy

    async def attempt(self, tenant_id: UUID, email: str, address: str) -> None:
        p = self._policy
        params = {
            **_keys(tenant_id, email, address),
            "pair_limit": p.per_account_address,
            "address_limit": p.per_address,
            "account_limit": p.per_account,
            "window_s": p.window_s,
        }
        async with self._db.connection("command") as conn:
            rows = await conn.execute(_ATTEMPT, params)
        wait_s = int(rows[0][0])
        if wait_s > 0:
            raise TooManyLoginAttempts(wait_s)

    async def succeeded(self, tenant_id: UUID, email: str, address: str) -> None:
        params = {**_keys(tenant_id, email, address), "trust_s": self._policy.trust_s}
        async with self._db.connection("command") as conn:
            await conn.execute(_SUCCESS, params)


def _keys(tenant_id: UUID, email: str, address: str) -> dict[str, object]:
    # Prefixed so no address can read as an account nor a pair as either.
    return {
        "tenant_id": tenant_id,
        "pair": f"pair:{email}\n{address}",
        "address": f"address:{address}",
        "account": f"account:{email}",
    }
