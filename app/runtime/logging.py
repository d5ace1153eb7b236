"""structlog set-up: JSON lines by default, a console renderer for people at a terminal.

Request context (request id, tenant, principal) is bound through contextvars once per request,
so every event logged while serving it carries the same fields.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import orjson
import structlog

# Keys whose values are never written, in nested dicts and lists too, whatever their case.
# (Exception tracebacks are not scrubbed: never put a secret in an exception message.)
_SECRET_KEYS = frozenset(
    {"password", "token", "authorization", "cookie", "api_key", "key", "secret"}
)


def _drop_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    return {k: _redact(k, v) for k, v in event.items()}


def _redact(key: str, value: Any) -> Any:
    if key.lower() in _SECRET_KEYS:
        return "[redacted]"
    if isinstance(value, dict):
        return {k: _redact(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact("", v) for v in value]
    return value


def _orjson_dumps(obj: Any, default: Any = None) -> str:
    # str() for what orjson does not know (Decimal stays "1.10", not "Decimal('1.10')").
    return orjson.dumps(obj, default=str).decode()


def configure_logging(fmt: str = "json", level: str = "INFO") -> None:
    console = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _drop_secrets,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    # Library loggers (aiohttp access log is replaced by our own `request` event).
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
