"""The admission gate: a bounded number inside, a bounded FIFO queue, no place ever lost."""

from __future__ import annotations

import asyncio

import pytest

from app.edge.admission import AdmissionGate, Overloaded, Place


async def test_at_most_limit_requests_are_inside_and_the_rest_enter_in_arrival_order() -> None:
    gate = AdmissionGate(limit=2, max_queued=100)
    inside = 0
    most = 0
    order: list[int] = []

    async def request(n: int) -> None:
        nonlocal inside, most
        await gate.enter()
        try:
            inside += 1
            most = max(most, inside)
            order.append(n)
            await asyncio.sleep(0.001)
            inside -= 1
        finally:
            gate.leave()

    tasks = []
    for n in range(10):
        tasks.append(asyncio.create_task(request(n)))
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)

    assert most == 2
    assert order == list(range(10))
    assert gate.active == 0 and gate.queued == 0


async def test_a_full_queue_refuses_at_once() -> None:
    gate = AdmissionGate(limit=1, max_queued=1)
    await gate.enter()
    queued = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)

    with pytest.raises(Overloaded):
        await gate.enter()

    gate.leave()
    await queued  # the queued one got the place
    assert gate.active == 1
    gate.leave()
    assert gate.active == 0


async def test_a_request_that_gives_up_in_the_queue_takes_no_place() -> None:
    gate = AdmissionGate(limit=1, max_queued=10)
    await gate.enter()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await gate.enter()
    assert gate.queued == 0
    gate.leave()
    assert gate.active == 0


async def test_a_request_cancelled_as_it_is_admitted_passes_its_place_on() -> None:
    gate = AdmissionGate(limit=1, max_queued=10)
    await gate.enter()
    first = asyncio.create_task(gate.enter())
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)

    gate.leave()  # admits `first` ...
    first.cancel()  # ... which is cancelled before it runs
    await asyncio.wait_for(second, 1)

    assert first.cancelled()
    assert gate.active == 1 and gate.queued == 0
    gate.leave()
    assert gate.active == 0


async def test_a_queued_request_cancelled_while_another_leaves_is_still_just_cancelled() -> None:
    gate = AdmissionGate(limit=1, max_queued=10)
    await gate.enter()
    doomed = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)  # queued
    doomed.cancel()  # cancels its turn; its except clause has not run yet ...
    gate.leave()  # ... when the holder leaves and skips the cancelled turn off the queue

    with pytest.raises(asyncio.CancelledError):  # a ValueError here became a bare 500
        await doomed
    assert gate.queued == 0 and gate.active == 0


async def test_entering_says_whether_the_request_had_to_wait_its_turn() -> None:
    gate = AdmissionGate(limit=1, max_queued=10)
    assert await gate.enter() is False
    second = asyncio.create_task(gate.enter())
    await asyncio.sleep(0)
    gate.leave()
    assert await second is True


async def test_a_long_poll_gives_its_place_to_the_next_request_while_it_waits() -> None:
    gate = AdmissionGate(limit=1, max_queued=10)
    poller, other = Place(gate), Place(gate)
    await poller.take()
    async with poller.stepped_aside():
        await asyncio.wait_for(other.take(), 5)  # would never come while the poller held it
        other.give_back()
    assert poller.held and gate.active == 1
    poller.give_back()
    assert gate.active == 0


async def test_a_place_is_not_taken_again_when_the_wait_fails() -> None:
    gate = AdmissionGate(limit=1, max_queued=10)
    poller = Place(gate)
    await poller.take()
    with pytest.raises(TimeoutError):
        async with poller.stepped_aside():
            raise TimeoutError
    poller.give_back()  # nothing held: nothing given back twice
    assert not poller.held and gate.active == 0
