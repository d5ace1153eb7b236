"""gunicorn settings and hooks: the service as N workers under one manager.

    gunicorn --config python:app.runtime.gunicorn_conf --workers 4

(`python -m app --workers 4` runs exactly that.) Settings come from the same environment as
`python -m app` (app/runtime/config.py): HOST/PORT is the API, ADMIN_HOST/ADMIN_PORT the admin
socket the manager opens once and every worker serves, SHUTDOWN_TIMEOUT the graceful timeout.
The worker count is gunicorn's own setting: `--workers`, else WEB_CONCURRENCY, else 1.
The manager replaces a worker that dies, reloads workers on SIGHUP and drains them on SIGTERM.

Metrics: prometheus-client's multiprocess mode. Every worker writes its series to files in
PROMETHEUS_MULTIPROC_DIR (a fresh directory per run unless set; emptied at start when set),
the manager marks a dead worker's live gauges gone, and any worker's admin /metrics reads all
the files (app/ops/telemetry.py).
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog
from gunicorn.errors import HaltServer  # type: ignore[import-untyped]
from gunicorn.glogging import Logger as GunicornLogger  # type: ignore[import-untyped]

from app.runtime.config import Config, ConfigError, load_config
from app.runtime.logging import configure_logging
from app.runtime.sockets import StartupError, check_free, listen
from app.runtime.upgrade import WORKERS_FILE, ready_dir


def _metrics_dir() -> tuple[str, bool]:
    """The directory for this run's metric files, and whether we made it (then we remove it).

    It must be in the environment before prometheus_client is first imported: the library
    picks its value class then. gunicorn imports this module once in the manager, first.
    """
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        for stale in Path(given).glob("*.db"):  # counters of an earlier run must not add up
            stale.unlink()
        return given, False
    made = tempfile.mkdtemp(prefix="sales-api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
    return made, True


def _load() -> Config:
    try:
        return load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


_config = _load()
_dir, _made_dir = _metrics_dir()
_ready_dir = ready_dir(os.getpid())
configure_logging(_config.log_format, _config.log_level, _config.log_schema)
log = structlog.get_logger("app.runtime")

_host = f"[{_config.host}]" if ":" in _config.host else _config.host
bind = [f"{_host}:{_config.port}"]
wsgi_app = "app.runtime.web_app:create_app"  # called by SalesWorker with the worker's config
worker_class = "app.runtime.worker.SalesWorker"
graceful_timeout = math.ceil(_config.shutdown_timeout)  # gunicorn takes whole seconds
timeout = 30  # a worker whose event loop stalls this long is killed and replaced
loglevel = _config.log_level.lower()
logger_class = "app.runtime.gunicorn_conf.Logger"
accesslog = None  # the `request` event is the access log
proc_name = "sales-api"
# gunicorn 23+ listens on ~/.gunicorn/gunicorn.ctl by default: one path for every instance
# of every user's services on the host. We manage workers with signals only.
control_socket_disable = True

_admin: Any = None  # the admin socket, opened once by the manager; workers inherit it
_stop_reason = "exit"
_ADMIN_FD = "SALES_ADMIN_FD"  # the admin socket handed to a manager started by USR2
READY_TIMEOUT = 60.0  # seconds new workers get to be ready before a reload gives up


def on_starting(server: Any) -> None:
    """Before any socket: a port in use or a bad address is one line and exit status 1.
    A manager re-executed by USR2 (app/runtime/upgrade.py) inherits both sockets instead."""
    global _admin
    inherited = os.environ.pop(_ADMIN_FD, None)
    if "GUNICORN_FD" in os.environ:
        if inherited is not None:
            _admin = socket.socket(fileno=int(inherited))
            _admin.set_inheritable(True)
        return
    try:
        check_free(_config.host, _config.port, "PORT")
        if _config.admin_port:
            _admin = listen(_config.admin_host, _config.admin_port, "ADMIN_PORT")
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _remove_metrics_dir()
        sys.exit(1)


def pre_exec(server: Any) -> None:
    """USR2, in the forked copy about to become the new manager: pass the admin socket on,
    and start it as `python -m gunicorn` was started: run as a script path, gunicorn's own
    directory would come first on sys.path, and its `http` package would shadow the stdlib's."""
    args = server.START_CTX["args"]  # [python, argv[0], ...]
    if len(args) > 1 and args[1].endswith("gunicorn/__main__.py"):
        server.START_CTX["args"] = [args[0], "-m", "gunicorn", *args[2:]]
    if _admin is not None:
        server.cfg.env_orig[_ADMIN_FD] = str(_admin.fileno())


def when_ready(server: Any) -> None:
    for name in ("term", "int", "quit"):
        _note_reason(server, name)
    _ready_dir.mkdir(exist_ok=True)
    (_ready_dir / WORKERS_FILE).write_text(str(server.num_workers))  # for `upgrade`
    _old_workers_stop_once_new_ones_are_ready(server)
    log.info(
        "service_started",
        version=_version(),
        address=bind[0],
        admin=_admin_address(),
        workers=server.num_workers,
        pool_max_per_worker=_config.db_pool_max,
        pool_max_total=_config.db_pool_max * server.num_workers,
        manager="gunicorn",
        pid=os.getpid(),
    )


def pre_fork(server: Any, worker: Any) -> None:
    """Give the new worker the lowest slot no live worker has: a replacement takes the place
    (and the `worker` label) of the one it replaces."""
    taken = {getattr(w, "slot", 0) for w in server.WORKERS.values()}
    worker.slot = next(n for n in itertools.count(1) if n not in taken)
    worker.admin_socket = _admin
    worker.ready_dir = str(_ready_dir)


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _dir)  # type: ignore[no-untyped-call]
    (_ready_dir / str(worker.pid)).unlink(missing_ok=True)


def on_exit(server: Any) -> None:
    log.info("service_stopped", reason=_stop_reason, pid=os.getpid())
    _remove_metrics_dir()
    shutil.rmtree(_ready_dir, ignore_errors=True)


def _old_workers_stop_once_new_ones_are_ready(server: Any) -> None:
    """On SIGHUP gunicorn starts the new workers and stops the old ones right away, whether
    or not the new ones can serve yet (their boot takes 0.6-8 s here). The old ones are
    stopped only in manage_workers, when there are more workers than wanted: wait there
    until the newest ones are ready (app/runtime/draining.py). If they die or are not ready
    within READY_TIMEOUT, stop them instead and keep the old ones serving."""
    manage = server.manage_workers

    def manage_workers() -> None:
        if len(server.WORKERS) > server.num_workers:
            _wait_for_newest(server)
        manage()

    server.manage_workers = manage_workers


def _wait_for_newest(server: Any) -> None:
    newest = sorted(server.WORKERS.values(), key=lambda w: w.age)[-server.num_workers :]
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            server.reap_workers()
        except HaltServer:
            # A new worker could not boot (broken code or configuration): gunicorn would
            # stop the whole service here. Stop the new workers only; the old ones serve on.
            break
        if any(w.pid not in server.WORKERS for w in newest):
            break
        if all((_ready_dir / str(w.pid)).exists() for w in newest):
            log.info("new_workers_ready", workers=[w.pid for w in newest])
            return
        time.sleep(0.05)
    log.error("reload_failed", reason="new workers not ready", workers=[w.pid for w in newest])
    for worker in newest:
        if worker.pid in server.WORKERS:
            server.kill_worker(worker.pid, signal.SIGKILL)
    while any(w.pid in server.WORKERS for w in newest) and time.monotonic() < deadline + 5:
        server.reap_workers()
        time.sleep(0.05)


def _remove_metrics_dir() -> None:
    if _made_dir:
        shutil.rmtree(_dir, ignore_errors=True)


def _note_reason(server: Any, name: str) -> None:
    handle = getattr(server, f"handle_{name}")

    def noted() -> None:
        global _stop_reason
        _stop_reason = f"SIG{name.upper()}"
        handle()

    setattr(server, f"handle_{name}", noted)


def _admin_address() -> str | None:
    if _admin is None:
        return None
    host, port = _admin.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _version() -> str:
    from app.ops.telemetry import version

    return version()


class Logger(GunicornLogger):  # type: ignore[misc]
    """gunicorn's own messages go through our renderer (JSON lines on stdout), like every
    other library's; gunicorn's access log stays off."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        self.error_log.handlers = []
        self.error_log.propagate = True  # to the root handler configure_logging set
