"""Which version of each tenant's resources this worker knows is current, heard from
PostgreSQL.

Migration 0009's triggers advance `resource_versions(tenant_id, kind)` in every writing
transaction (a command's at its commit, migration 0010) and notify `resource_versions` on
commit. The worker's listener
(infrastructure/db/listener.py, the connection the principal cache already listens on) hears
them; `VersionBook` keeps the highest version heard per (tenant, kind). It is trusted only
while it can be complete, like the principal cache (fail closed):

- after LISTEN, the listener reads the whole table once on its own connection (`load`), so
  nothing committed before it listened is unknown; notifications that arrive meanwhile are
  kept too, since the higher version wins, whatever the order;
- while the listener is not listening, or before that first read, `serving` is False and
  nothing may be answered from a version (no 304, no cached answer);
- a restart forgets everything and reads the table again; a payload it cannot read
  (a stray `pg_notify`) stops the shortcut until the listener next starts listening.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from uuid import UUID

from infrastructure.db.listener import Fetch

VERSIONS_CHANNEL = "resource_versions"  # what the migration 0009 triggers notify
KINDS = ("customers", "products", "orders", "invoices")
DASHBOARD = "dashboard"  # not a table's kind: every kind together (and, at the edge, the clock)

_Key = tuple[UUID, str]


class VersionBook:
    """The latest version heard per (tenant, kind); 0 for one never written."""

    def __init__(self, observe_delay: Callable[[float], None] | None = None) -> None:
        # Seconds from the writing statement to this worker hearing it (an upper bound of
        # commit to heard), for the staleness bound (docs/architecture.md).
        self._observe_delay = observe_delay
        self._versions: dict[_Key, int] = {}
        self.listening = False
        self.loaded = False  # the table was read since the listener last started listening
        self.heard = 0  # notifications applied, for /metrics
        self.resets = 0  # times everything was forgotten (listener down, unreadable payload)

    @property
    def serving(self) -> bool:
        return self.listening and self.loaded

    def version(self, tenant_id: UUID, kind: str) -> int:
        return self._versions.get((tenant_id, kind), 0)

    def stamp(self, tenant_id: UUID) -> tuple[int, ...] | None:
        """Every kind's version for the tenant, or None while the book cannot be trusted."""
        if not self.serving:
            return None
        return tuple(self.version(tenant_id, kind) for kind in KINDS)

    def apply(self, payload: str) -> None:
        """A notification: `<tenant_id>:<kind>:<version>:<statement time, unix µs>`."""
        try:
            tenant, kind, version, written_us = payload.split(":")
            self._raise((UUID(tenant), kind), int(version))
            written = int(written_us) / 1e6
        except ValueError:
            self._forget()
            return
        self.heard += 1
        if self._observe_delay is not None:
            self._observe_delay(max(time.time() - written, 0.0))

    async def load(self, fetch: Fetch) -> None:
        """Read every version once, on the listener's connection, after its LISTEN."""
        rows = await fetch("select tenant_id::text, kind, version from resource_versions")
        for tenant, kind, version in rows:
            self._raise((UUID(tenant), kind), version)
        self.loaded = True

    def resume(self) -> None:
        """The listener listens (and `load` has run): from now on every commit is heard."""
        self.listening = True

    def suspend(self) -> None:
        """The listener stopped: commits may go unheard, so forget and serve nothing."""
        self.listening = False
        self._forget()

    def _raise(self, key: _Key, version: int) -> None:
        if version > self._versions.get(key, 0):
            self._versions[key] = version

    def _forget(self) -> None:
        self._versions.clear()
        self.loaded = False
        self.resets += 1
