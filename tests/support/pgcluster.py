"""A private, throwaway PostgreSQL cluster for tests that stop, restart and break the database.

The shared test server must never be stopped, so these tests run their own: initdb with trust
auth into a temporary directory, listening on 127.0.0.1 on a free port, provisioned with the
same roles and grants as scripts/lib/common.sh, migrated by alembic and seeded with the demo data.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import psycopg2
from alembic import command
from argon2 import PasswordHasher

from infrastructure.migrations import alembic_config
from infrastructure.seed import seed_demo

DATABASE = "sales"
SUPERUSER = "postgres"
_AS_ROOT = os.geteuid() == 0
# Cheap argon2 parameters keep seeding fast; the service verifies any argon2 hash.
_cheap_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash

_PROVISION_CLUSTER = (
    "create role sales_owner login nosuperuser nobypassrls nocreatedb nocreaterole",
    "create role sales_app login nosuperuser nobypassrls nocreatedb nocreaterole noinherit",
    f"create database {DATABASE} owner sales_owner",
)
_PROVISION_DATABASE = f"""
    alter schema public owner to sales_owner;
    revoke all on schema public from public;
    grant usage on schema public to sales_app;
    revoke all on database {DATABASE} from public;
    grant connect on database {DATABASE} to sales_app, sales_owner;
    alter default privileges for role sales_owner in schema public
        grant select, insert, update, delete on tables to sales_app;
    alter default privileges for role sales_owner in schema public
        grant usage, select on sequences to sales_app;
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindir() -> Path:
    """`pg_config --bindir` when it has the server tools, else the newest Debian install."""
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        candidate = Path(out.stdout.strip())
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if not found:
        raise RuntimeError(
            "no PostgreSQL server binaries (pg_config --bindir, /usr/lib/postgresql)"
        )
    return Path(found[-1]).parent


def server_binaries_available() -> bool:
    """Whether initdb and pg_ctl are installed (tests needing a private cluster skip without)."""
    try:
        _bindir()
    except RuntimeError:
        return False
    return True


def _as_server_owner(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root: as root, use the 'postgres' OS account.
    return ["runuser", "-u", "postgres", "--", *argv] if _AS_ROOT else argv


class PgCluster:
    def __init__(self, preferred_dir: Path, *, settings: Mapping[str, str] | None = None) -> None:
        """`settings`: extra server settings (`-c name=value` at every start), e.g. for
        replication; values must not contain spaces or quotes."""
        self.bindir = _bindir()
        self.port = free_port()
        self.settings = dict(settings or {})
        self._own_dir = _AS_ROOT and not _reachable_by_server(preferred_dir)
        # pytest's temp root is private to root (0700), out of the postgres account's reach.
        self.root = (
            Path(tempfile.mkdtemp(prefix="sales-faults-pg-")) if self._own_dir else preferred_dir
        )
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.logfile = self.root / "server.log"

    # ---- lifecycle ------------------------------------------------------------------------

    def create(self) -> None:
        """initdb, start, provision roles and database, migrate, seed the demo data."""
        if _AS_ROOT:
            shutil.chown(self.root, "postgres", "postgres")
        self._run(
            self._tool("initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        self._run("mkdir", "-p", str(self.socket_dir))
        self.start()
        self._provision()
        command.upgrade(alembic_config(self.url("sales_owner")), "head")
        seed_demo(self.url("sales_owner"), _cheap_hash)

    def start(self) -> None:
        # Always with -l: a server writing to pg_ctl's captured stdout would hold that pipe open.
        self._pg_ctl("start", "-l", str(self.logfile), "-o", self._server_options())

    def stop(self) -> None:
        """Fast shutdown: every session is terminated, open transactions roll back."""
        self._pg_ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._pg_ctl("restart", "-m", "fast", "-l", str(self.logfile), "-o", self._server_options())

    @property
    def running(self) -> bool:
        argv = _as_server_owner([self._tool("pg_ctl"), "-D", str(self.data), "status"])
        return subprocess.run(argv, capture_output=True, cwd=self.root).returncode == 0

    def destroy(self) -> None:
        if self.data.exists() and self.running:
            self._pg_ctl("stop", "-m", "immediate")
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    # ---- access ---------------------------------------------------------------------------

    def url(self, role: str = "sales_app", database: str = DATABASE) -> str:
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}"

    def superuser(self, database: str = DATABASE) -> psycopg2.extensions.connection:
        """An autocommit superuser connection (superusers bypass row-level security)."""
        conn = psycopg2.connect(self.url(SUPERUSER, database), application_name="faults-test")
        conn.autocommit = True
        return conn

    def query(self, sql: str, params: object = None) -> list[tuple]:
        conn = self.superuser()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def hold_locks(self, sql: str, params: object = None) -> HeldLocks:
        """Run `sql` in a superuser transaction left open, so the row locks it took stay held."""
        return HeldLocks(self.superuser(), sql, params)

    def terminate_backends(self, application_name: str) -> set[int]:
        """What an admin does: end every session of an application, waiting until they are
        gone; returns their pids."""
        # In the select list, not the WHERE clause: there nothing stops the planner from
        # calling it on other sessions (ours included) before it filters by name.
        rows = self.query(
            "select pid, pg_terminate_backend(pid, 5000) from pg_stat_activity"
            " where application_name = %s",
            (application_name,),
        )
        return {pid for pid, terminated in rows if terminated}

    # ---- internals ------------------------------------------------------------------------

    def _server_options(self) -> str:
        # fsync off: a throwaway cluster; fast shutdowns still checkpoint every commit.
        return (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c full_page_writes=off -c max_connections=60"
        ) + "".join(f" -c {name}={value}" for name, value in self.settings.items())

    def _tool(self, name: str) -> str:
        return str(self.bindir / name)

    def _pg_ctl(self, *args: str) -> None:
        self._run(self._tool("pg_ctl"), "-D", str(self.data), "-w", "-t", "30", *args)

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            _as_server_owner(list(argv)), capture_output=True, text=True, cwd=self.root
        )
        if result.returncode != 0:
            log = self.logfile.read_text()[-3000:] if self.logfile.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed:\n{result.stderr}\n{log}")
        return result

    def _provision(self) -> None:
        admin = self.superuser("postgres")
        try:
            with admin.cursor() as cur:
                for statement in _PROVISION_CLUSTER:
                    cur.execute(statement)
        finally:
            admin.close()
        self.query(_PROVISION_DATABASE)


class HeldLocks:
    """An open superuser transaction; `release()` (or leaving the `with`) rolls it back."""

    def __init__(self, conn: psycopg2.extensions.connection, sql: str, params: object) -> None:
        self._conn = conn
        with conn.cursor() as cur:
            cur.execute("begin")
            cur.execute(sql, params)

    def release(self) -> None:
        if not self._conn.closed:
            self._conn.rollback()
            self._conn.close()

    def __enter__(self) -> HeldLocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _reachable_by_server(path: Path) -> bool:
    """Whether the postgres account can reach the directory (it will own the directory itself)."""
    argv = ["runuser", "-u", "postgres", "--", "test", "-x", str(path.parent)]
    return subprocess.run(argv, capture_output=True).returncode == 0
