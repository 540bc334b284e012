"""The client's address, read through X-Forwarded-For only from trusted proxies.

Anyone can send an X-Forwarded-For header, so its entries are believed only
as far back as a chain of trusted proxies reaches. Each trusted proxy appends
the address it received the request from. The first untrusted address from
the right is therefore the client as the nearest trusted proxy saw it, and
entries to the left of it were written by the client and could be anything.
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


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """Parse the TRUSTED_PROXIES value: comma-separated addresses or CIDR networks.

    A bare address is a network of one. Empty entries are skipped. Raises
    ValueError naming the first invalid entry, including a network with host
    bits set such as 10.0.0.1/8, which is more likely a typo than meant.
    """
    networks: list[Network] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as exc:
            raise ValueError(
                f"TRUSTED_PROXIES has an invalid entry {entry!r}: {exc}. "
                "Give IP addresses or CIDR networks separated by commas, "
                "such as 10.0.0.0/8,192.0.2.7,2001:db8::/32"
            ) from exc
    return tuple(networks)


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
