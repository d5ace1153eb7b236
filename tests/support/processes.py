"""Stopping a child process the tests started: politely first, for certain after a while."""

from __future__ import annotations

import subprocess
from collections.abc import Callable


def terminate(
    proc: subprocess.Popen[bytes], within: float, kill: Callable[[], None] | None = None
) -> None:
    """SIGTERM, and `kill` (SIGKILL to the process) if it has not exited `within` seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=within)
    except subprocess.TimeoutExpired:
        (kill or proc.kill)()
        proc.wait()
