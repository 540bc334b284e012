"""The taskiq broker: in memory for the embedded profile, a Valkey stream in
production.

The stream delivers with acknowledgement, so a message its worker never
acknowledged is delivered again. Results are kept in Valkey for a day.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import structlog
from redis.exceptions import RedisError
from taskiq import AckableMessage, AsyncBroker, InMemoryBroker
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

log = structlog.get_logger(__name__)

QUEUE = "stonkmarket:jobs"
# Messages kept in the stream; older acknowledged ones are trimmed.
STREAM_LENGTH = 10_000
RESULT_SECONDS = 24 * 3600
# A message a worker took but never acknowledged (it died) is delivered again
# after this long.
REDELIVER_AFTER_MS = 5 * 60 * 1000
# Waits between attempts to reach Valkey again, doubling up to the last.
FIRST_RETRY_SECONDS = 0.5
LAST_RETRY_SECONDS = 30.0


class PatientStreamBroker(RedisStreamBroker):
    """A stream broker whose listener outlives a Valkey outage.

    taskiq's receiver calls `listen` again at once when it fails, so a
    stopped Valkey would spin the worker and flood its log. This one waits,
    doubling the wait, and declares its consumer group again before reading,
    since a restarted Valkey that keeps nothing on disk has lost it.
    """

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        wait = FIRST_RETRY_SECONDS
        while True:
            try:
                await self._declare_consumer_group()
                async for message in super().listen():
                    wait = FIRST_RETRY_SECONDS
                    yield message
            except (RedisError, OSError) as exc:
                log.warning("job_queue_unavailable", error=str(exc), retry_in_s=wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, LAST_RETRY_SECONDS)


def make_broker(valkey_url: str | None) -> AsyncBroker:
    """Return the broker of the profile: Valkey streams with a URL, else in memory."""
    if valkey_url is None:
        return InMemoryBroker(propagate_exceptions=False)
    results: RedisAsyncResultBackend[object] = RedisAsyncResultBackend(
        valkey_url, result_ex_time=RESULT_SECONDS, prefix_str="stonkmarket:job-result"
    )
    broker = PatientStreamBroker(
        valkey_url,
        queue_name=QUEUE,
        consumer_group_name="stonkmarket-workers",
        maxlen=STREAM_LENGTH,
        idle_timeout=REDELIVER_AFTER_MS,
    )
    return broker.with_result_backend(results)
