"""`python -m app upgrade --pid <manager pid>`: new code, every worker replaced, no request
dropped.

gunicorn's way (USR2, then stop the old manager): the old manager re-executes itself as a
new manager that inherits the listening sockets (the API's through GUNICORN_FD, the admin
one through SALES_ADMIN_FD) and starts its own workers on the code now on disk, while the old
workers go on serving. Once every new worker has said it is ready (app/runtime/draining.py:
a file per worker in the new manager's ready directory), the old manager gets SIGTERM and its
workers drain. If the new manager exits or its workers are not ready within `--timeout`, it
is stopped instead and the old one keeps serving: a broken release does not go live.

SIGHUP does the same with the manager kept: enough for configuration and for code that the
manager itself does not load (everything but app/runtime/gunicorn_conf.py, config.py,
logging.py, sockets.py, draining.py and worker.py, which the manager has imported).
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import time
from pathlib import Path

WORKERS_FILE = "workers"  # in a manager's ready directory: how many workers it runs


def ready_dir(manager_pid: int) -> Path:
    """Where the workers of one manager say they are ready (made by the manager)."""
    return Path(tempfile.gettempdir()) / f"sales-api-ready-{manager_pid}"


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited meanwhile
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(entry.name))
    return found


def ready_workers(manager_pid: int) -> set[int]:
    directory = ready_dir(manager_pid)
    if not directory.is_dir():
        return set()
    ready = {int(p.name) for p in directory.iterdir() if p.name.isdigit()}
    return ready & children(manager_pid)


def _workers_of(manager_pid: int) -> int:
    """How many workers the manager runs (0 until it has said so)."""
    try:
        return int((ready_dir(manager_pid) / WORKERS_FILE).read_text())
    except (OSError, ValueError):
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def upgrade(pid: int, timeout: float) -> int:
    if not ready_dir(pid).is_dir():
        print(f"error: {pid} is not a running sales-api manager", file=sys.stderr)
        return 1
    os.kill(pid, signal.SIGUSR2)  # handled once any reload in progress has finished
    deadline = time.monotonic() + timeout
    new: int | None = None
    while time.monotonic() < deadline:
        if new is None:
            new = next((c for c in children(pid) if ready_dir(c).is_dir()), None)
        elif not _alive(new):
            print(f"error: the new manager {new} exited; {pid} keeps serving", file=sys.stderr)
            return 1
        elif (wanted := _workers_of(new)) and len(ready_workers(new)) >= wanted:
            os.kill(pid, signal.SIGTERM)  # its workers drain (app/runtime/draining.py)
            print(f"upgraded: manager {pid} -> {new} ({wanted} workers ready)")
            return 0
        time.sleep(0.1)
    if new is not None and _alive(new):
        os.kill(new, signal.SIGTERM)
    print(f"error: new workers not ready within {timeout}s; {pid} keeps serving", file=sys.stderr)
    return 1
