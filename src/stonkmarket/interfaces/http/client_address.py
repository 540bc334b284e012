"""Client address resolution, which reads X-Forwarded-For only from trusted proxies.

Anyone can send an X-Forwarded-For header, so its entries are trusted only as
far back as a chain of trusted proxies reaches. Each trusted proxy appends the
address it received the request from. The first untrusted address from the
right is therefore the client as the nearest trusted proxy saw it. Entries to
the left of it were written by the client and could be anything.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The address of a request whose direct peer is not known, such as one that
# arrived over a Unix socket. All such requests share it.
UNKNOWN_PEER = "unknown"


def client_address(
    peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[Network]
) -> str:
    """Return the client's address, normalised, for keys such as rate limits.

    X-Forwarded-For is read only when the direct peer is inside a trusted
    network. Its entries are walked from the right, skipping trusted ones. A
    malformed entry ends the walk at the last well-formed entry before it, or
    at the peer. An unparsable peer is returned as it is.
    """
    if peer is None:
        return UNKNOWN_PEER
    peer_address = _parse(peer)
    if peer_address is None:
        return peer
    if not forwarded_for or not _is_trusted(peer_address, trusted_proxies):
        return str(peer_address)

    client = peer_address
    for entry in reversed(forwarded_for.split(",")):
        address = _parse(entry)
        if address is None:
            break
        client = address
        if not _is_trusted(address, trusted_proxies):
            break
    return str(client)


def _parse(text: str) -> Address | None:
    """Parse an address, with or without a port, and unwrap IPv4-mapped IPv6.

    Accepts `192.0.2.1`, `192.0.2.1:8080`, `2001:db8::1` and `[2001:db8::1]:8080`.
    """
    host = text.strip()
    if host.startswith("["):
        host, bracket, rest = host[1:].partition("]")
        if not bracket:
            return None
        if rest and not (rest.startswith(":") and _is_port(rest[1:])):
            return None
    elif host.count(":") == 1:
        host, _, port = host.partition(":")
        if not _is_port(port):
            return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_port(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) <= 65535


def _is_trusted(address: Address, trusted_proxies: Sequence[Network]) -> bool:
    return any(address in network for network in trusted_proxies)
