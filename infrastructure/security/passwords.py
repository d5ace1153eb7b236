"""argon2id password hashing, run in a small bounded thread pool.

The pool is bounded so a login storm queues here instead of starving the event loop or taking
every core; no database connection is held while a hash runs. Its threads also run at a lower
scheduling priority than the rest of the process (Linux applies nice per thread): with
several workers each has its own hashing thread, and at equal priority a storm of logins
took CPU from every read on the machine. Now hashes use what the event loops and PostgreSQL
leave over; a login under load takes longer, reads do not.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHING_NICENESS = 10


def _lower_priority() -> None:
    """Runs in each hashing thread as it starts: nice that thread only, not the process, and
    relative to where the process already runs (a new thread starts at its creator's)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux, or not allowed: carry on
        me = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + HASHING_NICENESS)


class Argon2Hasher:
    def __init__(self, workers: int = 2, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="argon2", initializer=_lower_priority
        )

    async def verify(self, password_hash: str, password: str) -> bool:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._verify, password_hash, password)

    def hash(self, password: str) -> str:
        """For the demo seed and operator tools; the service itself only verifies."""
        return self._hasher.hash(password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
