"""The scripts a newcomer meets first: `scripts/run --help` and `--stop`, `scripts/cli`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.scripts_env import drop_database, run_env
from tests.support.server import ROOT, free_port

RUN_OPTIONS = ("--replica", "--workers N", "--check", "--stop", "--help")


def script(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT):
    return subprocess.run(
        ["bash", *args], cwd=cwd, env=env or dict(os.environ), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_run_help_prints_every_option_once_and_sets_nothing_up():
    # A database URL nobody answers on: any step beyond the usage would fail or log.
    env = {**os.environ, "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none"}
    result = script("scripts/run", "--help", env=env)
    assert result.returncode == 0
    assert result.stdout.count("usage: scripts/run") == 1
    for option in RUN_OPTIONS:
        assert option in result.stdout
    assert result.stderr == ""  # every setup step announces itself on stderr


def test_run_stop_stops_the_private_cluster_it_started():
    # A copy of the scripts in a directory of their own (which the postgres OS user can
    # reach, unlike pytest's tmp_path): its .pgdata is this test's alone.
    checkout = Path(tempfile.mkdtemp(prefix="sales-stop-"))
    try:
        os.chmod(checkout, 0o755)
        shutil.copytree(ROOT / "scripts", checkout / "scripts")
        port = str(free_port())
        env = {**os.environ, "SALES_PG_PRIVATE": "1", "SALES_PG_PRIVATE_PORT": port}
        start = script("-c", "source scripts/lib/common.sh && find_postgres", env=env, cwd=checkout)
        assert start.returncode == 0, start.stderr
        assert _answers(port)

        stopped = script("scripts/run", "--stop", env=env, cwd=checkout)
        assert stopped.returncode == 0, stopped.stderr
        assert "stopping the private PostgreSQL server" in stopped.stderr
        assert not _answers(port)
        again = script("scripts/run", "--stop", env=env, cwd=checkout)
        assert again.returncode == 0
        assert "no private PostgreSQL server of this checkout is running" in again.stderr
    finally:
        script("scripts/run", "--stop", cwd=checkout)  # a failed assertion must not leave it up
        shutil.rmtree(checkout, ignore_errors=True)


def _answers(port: str) -> bool:
    ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", port, "-t", "5"])
    return ready.returncode == 0


def test_cli_help_needs_no_database():
    env = {**os.environ, "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{free_port()}/none"}
    result = script("scripts/cli", "--help", env=env)
    assert result.returncode == 0
    assert "create-api-key" in result.stdout


@pytest.mark.slow
def test_cli_runs_commands_with_the_environment_scripts_run_builds(tmp_path):
    db_name = f"{os.environ['SALES_TEST_DB_NAME']}_cli"
    env = run_env(db_name)  # scripts/cli provisions it, as scripts/run would
    try:
        for command in (["migrate"], ["seed-demo"]):
            done = script("scripts/cli", *command, env=env)
            assert done.returncode == 0, done.stderr
        created = script(
            "scripts/cli", "create-api-key", "--tenant", "acme", "--name", "from-cli", env=env
        )
        assert created.returncode == 0, created.stderr
        assert created.stdout.splitlines()[-1].startswith("sk_")  # provisioning said nothing there
        listed = script("scripts/cli", "list-api-keys", "--tenant", "acme", env=env)
        assert "from-cli" in listed.stdout
    finally:
        drop_database(db_name)
