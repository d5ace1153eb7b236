"""Listening sockets opened before anything else runs, so that a port already in use ends the
start with one line instead of a traceback after the work of starting up."""

from __future__ import annotations

import errno
import socket


class StartupError(Exception):
    """One line for the operator; the process exits non-zero with it."""


def listen(host: str, port: int, setting: str) -> socket.socket:
    """A socket listening on host:port; `setting` names the variable that chose the port."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port} ({setting}): {exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart over TIME_WAIT
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"{setting}: {host}:{port} is already in use by another process"
            ) from None
        raise StartupError(
            f"{setting}: cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from None
    sock.set_inheritable(True)
    return sock


def check_free(host: str, port: int, setting: str) -> None:
    """Raise StartupError unless host:port could be listened on right now."""
    listen(host, port, setting).close()
