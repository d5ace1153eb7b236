"""Serving: read the config, set up logging, serve until SIGINT/SIGTERM (`python -m app`).

With N > 1 this process becomes a small supervisor: it starts N workers that share the port
through SO_REUSEPORT (the kernel spreads connections), each with its own pool, forwards
SIGTERM/SIGINT to them and waits for all to finish their in-flight requests.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys

from aiohttp import web

from app.runtime.config import ConfigError, for_workers, load_config
from app.runtime.logging import configure_logging
from app.runtime.web_app import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Serve the sales API.")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes sharing the port (default 1)"
    )
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--of", type=int, default=1, help=argparse.SUPPRESS)  # siblings
    args = parser.parse_args(argv)
    try:
        config = for_workers(load_config(), max(args.workers, args.of))
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print("configuration error: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.workers > 1:
        return _supervise(args.workers)
    configure_logging(config.log_format, config.log_level)
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        reuse_port=args.reuse_port or None,
        access_log=None,  # one structured `request` event per request instead
        shutdown_timeout=config.shutdown_timeout,
        print=None,
        loop=_new_loop(),
    )
    return 0


def _supervise(workers: int) -> int:
    command = [sys.executable, "-m", "app", "--workers", "1", "--reuse-port", "--of", str(workers)]
    children = [subprocess.Popen(command) for _ in range(workers)]

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return max(codes, default=0)


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # optional: pip install .[speed]
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()
