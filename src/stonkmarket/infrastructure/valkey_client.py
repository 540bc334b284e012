"""Open Valkey clients with short timeouts, so an outage is detected quickly."""

from __future__ import annotations

import valkey.asyncio as valkey

# A call that takes longer counts as Valkey being down. The hot store then reads
# from the database and the rate limiter uses in-process buckets.
DEFAULT_TIMEOUT_SECONDS = 0.5


def open_valkey(
    url: str, *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> valkey.Valkey:
    """Return an asyncio client for `url` with a `timeout_seconds` socket timeout."""
    client: valkey.Valkey = valkey.Valkey.from_url(
        url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds
    )
    return client
