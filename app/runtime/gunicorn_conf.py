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
import sys
import tempfile
from pathlib import Path
from typing import Any

import structlog
from gunicorn.glogging import Logger as GunicornLogger  # type: ignore[import-untyped]

from app.runtime.config import Config, ConfigError, load_config
from app.runtime.logging import configure_logging
from app.runtime.sockets import StartupError, check_free, listen


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


def on_starting(server: Any) -> None:
    """Before any socket: a port in use or a bad address is one line and exit status 1."""
    global _admin
    try:
        check_free(_config.host, _config.port, "PORT")
        if _config.admin_port:
            _admin = listen(_config.admin_host, _config.admin_port, "ADMIN_PORT")
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        _remove_metrics_dir()
        sys.exit(1)


def when_ready(server: Any) -> None:
    for name in ("term", "int", "quit"):
        _note_reason(server, name)
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


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _dir)  # type: ignore[no-untyped-call]


def on_exit(server: Any) -> None:
    log.info("service_stopped", reason=_stop_reason, pid=os.getpid())
    _remove_metrics_dir()


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
