"""A real PgBouncer in transaction pooling mode in front of the test database.

Its server pool is deliberately smaller than the app's pool, so server connections really are
shared between client connections and transactions: anything session-scoped (SET, prepared
statements, advisory session locks, LISTEN) would leak between tenants here.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.support.processes import terminate

SERVER_POOL_SIZE = 3
_SEARCH_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer", path=_SEARCH_PATH)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_pgbouncer(
    database_url: str, settings: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Yield `database_url` rewritten to go through a fresh PgBouncer (`settings`: more
    [pgbouncer] settings)."""
    with pgbouncer_in_front(database_url, settings) as bouncer:
        yield bouncer.url


class PgBouncer:
    """A running PgBouncer: its URL, and `repoint` to move it to another server (RELOAD)."""

    def __init__(self, workdir: Path, url: str, proc: subprocess.Popen[bytes]) -> None:
        self.workdir = workdir
        self.url = url
        self.proc = proc

    def repoint(self, port: int, host: str = "127.0.0.1") -> None:
        """What an operator does after a failover: point the database entry at the new
        primary and reload (SIGHUP is the console's RELOAD)."""
        ini = self.workdir / "pgbouncer.ini"
        ini.write_text(re.sub(r"host=\S+ port=\d+", f"host={host} port={port}", ini.read_text()))
        pid = int((self.workdir / "pgbouncer.pid").read_text().strip())
        os.kill(pid, signal.SIGHUP)


@contextmanager
def pgbouncer_in_front(
    database_url: str, settings: Mapping[str, str] | None = None
) -> Iterator[PgBouncer]:
    """A fresh PgBouncer in front of `database_url`'s server (`settings`: more [pgbouncer]
    settings), stopped and removed afterwards."""
    binary = pgbouncer_binary()
    if binary is None:
        raise RuntimeError("pgbouncer is not installed (Debian package pgbouncer)")
    url = make_url(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="sales-pgbouncer-"))
    port = _free_port()
    (workdir / "users.txt").write_text(f'"{url.username}" "{url.password or ""}"\n')
    (workdir / "pgbouncer.ini").write_text(
        "\n".join(
            [
                "[databases]",
                f"{url.database} = host={url.host or '127.0.0.1'} port={url.port or 5432} dbname={url.database}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {workdir / 'users.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {SERVER_POOL_SIZE}",
                "max_client_conn = 1000",
                f"logfile = {workdir / 'pgbouncer.log'}",
                f"pidfile = {workdir / 'pgbouncer.pid'}",
                *(f"{name} = {value}" for name, value in (settings or {}).items()),
                "",
            ]
        )
    )
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root; hand it the directory and drop to 'postgres'.
        owner = pwd.getpwnam("postgres")
        for path in [workdir, *workdir.iterdir()]:
            os.chown(path, owner.pw_uid, owner.pw_gid)
        command = ["runuser", "-u", "postgres", "--", *command]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, proc)
        through = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
        yield PgBouncer(workdir, through, proc)
    finally:
        terminate(proc, within=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not start listening")
