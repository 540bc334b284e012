"""One way to open a Valkey client: short timeouts, so an outage is seen fast."""

from __future__ import annotations

import valkey.asyncio as valkey

# A call that takes longer counts as Valkey not answering; each adapter then
# falls back (hot copies, rate limits) or refuses (the denylist).
DEFAULT_TIMEOUT_SECONDS = 0.5


def open_valkey(
    url: str, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> valkey.Valkey:
    """Return an asyncio client of `url` that gives up after `timeout_seconds`."""
    client: valkey.Valkey = valkey.Valkey.from_url(
        url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
    )
    return client
