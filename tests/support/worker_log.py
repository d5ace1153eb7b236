"""Reading what a multi-worker service wrote to its JSON log, and waiting on it: for the
tests that start the real service under gunicorn and watch every worker."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path


def events(log: Path, name: str, **fields: object) -> int:
    """How many `name` events carry these fields (JSON lines only; gunicorn may add others)."""
    found = 0
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            event = json.loads(line)
            found += event["event"] == name and fields.items() <= event.items()
    return found


def until(condition: Callable[[], bool], within: float, what: str) -> float:
    """Seconds until `condition` held; fails the test past `within` (polls, never sleeps blind)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"{what} not within {within}s"
        time.sleep(0.01)
    return time.monotonic() - started
