"""What the health poller knows of each replica, and of the primary's recent positions; the
read router (routing.py) decides on this alone, without asking any server."""

from __future__ import annotations

import math
from collections import deque

from infrastructure.db.database import Database

NOT_POLLED = "not polled yet"


class Replica:
    """One hot standby: its bounded read pool, and what the last poll made of it."""

    def __init__(self, name: str, db: Database) -> None:
        self.name = name
        self.db = db
        self.in_rotation = False
        self.why_out = NOT_POLLED  # why it is out of rotation; "" while in it
        self.replayed = 0  # its replay position at the last poll
        # Wall-clock time at which the primary was last seen at or behind `replayed`.
        self.caught_up_at = -math.inf
        # Serving while the primary cannot be polled (health.py): no lag to measure.
        self.without_primary = False

    def usable(self, now: float, max_lag: float) -> bool:
        # The second test also drops a replica whose polls stall, before the poller notices.
        fresh = self.without_primary or now - self.caught_up_at <= max_lag
        return self.in_rotation and fresh


class PrimaryPositions:
    """Recent samples of the primary's position, oldest first: (position, last seen at)."""

    def __init__(self, keep_seconds: float) -> None:
        self._keep = keep_seconds
        self._samples: deque[tuple[int, float]] = deque()

    def record(self, position: int, at: float) -> None:
        if self._samples and self._samples[-1][0] == position:
            self._samples[-1] = (position, at)  # idle: the same position, seen later
        else:
            self._samples.append((position, at))
        while len(self._samples) > 1 and self._samples[0][1] < at - self._keep:
            self._samples.popleft()

    @property
    def latest(self) -> int | None:
        return self._samples[-1][0] if self._samples else None

    def caught_up_at(self, replayed: int) -> float | None:
        """The last time the primary was at or behind `replayed`, if still remembered."""
        for position, at in reversed(self._samples):
            if position <= replayed:
                return at
        return None
