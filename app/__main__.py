"""`python -m app`: read the config, set up logging, serve until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiohttp import web

from app.config import ConfigError, load_config
from app.factory import create_app
from app.logging import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="Serve the sales API.")
    parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_format, config.log_level)
    web.run_app(
        create_app(config),
        host=config.host,
        port=config.port,
        access_log=None,
        shutdown_timeout=config.shutdown_timeout,
        print=None,
        loop=_new_loop(),
    )
    return 0


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop  # optional: pip install .[speed]
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


if __name__ == "__main__":
    sys.exit(main())
