"""The client address: X-Forwarded-For is believed only from trusted proxies."""

from __future__ import annotations

import ipaddress

import pytest

from stonkmarket.interfaces.http.client_address import (
    client_address,
)

TRUSTED = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("192.0.2.7/32"),
    ipaddress.ip_network("2001:db8:ffff::/48"),
)


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # An untrusted peer is the client, whatever the header contains.
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1, 10.0.0.2", "203.0.113.5"),
        ("203.0.113.5", "garbage", "203.0.113.5"),
        # A trusted peer without a header is the client.
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        # A trusted peer: the first untrusted entry from the right.
        ("10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.1", "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.1", "198.51.100.1, 10.0.0.3", "198.51.100.1"),
        ("192.0.2.7", "198.51.100.1,10.0.0.3,10.9.9.9", "198.51.100.1"),
        ("10.0.0.1", "  198.51.100.1 ,  10.0.0.3  ", "198.51.100.1"),
        # A client cannot pose as a trusted proxy to reach further left.
        ("10.0.0.1", "1.1.1.1, 203.0.113.9, 10.0.0.3", "203.0.113.9"),
        # Every entry trusted: the leftmost is the furthest the chain reaches.
        ("10.0.0.1", "10.0.0.5, 10.0.0.3", "10.0.0.5"),
        # A malformed entry ends the walk at the last well-formed one.
        ("10.0.0.1", "198.51.100.1, unknown, 10.0.0.3", "10.0.0.3"),
        ("10.0.0.1", "198.51.100.1, 10.0.0.3, garbage", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1, ", "10.0.0.1"),
        ("10.0.0.1", "300.1.1.1", "10.0.0.1"),
        ("10.0.0.1", "198.51.100.1:99999", "10.0.0.1"),
        ("10.0.0.1", "_hidden", "10.0.0.1"),
        # Ports are dropped.
        ("10.0.0.1", "198.51.100.1:4711", "198.51.100.1"),
        ("10.0.0.1", "[2001:db8::1]:4711", "2001:db8::1"),
        ("10.0.0.1", "[2001:db8::1]", "2001:db8::1"),
        ("10.0.0.1", "[2001:db8::1", "10.0.0.1"),
        ("10.0.0.1", "[2001:db8::1]4711", "10.0.0.1"),
        # IPv6 peers and entries, written in their compressed form.
        ("2001:db8:ffff::1", "2001:DB8:0:0::0001", "2001:db8::1"),
        ("2001:db8:ffff::1", "2001:db8::1, 2001:db8:ffff::2", "2001:db8::1"),
        ("2001:db8:1::1", "198.51.100.1", "2001:db8:1::1"),
        ("2001:0DB8:0001::0001", None, "2001:db8:1::1"),
        # IPv4-mapped IPv6, as a dual-stack socket reports IPv4 peers.
        ("::ffff:10.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("::ffff:203.0.113.5", "198.51.100.1", "203.0.113.5"),
        ("10.0.0.1", "::ffff:198.51.100.1", "198.51.100.1"),
        # A peer that is not an address is returned as it is.
        ("testclient", "198.51.100.1", "testclient"),
        (None, "198.51.100.1", "unknown"),
    ],
)
def test_client_address_from_peer_and_header(
    peer: str | None, forwarded_for: str | None, expected: str
) -> None:
    assert client_address(peer, forwarded_for, TRUSTED) == expected


def test_rotating_header_from_untrusted_peer_keeps_one_address() -> None:
    headers = [f"198.51.100.{n}" for n in range(50)]

    addresses = {client_address("203.0.113.5", h, TRUSTED) for h in headers}

    assert addresses == {"203.0.113.5"}


def test_no_trusted_proxies_ignores_the_header() -> None:
    assert client_address("10.0.0.1", "198.51.100.1", ()) == "10.0.0.1"
