"""With LOG_FORMAT=json, stdout carries nothing but JSON lines from start to stop, gunicorn's
and the libraries' messages included; LOG_SCHEMA=ecs renders them in Elastic Common Schema."""

from __future__ import annotations

import json
import signal
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.server import serving

pytestmark = pytest.mark.slow


def _call(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def _run_and_stop(tmp_path: Path, workers: int | None, **env: str) -> list[dict]:
    out = tmp_path / "stdout.log"
    settings = {"LOG_FORMAT": "json", "LOG_LEVEL": "INFO", "DB_POOL_MIN": "0", **env}
    with serving(settings, tmp_path / "stderr.log", workers=workers, stdout=out) as service:
        assert _call(service.base + "/openapi.json") == 200
        assert _call(service.base + "/no/such/route") == 404
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
