"""Admission control: how many database-backed requests one worker works on at once.

The pipeline's admission stage (app/edge/pipeline.py) queues each request at its route's gate.

One event loop runs every request of a worker. When it is saturated, each turn of the loop
runs the steps of every request in flight, and a connection whose rows have arrived waits for
all of them before its request can take the rows and give the connection back: under load a
read held its connection many times longer than its database work took (docs/performance.md
has the figures). Letting only a
few requests in at a time (the rest queue here, first come first served, holding nothing)
keeps the turns short, so connections go back to the pool quickly; the CPU stays just as busy,
because a handful of requests in flight already covers the time spent waiting on PostgreSQL.

Reads and commands queue separately. A read is almost all CPU and one short statement, so two
at a time keep a worker busy. A command waits on row locks (orders of one tenant serialize
on its invoice counter) while it holds its place, so it gets more places, and a burst of
orders cannot keep reads out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator

from app.edge.rules import Gate


class Overloaded(Exception):
    """More requests queue for admission than the bound allows; refused at once (503)."""

    retry_after = 1
    detail = "the service has too many requests queued; retry shortly"


class AdmissionGate:
    def __init__(self, limit: int, max_queued: int) -> None:
        self.limit = limit
        self.max_queued = max_queued
        self.active = 0
        self._queue: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def enter(self) -> bool:
        """Take a place, waiting in turn when none is free; True if it had to wait."""
        if self.active < self.limit and not self._queue:
            self.active += 1
            return False
        if len(self._queue) >= self.max_queued:
            raise Overloaded()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            await turn  # leave() hands its place over: `active` already counts this request
            return True
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.leave()  # admitted and cancelled in the same turn: pass the place on
            else:
                turn.cancel()
                # A leave() in the same turn may already have skipped it off the queue.
                with contextlib.suppress(ValueError):
                    self._queue.remove(turn)
            raise

    def leave(self) -> None:
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self.active -= 1


class Place:
    """One request's place at its gate. A long poll steps aside while it waits (the place
    goes to the next in the queue) and queues again for its next look at the database."""

    def __init__(self, gate: AdmissionGate) -> None:
        self._gate = gate
        self.held = False

    async def take(self) -> bool:
        """Take the place; True if it had to wait its turn."""
        waited = await self._gate.enter()
        self.held = True
        return waited

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self._gate.leave()

    @contextlib.asynccontextmanager
    async def stepped_aside(self) -> AsyncIterator[None]:
        self.give_back()
        yield
        # Not after an exception (a deadline, a cancelled request): it leaves without a place,
        # and give_back() then has nothing to return.
        await self.take()


class Admission:
    """The worker's two gates; the route table says which one a route queues at."""

    def __init__(self, reads: AdmissionGate, commands: AdmissionGate) -> None:
        self.reads = reads
        self.commands = commands

    def gate(self, name: Gate) -> AdmissionGate:
        return self.reads if name == "reads" else self.commands
