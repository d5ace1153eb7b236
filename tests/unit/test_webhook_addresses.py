"""Which addresses a webhook may not be sent to: anything not globally routable."""

from __future__ import annotations

import ipaddress

import pytest

from infrastructure.webhooks.addresses import _refused


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "10.1.2.3",  # private
        "192.168.0.10",
        "169.254.169.254",  # link-local: the common cloud metadata service
        "100.100.100.200",  # shared 100.64.0.0/10 (carrier-grade NAT): another cloud's metadata
        "0.0.0.0",
        "::1",
        "fd00::1",  # unique local
        "::ffff:10.0.0.1",  # a private IPv4 address written as IPv6
        "224.0.0.1",  # multicast
    ],
)
def test_an_address_that_is_not_globally_routable_is_refused(address: str) -> None:
    assert _refused(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::6810:85e5"])
def test_a_public_address_is_allowed(address: str) -> None:
    assert not _refused(ipaddress.ip_address(address))
