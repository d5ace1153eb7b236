"""libpq's multi-host connection strings, split into one connection string per server.

`postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write` and
`host=h1,h2 port=5432,5433 dbname=db target_session_attrs=read-write` both name two servers and
the role wanted of them. libpq walks such a list itself, but aiopg's asynchronous connect cannot
(aio-libs/aiopg#647: it hands psycopg2 the whole string and polls one socket), so the service
walks it (infrastructure/db/finder.py) with one single-host string per server, built here.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2.extensions import make_dsn, parse_dsn

# libpq's target_session_attrs values (PostgreSQL 14+), and what each accepts.
TARGETS = frozenset({"any", "read-write", "primary", "read-only", "standby", "prefer-standby"})
_LISTED = ("host", "hostaddr", "port")


class InvalidConnectionString(ValueError):
    """Not a connection string libpq would accept, or hosts and ports that do not pair up."""


@dataclass(frozen=True, slots=True)
class HostList:
    """The servers of one connection string, in the order given, and the role wanted."""

    dsns: tuple[str, ...]  # one single-host connection string per server
    names: tuple[str, ...]  # "host:port", for logs, metrics and /readyz
    target: str  # target_session_attrs; "any" when not given
    addresses: tuple[tuple[str, int] | None, ...] = ()  # TCP (host, port); None: Unix socket

    @property
    def name(self) -> str:
        return ",".join(self.names)


def parse_hosts(dsn: str) -> HostList:
    """Split a (possibly multi-host) URL or key=value string; raises InvalidConnectionString."""
    try:
        params = parse_dsn(dsn)
    except Exception as exc:  # psycopg2.ProgrammingError: libpq's own message
        raise InvalidConnectionString(str(exc).strip()) from None
    target = params.pop("target_session_attrs", "any") or "any"
    if target not in TARGETS:
        raise InvalidConnectionString(f"target_session_attrs={target!r} is not one libpq knows")
    lists = {key: params.pop(key).split(",") for key in _LISTED if params.get(key)}
    count = max((len(values) for values in lists.values()), default=1)
    for key, values in lists.items():
        if len(values) == 1:
            lists[key] = values * count  # one port (or host) for every server, as libpq does
        elif len(values) != count:
            raise InvalidConnectionString(f"{count} hosts but {len(values)} values of {key}")
    dsns, names, addresses = [], [], []
    for index in range(count):
        one = {key: values[index] for key, values in lists.items() if values[index]}
        dsns.append(make_dsn(**params, **one))
        host = one.get("hostaddr") or one.get("host") or ""
        port = one.get("port") or "5432"
        names.append(f"{one.get('host') or host or 'localhost'}:{port}")
        # No host at all means libpq's default Unix socket, like a host that is a directory.
        tcp = host != "" and not host.startswith("/") and port.isdigit()
        addresses.append((host, int(port)) if tcp else None)
    return HostList(tuple(dsns), tuple(names), target, tuple(addresses))
