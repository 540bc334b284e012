"""The taskiq broker: in memory for the embedded profile, a Valkey stream in
production (acknowledged delivery; an unacknowledged message is delivered
again), with results kept in Valkey for a day."""

from __future__ import annotations

from taskiq import AsyncBroker, InMemoryBroker
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

QUEUE = "stonkmarket:jobs"
# Messages kept in the stream; older acknowledged ones are trimmed.
STREAM_LENGTH = 10_000
RESULT_SECONDS = 24 * 3600
# A message a worker took but never acknowledged (it died) is delivered again
# after this long.
REDELIVER_AFTER_MS = 5 * 60 * 1000


def make_broker(valkey_url: str | None) -> AsyncBroker:
    """Return the broker of the profile: Valkey streams with a URL, else in memory."""
    if valkey_url is None:
        return InMemoryBroker(propagate_exceptions=False)
    results: RedisAsyncResultBackend[object] = RedisAsyncResultBackend(
        valkey_url, result_ex_time=RESULT_SECONDS, prefix_str="stonkmarket:job-result"
    )
    broker = RedisStreamBroker(
        valkey_url,
        queue_name=QUEUE,
        consumer_group_name="stonkmarket-workers",
        maxlen=STREAM_LENGTH,
        idle_timeout=REDELIVER_AFTER_MS,
    )
    return broker.with_result_backend(results)
