"""argon2 runs in its own threads, below the event loop's scheduling priority."""

from __future__ import annotations

import asyncio
import os
import threading

from infrastructure.security.passwords import HASHING_NICENESS, Argon2Hasher


def own_niceness() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_hashing_threads_run_nicer_than_the_event_loop_and_still_verify() -> None:
    hasher = Argon2Hasher(workers=1)
    try:
        stored = hasher.hash("correct horse")
        loop = asyncio.get_running_loop()
        in_pool = await loop.run_in_executor(hasher._executor, own_niceness)

        assert in_pool == min(19, own_niceness() + HASHING_NICENESS)
        assert await hasher.verify(stored, "correct horse")
        assert not await hasher.verify(stored, "wrong horse")
    finally:
        hasher.close()
