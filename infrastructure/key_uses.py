"""When each API key was last used: noted in memory on the request, written in the background.

Authentication used to write `last_used_at` itself, in a unit of work opened inside a GET (once
a minute per key and worker), so a failed write failed the read and a slow one slowed it. Now
`note` only puts the time in a dict; one task per worker writes what was noted every
`every` seconds, one UPDATE per tenant, and a write that fails is logged and tried again with
the next batch. What a worker noted but had not yet written when it stops is written once on
the way out; if the database is down then, those few seconds of "last used" are lost, which
is the price of never making a request wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from datetime import datetime
from uuid import UUID

import structlog

from domain.ports import UnitOfWorkFactory

log = structlog.get_logger(__name__)

# Migration 0006's trigger announces "all" (every worker empties its auth cache) for a
# statement touching more than 1,000 rows; a batch stays below that, so it announces nothing.
MAX_BATCH = 1000
# Keys remembered between writes; beyond this, new keys' uses wait for the next round.
MAX_PENDING = 10_000


class KeyUses:
    """The KeyUseLog port: notes uses, and writes them in batches from a background task."""

    def __init__(self, uow: UnitOfWorkFactory, every: float) -> None:
        self._uow = uow
        self._every = every
        self._pending: dict[tuple[UUID, UUID], datetime] = {}
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0  # uses not noted because MAX_PENDING keys were already waiting

    @property
    def pending(self) -> int:
        return len(self._pending)

    def note(self, tenant_id: UUID, key_id: UUID, at: datetime) -> None:
        key = (tenant_id, key_id)
        if key in self._pending or len(self._pending) < MAX_PENDING:
            self._pending[key] = at
        else:
            self.dropped += 1

    async def flush(self) -> None:
        """Write what was noted so far; what fails, or is cut short, stays noted."""
        batch, self._pending = self._pending, {}
        chunks = _chunks(batch)
        while chunks:
            tenant_id, uses = chunks[0]
            try:
                await self._write(tenant_id, uses)
            except asyncio.CancelledError:
                for left in chunks:
                    self._keep(*left)
                raise
            except Exception as exc:  # whatever it was, no request is waiting on it
                log.warning("key_uses_not_written", keys=len(uses), error=repr(exc))
                self._keep(tenant_id, uses)
            chunks.pop(0)

    async def _write(self, tenant_id: UUID, uses: list[tuple[UUID, datetime]]) -> None:
        async with self._uow(tenant_id) as uow:
            await uow.api_keys.record_uses(uses)
            await uow.commit()

    def _keep(self, tenant_id: UUID, uses: list[tuple[UUID, datetime]]) -> None:
        for key_id, at in uses:
            self._pending.setdefault((tenant_id, key_id), at)  # a newer use noted since wins

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="key-uses")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._every)
            if self._pending:
                await self.flush()

    async def close(self, within: float = 2.0) -> None:
        """Stop the task, then write what is still noted, giving up after `within` seconds."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._pending:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self.flush()


def _chunks(
    batch: dict[tuple[UUID, UUID], datetime],
) -> list[tuple[UUID, list[tuple[UUID, datetime]]]]:
    """One tenant's uses per chunk (RLS: a unit of work is one tenant's), MAX_BATCH at most."""
    grouped: dict[UUID, list[tuple[UUID, datetime]]] = defaultdict(list)
    for (tenant_id, key_id), at in batch.items():
        grouped[tenant_id].append((key_id, at))
    return [
        (tenant_id, uses[start : start + MAX_BATCH])
        for tenant_id, uses in grouped.items()
        for start in range(0, len(uses), MAX_BATCH)
    ]
