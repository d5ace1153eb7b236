"""`python -m app deliver`: pushes every tenant's events to its webhook endpoints.

At least once, in feed order per endpoint: an endpoint's position moves past an event only
when the endpoint answered it 2xx, and its next event waits until then. Each claimed endpoint
is served by a task of its own, so one slow or dead endpoint delays only itself. No database
connection is held during an HTTP call: claim (a short transaction), read the batch (one
read), then for each event call, and record the outcome (a short transaction).

Row-level security stays on: the deliverer connects as the app role and acts as one tenant
at a time, the way every command does (a UnitOfWork under the tenant). It learns which tenants
to look at from the feed's notifications (channel `sales_events`, payload: the tenant), from
a scan of every tenant every SCAN_EVERY seconds (retries that came due, missed
notifications), and by looking again every TICK at the tenants that have endpoints.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from uuid import UUID

import structlog

from domain.services.webhooks import sealing_context
from infrastructure.db.database import Database
from infrastructure.db.reads import TenantReads, read_on
from infrastructure.db.tenancy import GLOBAL_READ_PRELUDE
from infrastructure.repositories.webhooks import endpoint_of
from infrastructure.unit_of_work import PgUnitOfWork
from infrastructure.webhooks import store
from infrastructure.webhooks.calls import Caller, CallSettings, Outcome
from infrastructure.webhooks.metrics import DeliveryMetrics
from infrastructure.webhooks.redaction import redacted_url
from infrastructure.webhooks.secrets import AesGcmSealer, SecretKeyMismatch
from infrastructure.webhooks.store import Claimed, Item

log = structlog.get_logger("deliver")

TICK = 0.5  # seconds between looks at tenants with endpoints (retries coming due)
SCAN_EVERY = 10.0  # seconds between looks at every tenant
BATCH = 20  # events read per claim
# Seconds of lease beyond one call's timeout: enough to record it, short enough that a killed
# deliverer's endpoints move on soon. Every call starts with at least the timeout and half
# this margin of lease left (`_hold`), so a slow batch keeps its endpoint from other deliverers.
LEASE_MARGIN = 5.0


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float
    schedule: tuple[float, ...]
    allow_private: bool
    concurrency: int
    # Not settings an operator sets: tests shorten the lease, or scan only when woken.
    lease_margin: float = LEASE_MARGIN
    scan_every: float = SCAN_EVERY


def settings_of_calls(settings: Settings) -> CallSettings:
    return CallSettings(settings.timeout, settings.allow_private, settings.concurrency)


class Deliverer:
    def __init__(
        self, db: Database, sealer: AesGcmSealer, settings: Settings, metrics: DeliveryMetrics
    ) -> None:
        self._db = db
        self._reads = TenantReads(db)
        self._sealer = sealer
        self._settings = settings
        self._metrics = metrics
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(4).hex()}"
        self._lease = settings.timeout + settings.lease_margin
        self._running: dict[UUID, asyncio.Task[None]] = {}
        # Per endpoint served, when its lease was last taken or renewed, by our own clock
        # before the statement was sent: the database's lease runs at least `_lease` from it.
        self._leased_at: dict[UUID, float] = {}
        self._due: set[UUID] = set()
        self._with_endpoints: set[UUID] = set()
        self._wake = asyncio.Event()
        self._next_scan = 0.0  # when to look at every tenant again (wake() makes it now)
        self._caller: Caller | None = None

    def wake(self) -> None:
        """Look at every tenant's endpoints now (the listener is back: news may have been missed)."""
        self._next_scan = 0.0
        self._wake.set()

    def notify(self, payload: str) -> None:
        """A tenant committed events (the listener's handler)."""
        try:
            self._due.add(UUID(payload))
        except ValueError:
            return  # the listener's own probe
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        async with Caller(settings_of_calls(self._settings)) as self._caller:
            while not stop.is_set():
                if time.monotonic() >= self._next_scan:
                    await self._scan()
                    self._next_scan = time.monotonic() + self._settings.scan_every
                # Cleared before the claims: news that arrives during them wakes the next round.
                self._wake.clear()
                due, self._due = self._due | self._with_endpoints, set()
                for tenant_id in due:
                    await self._claim(tenant_id)
                wakers = [
                    asyncio.ensure_future(self._wake.wait()),
                    asyncio.ensure_future(stop.wait()),
                ]
                await asyncio.wait(wakers, timeout=TICK, return_when=asyncio.FIRST_COMPLETED)
                for waker in wakers:
                    waker.cancel()
            await self._drain()

    async def _drain(self) -> None:
        """Let calls in flight finish and be recorded (bounded by the timeout)."""
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=self._lease)

    async def _scan(self) -> None:
        try:
            tenants = await read_on(
                self._db,
                GLOBAL_READ_PRELUDE + "select id from tenants",
                {"_statement_timeout": self._db.statement_timeout},
            )
        except Exception as exc:
            log.warning("deliver_scan_failed", error=type(exc).__name__)
            return
        depth, oldest = 0, 0.0
        for (tenant_id,) in tenants:
            try:
                rows = await self._reads.fetch_all(tenant_id, store.BACKLOG)
            except Exception:
                continue
            endpoints, retrying, age = rows[0]
            if not endpoints:
                self._with_endpoints.discard(tenant_id)
                continue
            self._with_endpoints.add(tenant_id)
            await self._claim(tenant_id)
            depth += retrying
            oldest = max(oldest, float(age or 0))
        self._metrics.retry_queue.set(depth)
        self._metrics.oldest_undelivered.set(oldest)

    async def _claim(self, tenant_id: UUID) -> None:
        room = self._settings.concurrency - len(self._running)
        if room <= 0:
            self._due.add(tenant_id)  # look again once a task has finished
            return
        params = {
            "owner": self.owner,
            "lease": self._lease,
            "busy": list(self._running),
            "n": room,
        }
        sent_at = time.monotonic()
        try:
            async with PgUnitOfWork(self._db, tenant_id) as uow:
                rows = await uow.writes.execute(store.CLAIM, params)
                await uow.commit()
        except Exception as exc:
            log.warning("deliver_claim_failed", tenant=str(tenant_id), error=type(exc).__name__)
            return
        if rows:
            self._with_endpoints.add(tenant_id)
        for row in rows:
            endpoint = Claimed(tenant_id, row[0], row[1], bytes(row[2]), list(row[3]), *row[4:6])
            self._leased_at[endpoint.id] = sent_at
            task = asyncio.create_task(self._serve(endpoint))
            self._running[endpoint.id] = task
            task.add_done_callback(partial(self._finished, endpoint.id))

    def _finished(self, endpoint_id: UUID, _task: asyncio.Task[None]) -> None:
        self._running.pop(endpoint_id, None)
        self._leased_at.pop(endpoint_id, None)
        self._wake.set()  # it may have more to send; and there is room for another

    async def _serve(self, endpoint: Claimed) -> None:
        served = False
        try:
            served = await self._serve_batch(endpoint)
        except Exception as exc:
            # No traceback: a console traceback shows each frame's locals, the secret among them.
            log.error(
                "deliver_failed",
                endpoint=str(endpoint.id),
                error=type(exc).__name__,
                detail=str(exc).replace(endpoint.url, redacted_url(endpoint.url))[:300],
            )
        finally:
            # An endpoint this round could not serve at all (its secret unreadable, an error
            # before any attempt) waits before it is claimed again: released as it is, the
            # wake-up after each task would claim it again at once, in a tight loop.
            await self._release(endpoint, store.RELEASE if served else store.RELEASE_LATER)

    async def _serve_batch(self, endpoint: Claimed) -> bool:
        """Send what is due, in feed order; False when the endpoint could not be served."""
        try:
            secret = self._sealer.open(
                endpoint.sealed_secret, sealing_context(endpoint.tenant_id, endpoint.id)
            )
        except SecretKeyMismatch:
            log.error("webhook_secret_unreadable", endpoint=str(endpoint.id))
            return False
        items, newest = await self._batch(endpoint)
        if (
            not any(item.resend_id is None for item in items)
            and newest > endpoint.delivered_through
        ):
            # Nothing of its types since its position: move it on, past what it does not want.
            await self._record(endpoint, store.SKIP_TO, {"position": newest})
        for item in items:
            assert self._caller is not None
            if not await self._hold(endpoint):
                return True  # no longer ours: another deliverer has it
            outcome = await self._caller.send(endpoint.url, secret, item)
            if not await self._settle(endpoint, item, outcome) or not outcome.ok:
                return True  # failed (the next event waits for the retry) or no longer ours
            if item.resend_id is None:
                # The database reset its failure count: a later failure in this batch starts
                # the schedule over instead of giving up on a receiver that just recovered.
                endpoint = replace(endpoint, failures=0)
        return True

    async def _batch(self, endpoint: Claimed) -> tuple[list[Item], int]:
        params = {
            "endpoint_id": endpoint.id,
            "after": endpoint.delivered_through,
            "types": endpoint.event_types,
            "limit": BATCH,
        }
        rows = await self._reads.fetch_all(endpoint.tenant_id, store.BATCH, params)
        items = [
            Item(r[3], r[4], r[5], r[6], r[7], resend_id=r[1] if r[0] == 0 else None)
            for r in rows
            if r[0] != 2
        ]
        newest = next((r[3] for r in rows if r[0] == 2), 0)
        return items, newest

    async def _hold(self, endpoint: Claimed) -> bool:
        """True when the lease outlasts the next call and its record, renewed first if it might
        not: run out mid-call, it would let another deliverer send the same event meanwhile.
        The previous attempt's record renewed it, so this costs a statement only after a slow
        step (the batch read, say); False when the endpoint is no longer ours."""
        held_for = time.monotonic() - self._leased_at[endpoint.id]
        if held_for <= self._settings.lease_margin / 2:
            return True
        return await self._record(endpoint, store.RENEW, {"lease": self._lease})

    async def _settle(self, endpoint: Claimed, item: Item, outcome: Outcome) -> bool:
        """Record the attempt; False when the endpoint is no longer ours."""
        common = {
            "endpoint_id": endpoint.id,
            "owner": self.owner,
            "status_code": outcome.status_code,
            "duration_ms": outcome.duration_ms,
        }
        attempt = endpoint.failures + 1
        fields = {"endpoint": str(endpoint.id), "event_id": str(item.event_id), "attempt": attempt}
        self._metrics.observe(outcome.ok, outcome.duration_ms)
        if item.resend_id is not None:
            ok = "succeeded" if outcome.ok else "failed"
            resend = {"delivery_id": item.resend_id, "outcome": ok, "error": outcome.error}
            params = common | resend | {"lease": self._lease}
            log.info("webhook_resent", outcome=ok, status=outcome.status_code, **fields)
            return await self._record(endpoint, store.RESENT, params)
        event = {
            "event_id": item.event_id,
            "position": item.position,
            "event_type": item.event_type,
        }
        if outcome.ok:
            log.info(
                "webhook_delivered", status=outcome.status_code, ms=outcome.duration_ms, **fields
            )
            params = common | event | {"attempt": attempt, "lease": self._lease}
            return await self._record(endpoint, store.SUCCEEDED, params)
        return await self._failed(endpoint, common | event | {"attempt": attempt}, outcome, fields)

    async def _failed(
        self, endpoint: Claimed, params: dict[str, Any], outcome: Outcome, fields: dict[str, Any]
    ) -> bool:
        schedule = self._settings.schedule
        give_up = endpoint.failures + 1 > len(schedule)
        delay = 0.0 if give_up else schedule[endpoint.failures] * random.uniform(0.8, 1.2)
        params |= {"delay": delay, "give_up": give_up, "error": outcome.error}
        log.info(
            "webhook_failed",
            status=outcome.status_code,
            error=outcome.error,
            retry_in_s=None if give_up else round(delay, 1),
            **fields,
        )
        async with PgUnitOfWork(self._db, endpoint.tenant_id) as uow:
            rows = await uow.writes.execute(store.FAILED, params)
            if not rows:
                return False
            await uow.writes.execute(store.FAILED_LOG, params)
            if give_up:
                # Every user of the tenant reads this event, and its other endpoints receive
                # it: the URL is shown only as far as its host (docs/events.md).
                disabled = endpoint_of(rows[0])
                shown = replace(disabled, url=redacted_url(disabled.url))
                uow.events.record("webhook_endpoint.disabled", shown)
                log.warning("webhook_endpoint_disabled", endpoint=str(endpoint.id))
            await uow.commit()
        return True

    async def _record(self, endpoint: Claimed, stmt: Any, params: dict[str, Any]) -> bool:
        params = {"endpoint_id": endpoint.id, "owner": self.owner} | params
        sent_at = time.monotonic()
        async with PgUnitOfWork(self._db, endpoint.tenant_id) as uow:
            rows = await uow.writes.execute(stmt, params)
            await uow.commit()
        if rows and "lease" in params:  # the statements given a lease renew it
            self._leased_at[endpoint.id] = sent_at
        return bool(rows) or stmt is store.SKIP_TO

    async def _release(self, endpoint: Claimed, stmt: Any) -> None:
        try:
            await self._record(endpoint, stmt, {})
        except Exception as exc:  # the lease runs out by itself
            log.warning(
                "deliver_release_failed", endpoint=str(endpoint.id), error=type(exc).__name__
            )
