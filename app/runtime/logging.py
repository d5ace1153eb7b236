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


# Elastic Common Schema (LOG_SCHEMA=ecs): our field -> its ECS name (dots nest, except in the
# keys ecs-logging writes dotted at the top level).
ECS_VERSION = "8.11.0"
_ECS_FIELDS = {
    "timestamp": "@timestamp",
    "level": "log.level",
    "logger": "log.logger",
    "request_id": "http.request.id",
    "method": "http.request.method",
    "status": "http.response.status_code",
    "path": "url.path",  # as sent, bounded; the route's template stays in sales.route
    "client": "client.address",
    "exception": "error.stack_trace",
    "tenant": "organization.name",
    "principal": "user.id",
    "trace_id": "trace.id",
    "span_id": "span.id",
}
_ECS_TOP_LEVEL = frozenset({"@timestamp", "log.level", "message", "ecs.version"})


def to_ecs(_: Any, __: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """Rename our fields to ECS's; the rest go under `sales.` (ECS's advice for custom fields).
    The event's name is `event.action`; `message` is a library's text, else the name."""
    out: dict[str, Any] = {"ecs.version": ECS_VERSION}
    name = event.get("event")
    if name is not None:
        out["event"] = {"action": name}
    out["message"] = event.get("message", name)
    for key, value in event.items():
        if key in ("event", "message"):
            continue
        if key == "duration_ms":
            _put(out, "event.duration", int(value * 1_000_000))  # ECS: nanoseconds
        elif key in _ECS_FIELDS:
            _put(out, _ECS_FIELDS[key], value)
        else:
            _put(out, "sales." + key, value)
    return out


def _put(out: dict[str, Any], dotted: str, value: Any) -> None:
    if dotted in _ECS_TOP_LEVEL:
        out[dotted] = value
        return
    *parents, leaf = dotted.split(".")
    node = out
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value


def _library_event(_: Any, __: str, event: MutableMapping[str, Any]) -> Mapping[str, Any]:
    """A library's record (gunicorn, aiohttp, asyncio) gets a fixed event name, `<library>_log`,
    and its text goes to `message`: a consumer that indexes or labels by event name then sees
    a handful of names, not one per pid, path or address in the text."""
    logger = str(event.get("logger") or "python")
    event["message"] = str(event.get("event", ""))
    event["event"] = logger.split(".", 1)[0] + "_log"
    return event


def configure_logging(fmt: str = "json", level: str = "INFO", schema: str = "plain") -> None:
    """Our events and the standard library's records (aiohttp, asyncio, gunicorn) alike go to
    stdout through one renderer: with JSON, stdout carries nothing but JSON lines."""
    console = fmt == "console" or (fmt == "auto" and sys.stdout.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=_orjson_dumps)
    )
    stamped: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
    ]
    rendered: list[Any] = [structlog.processors.format_exc_info]
    if schema == "ecs" and not console:
        rendered.append(to_ecs)
    rendered.append(renderer)
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *stamped, *rendered],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        # One write per line (print() writes the line and its newline apart): workers share
        # stdout, and two lines written at once must not run into each other.
        logger_factory=structlog.WriteLoggerFactory(file=sys.stdout),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, _library_event, *stamped],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendered],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries speak up at WARNING; aiohttp's access log is replaced by our `request` event.
    root.setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
