"""With LOG_FORMAT=json, stdout carries nothing but JSON lines from start to stop, gunicorn's
and the libraries' messages included; LOG_SCHEMA=ecs renders them in Elastic Common Schema."""

from __future__ import annotations

import json
import re
import signal
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.server import serving, workers_of

pytestmark = pytest.mark.slow


def _call(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _reload(service) -> None:
    """SIGHUP, then wait until every worker has been replaced."""
    old = workers_of(service.proc.pid)
    service.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = workers_of(service.proc.pid)
        if len(now) == len(old) and not now & old and _call(service.base + "/healthz") == 200:
            return
        time.sleep(0.1)
    pytest.fail("the workers were not replaced after SIGHUP")


def _run_and_stop(
    tmp_path: Path, workers: int | None, reload: bool = False, **env: str
) -> list[dict]:
    out = tmp_path / "stdout.log"
    settings = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "DB_POOL_MIN": "0", **env}
    with serving(settings, tmp_path / "stderr.log", workers=workers, stdout=out) as service:
        assert _call(service.base + "/openapi.json") == 200
        assert _call(service.base + "/no/such/route") == 404
        if reload:
            _reload(service)
            assert _call(service.base + "/api/sales/customers") == 401  # no tenant, no token
        service.proc.send_signal(signal.SIGTERM)
        assert service.proc.wait(timeout=30) == 0
    lines = out.read_text().splitlines()
    assert lines, "nothing on stdout"
    events = []
    for number, line in enumerate(lines, 1):
        try:
            event = json.loads(line)
        except ValueError:
            pytest.fail(f"stdout line {number} is not JSON: {line!r}")
        assert isinstance(event, dict), line
        events.append(event)
    return events


@pytest.mark.parametrize("workers", [None, 2], ids=["alone", "gunicorn"])
def test_stdout_is_only_json_lines_from_start_to_stop(tmp_path, workers):
    events = _run_and_stop(tmp_path, workers)
    names = [e["event"] for e in events]
    assert names.count("worker_started") == (workers or 1)
    stopped = [e for e in events if e["event"] == "worker_stopped"]
    assert len(stopped) == (workers or 1)
    assert all(e["requests_drained"] == 0 and e["requests_cancelled"] == 0 for e in stopped)
    assert names[-1] == "service_stopped" and events[-1]["reason"] == "SIGTERM"
    (started,) = [e for e in events if e["event"] == "service_started"]
    assert started["workers"] == (workers or 1)
    assert started["version"] and started["admin"] and started["address"]
    assert started["pool_max_total"] == started["pool_max_per_worker"] * (workers or 1)
    requests = [e for e in events if e["event"] == "request"]
    missing = next(e for e in requests if e["status"] == 404)
    assert missing["problem"] == "not-found" and missing["client"] == "127.0.0.1"
    if workers:  # gunicorn's own messages come through the same renderer
        assert any(e.get("logger", "").startswith("gunicorn") for e in events)


def test_ecs_schema_names_and_types_the_fields_as_ecs_does(tmp_path):
    events = _run_and_stop(tmp_path, 2, LOG_SCHEMA="ecs")
    for event in events:
        datetime.fromisoformat(event["@timestamp"].replace("Z", "+00:00"))
        assert isinstance(event["log.level"], str)
        assert isinstance(event["message"], str)
        assert event["ecs.version"].startswith("8.")
        assert "timestamp" not in event and "level" not in event
        assert not isinstance(event.get("event"), str)  # ECS's `event` is an object
    request = next(e for e in events if e["message"] == "request")
    assert request["event"]["action"] == "request"
    assert isinstance(request["event"]["duration"], int)  # ECS: long, nanoseconds
    assert request["http"]["request"]["method"] == "GET"
    assert isinstance(request["http"]["response"]["status_code"], int)
    assert isinstance(request["http"]["request"]["id"], str)
    assert isinstance(request["url"]["path"], str)
    assert request["client"]["address"] == "127.0.0.1"
    assert isinstance(request["sales"]["db_round_trips"], int)
    assert any(e.get("log", {}).get("logger", "").startswith("gunicorn") for e in events)


# The ECS 8.11 fields this service writes, with their ECS types (from the ECS field
# reference, https://www.elastic.co/guide/en/ecs/8.11/ecs-field-reference.html). Anything
# else must be under `sales.`, ECS's advice for custom fields.
ECS_FIELDS = {
    "@timestamp": "date",
    "message": "match_only_text",
    "ecs.version": "keyword",
    "log.level": "keyword",
    "log.logger": "keyword",
    "event.action": "keyword",
    "event.duration": "long",
    "http.request.id": "keyword",
    "http.request.method": "keyword",
    "http.response.status_code": "long",
    "url.path": "wildcard",
    "client.address": "keyword",
    "error.stack_trace": "wildcard",
    "organization.name": "keyword",
    "user.id": "keyword",
    "trace.id": "keyword",
    "span.id": "keyword",
}
_JSON_TYPES = {
    "keyword": str,
    "wildcard": str,
    "match_only_text": str,
    "date": str,
    "long": int,
}
# Loki: label names are [a-zA-Z_][a-zA-Z0-9_]*, and a label is worth having only while its
# values are few; an event name taken from free text (a pid, a path) makes a stream per line.
LOKI_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _leaves(node: dict, prefix: str = "") -> list[tuple[str, object]]:
    found = []
    for key, value in node.items():
        path = key if not prefix or key.startswith("@") else f"{prefix}.{key}"
        if isinstance(value, dict) and value:
            found += _leaves(value, path)
        else:
            found.append((path, value))
    return found


def test_a_run_with_reload_ingests_into_elastic_by_the_ecs_field_definitions(tmp_path):
    events = _run_and_stop(tmp_path, 2, reload=True, LOG_SCHEMA="ecs")
    for event in events:
        for path, value in _leaves(event):
            if path.startswith("sales."):
                continue
            assert path in ECS_FIELDS, f"{path} is neither an ECS field nor under sales.: {event}"
            if value is not None:
                assert isinstance(value, _JSON_TYPES[ECS_FIELDS[path]]), (path, value)
        assert EVENT_NAME.match(event["event"]["action"]), event
    actions = {e["event"]["action"] for e in events}
    assert {"service_started", "worker_started", "request", "service_stopped"} <= actions
    assert "gunicorn_log" in actions  # gunicorn's own lines, named, their text in message
    booting = [e for e in events if e["message"].startswith("Booting worker")]
    assert len(booting) == 4 and {e["event"]["action"] for e in booting} == {"gunicorn_log"}
    missing = next(e for e in events if e.get("http", {}).get("response") == {"status_code": 404})
    assert missing["url"]["path"] == "/no/such/route"
    refused = next(e for e in events if e.get("http", {}).get("response") == {"status_code": 401})
    assert refused["url"]["path"] == "/api/sales/customers"
    assert refused["sales"]["route"] == "/api/sales/customers"


def test_a_run_with_reload_gives_loki_few_well_named_labels(tmp_path):
    events = _run_and_stop(tmp_path, 2, reload=True)
    # The labels a Loki pipeline would take from each JSON line.
    streams = {(e["level"], e.get("logger", "app"), e["event"]) for e in events}
    for level, logger, name in streams:
        assert EVENT_NAME.match(name), name
        assert LOKI_LABEL_NAME.match(logger.replace(".", "_")), logger
        assert level in {"debug", "info", "warning", "error", "critical"}
    assert len(streams) < 30, sorted(streams)  # a run makes a handful of streams, not one a line
    assert not [e for e in events if "Error while closing socket" in e.get("message", "")]
