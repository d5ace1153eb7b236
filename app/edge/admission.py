"""Admission control: how many database-backed requests one worker works on at once.

One event loop runs every request of a worker. When it is saturated, each turn of the loop
runs the steps of every request in flight, and a connection whose rows have arrived waits for
all of them before its request can take the rows and give the connection back: under 100
clients a read held its connection ~7 ms for well under 1 ms of database work. Letting only a
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

from aiohttp import web

from app.edge.keys import ADMISSION, PLACE, ROUTE
from app.edge.types import Handler


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

    async def enter(self) -> None:
        if self.active < self.limit and not self._queue:
            self.active += 1
            return
        if len(self._queue) >= self.max_queued:
            raise Overloaded()
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(turn)
        try:
            await turn  # leave() hands its place over: `active` already counts this request
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

    async def take(self) -> None:
        await self._gate.enter()
        self.held = True

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


@web.middleware
async def admission(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request[ROUTE]
    if route is None or route.gate is None:
        return await handler(request)  # health, metrics, docs, login: never queued
    admission = request.app[ADMISSION]
    gate = admission.reads if route.gate == "reads" else admission.commands
    # A command's body was read before it got here (app/edge/receive.py): a slow client never
    # sits on a place.
    place = request[PLACE] = Place(gate)
    await place.take()
    try:
        return await handler(request)
    finally:
        place.give_back()
