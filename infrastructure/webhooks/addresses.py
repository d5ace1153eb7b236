"""Where a webhook may point: http(s) to a public address, unless WEBHOOK_ALLOW_PRIVATE.

Checked when an endpoint is created or changed, and again before every delivery (DNS answers
change). Loopback, private, link-local, multicast, reserved and unspecified addresses are
refused: otherwise a tenant admin could make the deliverer call services inside our network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aiohttp import ThreadedResolver
from aiohttp.abc import AbstractResolver, ResolveResult

from domain.errors import InvalidInput


class AddressRefused(OSError):
    """The URL points somewhere the deliverer must not call."""


def _refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # Anything not globally routable: loopback, private, link-local, reserved, and the
    # shared 100.64.0.0/10 (carrier-grade NAT, where some clouds keep their metadata
    # services), which `is_private` does not cover.
    return not ip.is_global or ip.is_multicast


async def refusal(url: str, allow_private: bool) -> str | None:
    """Why `url` may not be called, or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an absolute http(s) URL"
    if allow_private:
        return None
    host = parts.hostname
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, parts.port or 443, type=socket.SOCK_STREAM
            )
        except OSError:
            return f"{host} does not resolve"
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    for address in addresses:
        if _refused(address):
            return f"{host} resolves to {address}, a loopback, private or link-local address"
    return None


class AddressGuard:
    """The UrlGuard port: refuses, as bad input, URLs the deliverer would not call."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def check(self, url: str) -> None:
        reason = await refusal(url, self.allow_private)
        if reason is not None:
            raise InvalidInput("webhook URL not allowed", {"url": [reason]})


class GuardedResolver(AbstractResolver):
    """The deliverer's resolver: the addresses a call connects to are the ones checked, so a
    DNS answer that changes between the check and the connection cannot slip through."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if self._allow_private:
            return answers
        allowed = [a for a in answers if not _refused(ipaddress.ip_address(a["host"]))]
        if not allowed:
            raise AddressRefused(f"{host} resolves only to addresses not allowed")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
