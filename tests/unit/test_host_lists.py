"""libpq's multi-host connection strings, split into one string per server (aiopg cannot walk
them: aio-libs/aiopg#647), and the settings that carry them."""

from __future__ import annotations

import pytest
from psycopg2.extensions import parse_dsn

from app.runtime.config import ConfigError, load_config
from infrastructure.db.hosts import InvalidConnectionString, parse_hosts

URL = "postgresql://app:pw@h1:5432,h2:5433/sales?target_session_attrs=read-write&sslmode=disable"


def test_a_multi_host_url_becomes_one_string_per_server_with_everything_else_kept() -> None:
    hosts = parse_hosts(URL)
    assert hosts.names == ("h1:5432", "h2:5433")
    assert hosts.target == "read-write"
    first, second = (parse_dsn(dsn) for dsn in hosts.dsns)
    assert first == {
        "host": "h1", "port": "5432", "user": "app", "password": "pw",
        "dbname": "sales", "sslmode": "disable",
    }  # fmt: skip
    assert (second["host"], second["port"]) == ("h2", "5433")
    assert "target_session_attrs" not in second


def test_the_key_value_form_pairs_hosts_and_ports_and_one_port_serves_every_host() -> None:
    assert parse_hosts("host=a,b port=1,2 dbname=x").names == ("a:1", "b:2")
    assert parse_hosts("host=a,b port=6000 dbname=x").names == ("a:6000", "b:6000")
    assert parse_hosts("dbname=x").names == ("localhost:5432",)
    assert parse_hosts("dbname=x").addresses == (None,)  # libpq's Unix socket
    assert parse_hosts("host=/run/pg,b port=1,2 dbname=x").addresses == (None, ("b", 2))
    assert parse_hosts("host=a dbname=x").target == "any"


@pytest.mark.parametrize(
    "dsn",
    ["host=a,b,c port=1,2 dbname=x", "host=a dbname=x target_session_attrs=leader", "nonsense"],
)
def test_strings_libpq_would_refuse_are_refused(dsn: str) -> None:
    with pytest.raises(InvalidConnectionString):
        parse_hosts(dsn)


def test_the_settings_accept_multi_host_strings_and_split_replica_urls_between_urls() -> None:
    config = load_config(
        {
            "DATABASE_URL": "host=a,b port=1,2 dbname=x user=app target_session_attrs=primary",
            "AUTH_LISTEN_DATABASE_URL": URL,
            "DATABASE_REPLICA_URLS": f"{URL}, postgresql://app@r2/sales",
            "CONSISTENCY_TOKEN_SECRET": "s" * 16,
            "DB_CONNECT_TIMEOUT": "0.5",
        }
    )
    assert config.database_replica_urls == (URL, "postgresql://app@r2/sales")
    assert config.db_connect_timeout == 0.5
    assert load_config({"DATABASE_URL": "postgresql://a@h/x"}).db_connect_timeout == 2.0


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"DATABASE_URL": "host=a,b,c port=1,2 dbname=x"}, "DATABASE_URL"),
        ({"DATABASE_URL": "postgresql://a@h/x", "DB_CONNECT_TIMEOUT": "0"}, "DB_CONNECT_TIMEOUT"),
    ],
)
def test_a_bad_connection_setting_stops_the_start_naming_it(env: dict[str, str], name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config(env)
