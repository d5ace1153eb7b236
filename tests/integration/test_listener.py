"""The listener on the real database: it hears what commits elsewhere, and it stops when
closed, whatever it was doing at that moment."""

from __future__ import annotations

import asyncio
import os
import random
import time

from infrastructure.db.listener import Listener

CHANNEL = "listener_test"


class Heard:
    def __init__(self) -> None:
        self.payloads: list[str] = []
        self.states: list[str] = []

    def listener(self, channel: str = CHANNEL) -> Listener:
        url = os.environ["DATABASE_URL"]
        return Listener(
            url,
            channel,
            probe_dsn=url,
            on_notify=self.payloads.append,
            on_up=lambda: self.states.append("up"),
            on_down=lambda: self.states.append("down"),
        )


async def until(condition, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


async def test_it_counts_as_up_only_after_hearing_its_probe_then_hears_commits(seeder):
    heard = Heard()
    listener = heard.listener()
    listener.start()
    try:
        await until(lambda: listener.up)
        assert heard.states == ["up"] and listener.state == "listening"
        assert heard.payloads == []  # its own probe is not passed on
        seeder.run(None, "select pg_notify(%s, 'hello')", (CHANNEL,))
        seeder.run(None, "select pg_notify(%s, 'again')", (CHANNEL,))
        await until(lambda: len(heard.payloads) == 2)
        assert heard.payloads == ["hello", "again"]
    finally:
        await listener.close()
    assert listener.outages == 0


async def test_a_listener_closed_at_any_moment_stops():
    # Closing right after start lands in connect, LISTEN, the probe or the wait: with a
    # single cancel, one of aiopg's wait_for calls could swallow it and listen on for good.
    for _ in range(60):
        listener = Heard().listener()
        listener.start()
        await asyncio.sleep(random.random() * 0.03)
        async with asyncio.timeout(5):
            await listener.close()
