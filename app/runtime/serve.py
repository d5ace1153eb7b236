"""Serving (`python -m app`): one process for development, or `--workers N` under gunicorn.

Alone, this process opens the API and admin sockets, serves until SIGINT/SIGTERM and drains
within SHUTDOWN_TIMEOUT. With `--workers N` it becomes gunicorn's manager
(app/runtime/gunicorn_conf.py), which replaces dead workers and reloads them on SIGHUP.
`--check` only validates the configuration and that both ports are free, and prints the
settings that differ from their defaults (passwords and secrets masked; scripts/run calls it
before migrating, so a port in use stops the start before anything is changed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys

import structlog
from aiohttp import web

from app.runtime.config import Config, ConfigError, for_workers, load_config
from app.runtime.logging import configure_logging
from app.runtime.settings import effective, help_text
from app.runtime.sockets import StartupError, check_free, listen

log = structlog.get_logger("app.runtime")
# Seconds a stopping process waits for its keep-alive connections to take their last answer
# (gunicorn's keepalive, which the workers use).
DRAIN_GRACE = 2.0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["upgrade"]:
        return _upgrade(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="Serve the sales API.",
        epilog=help_text(Config),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="run N worker processes under gunicorn (default: one process, for development)",
    )
    parser.add_argument(
        "--check", action="store_true", help="check the configuration and ports, then exit"
    )
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        print("configuration error: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        config = for_workers(load_config(), args.workers or 1)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        return _check(config)
    if args.workers is not None:
        _exec_gunicorn(args.workers)  # does not return
    return _serve_alone(config)


def _upgrade(argv: list[str]) -> int:
    """`python -m app upgrade --pid <manager pid>` (app/runtime/upgrade.py)."""
    from app.runtime.upgrade import upgrade

    parser = argparse.ArgumentParser(
        prog="python -m app upgrade",
        description="Replace every worker of a running `--workers` service with new code,"
        " dropping no request: USR2, wait until the new workers are ready, stop the old ones.",
    )
    parser.add_argument("--pid", type=int, required=True, help="the gunicorn manager's pid")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait (60)")
    args = parser.parse_args(argv)
    return upgrade(args.pid, args.timeout)


def _check(config: Config) -> int:
    try:
        check_free(config.host, config.port, "PORT")
        if config.admin_port:
            check_free(config.admin_host, config.admin_port, "ADMIN_PORT")
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    changed = effective(config)
    print("configuration ok" + ("; not the defaults:" if changed else ": every default"))
    for line in changed:
        print(f"  {line}")
    return 0


def _exec_gunicorn(workers: int) -> None:
    command = [sys.executable, "-m", "gunicorn", "--config", "python:app.runtime.gunicorn_conf"]
    os.execv(sys.executable, [*command, "--workers", str(workers)])


def _serve_alone(config: Config) -> int:
    try:
        api = listen(config.host, config.port, "PORT")
        admin = None
        if config.admin_port:
            admin = listen(config.admin_host, config.admin_port, "ADMIN_PORT")
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    configure_logging(config.log_format, config.log_level, config.log_schema)
    loop = _new_loop()
    try:
        loop.run_until_complete(_serve(config, api, admin))
    finally:
        loop.close()
    return 0


async def _serve(config: Config, api: socket.socket, admin: socket.socket | None) -> None:
    from app.ops.telemetry import version
    from app.runtime.draining import drain
    from app.runtime.draining import install as install_drain
    from app.runtime.web_app import create_app

    app = await create_app(config, admin=admin)
    install_drain(app)
    runner = web.AppRunner(
        app, access_log=None, shutdown_timeout=config.shutdown_timeout, handle_signals=False
    )
    await runner.setup()
    await web.SockSite(runner, api).start()
    stop = asyncio.Event()
    reason = ["exit"]
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, _stop_for, stop, reason, signal.Signals(signum).name)
    log.info(
        "service_started",
        version=version(),
        address=_address(api),
        admin=_address(admin) if admin is not None else None,
        workers=1,
        pool_max_per_worker=config.db_pool_max,
        pool_max_total=config.db_pool_max,
        manager=None,
        pid=os.getpid(),
    )
    await stop.wait()
    await drain(runner, grace=DRAIN_GRACE)  # as a gunicorn worker does (draining.py)
    await runner.cleanup()
    log.info("service_stopped", reason=reason[0], pid=os.getpid())


def _stop_for(stop: asyncio.Event, reason: list[str], name: str) -> None:
    reason[0] = name
    stop.set()


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # optional: pip install .[speed]
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
