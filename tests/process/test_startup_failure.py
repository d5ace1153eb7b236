"""A port already in use stops the start with one line and a non-zero exit status, before
any worker starts and, from scripts/run, before migrations or seeding run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.scripts_env import run_env
from tests.support.server import ROOT, free_port

pytestmark = pytest.mark.slow


@contextmanager
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def start(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env={
            **os.environ,
            "HOST": "127.0.0.1",
            "ADMIN_HOST": "127.0.0.1",
            "LOG_FORMAT": "json",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("args", [[], ["--workers", "2"], ["--check"]])
def test_an_api_port_in_use_is_one_line_and_exit_status_1(args):
    with taken_port() as port:
        result = start(args, PORT=str(port), ADMIN_PORT=str(free_port()))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: PORT: 127.0.0.1:{port} is already in use by another process"
    ]
    # gunicorn may have logged that it is starting: stdout stays JSON lines only.
    assert all(json.loads(line) for line in result.stdout.splitlines())


@pytest.mark.parametrize("args", [[], ["--workers", "2"]])
def test_an_admin_port_in_use_is_one_line_and_exit_status_1(args):
    with taken_port() as port:
        result = start(args, PORT=str(free_port()), ADMIN_PORT=str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: ADMIN_PORT: 127.0.0.1:{port} is already in use by another process"
    ]


def test_scripts_run_stops_before_migrating_when_the_port_is_in_use():
    env = run_env(os.environ["SALES_TEST_DB_NAME"])  # the port check comes before it is touched
    with taken_port() as port:
        env |= {"PORT": str(port), "ADMIN_PORT": str(free_port())}
        result = subprocess.run(
            ["bash", "scripts/run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
    assert result.returncode == 1
    assert f"error: PORT: 127.0.0.1:{port} is already in use" in result.stderr
    assert "migrating" not in result.stderr and "seeding" not in result.stderr
    assert result.stdout == ""
