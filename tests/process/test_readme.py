"""A newcomer's first hour: README's "Try every endpoint" block, taken from README.md as it
stands, runs twice in a row against `scripts/run` on a fresh database, every step a 2xx."""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.scripts_env import drop_database, run_env
from tests.support.server import ROOT, free_port, stop

pytestmark = pytest.mark.slow


def try_block() -> str:
    """The sh block under README's "### Try every endpoint" heading."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Try every endpoint", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "README.md lost its 'Try every endpoint' block"
    return match.group(1)


@contextmanager
def scripts_run(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`scripts/run` on a fresh database and free ports; yields the env the block runs with."""
    db_name = f"{os.environ['SALES_TEST_DB_NAME']}_readme"
    ports = {"PORT": str(free_port()), "ADMIN_PORT": str(free_port())}
    env = run_env(db_name) | ports
    with open(tmp_path / "scripts-run.log", "wb") as log:
        proc = subprocess.Popen(
            ["bash", "scripts/run"], cwd=ROOT, env=env, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{ports['PORT']}/healthz", proc, tmp_path / "scripts-run.log")
        yield {**os.environ, **ports}
    finally:
        stop(proc)
        drop_database(db_name)


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 240  # a fresh clone's first run also builds .venv
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"scripts/run exited early:\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"scripts/run did not serve in time:\n{log.read_text()[-3000:]}")


def test_the_try_block_runs_twice_in_a_row_with_every_step_a_2xx(tmp_path):
    block = try_block()
    shown = len(re.findall(r"^show ", block, re.M))
    with scripts_run(tmp_path) as env:
        for run in (1, 2):
            result = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block],
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert result.returncode == 0, f"run {run}:\n{result.stdout[-2000:]}\n{result.stderr}"
            statuses = re.findall(r"^HTTP/1\.1 (\d{3})", result.stdout, re.M)
            assert len(statuses) == shown, f"run {run}: {statuses}"
            assert all(s.startswith("2") for s in statuses), f"run {run}: {statuses}"
            # Each answer starts on a line of its own: no body runs into the next status line.
            assert not re.search(r"[^\n]HTTP/1\.1 \d{3}", result.stdout)
            assert "db_pool_max" in result.stdout  # step 3, from the admin port
            assert "Traceback" not in result.stderr
