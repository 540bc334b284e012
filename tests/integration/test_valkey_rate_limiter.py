"""Token buckets in Valkey on the real server: shared, atomic, and safe when down.

The server's clock moves between requests, so values that depend on elapsed
time are checked within the few milliseconds a test takes. With a limit of 10
per hour a millisecond brings back under 0.00001 of a token.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import valkey
from structlog.testing import capture_logs

from stonkmarket.application.rate_limits import RateDecision
from stonkmarket.infrastructure.rate_limiter import ValkeyRateLimiter

HOUR = 3600.0


def run_takes(
    url: str, key: str, count: int, limit: int = 10, window: float = HOUR
) -> list[RateDecision]:
    async def takes() -> list[RateDecision]:
        limiter = ValkeyRateLimiter(url)
        try:
            return [await limiter.take(key, limit, window) for _ in range(count)]
        finally:
            await limiter.close()

    return asyncio.run(takes())


def test_burst_of_limit_is_allowed_then_rejected(valkey_url: str) -> None:
    decisions = run_takes(valkey_url, "client", 11)

    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert [d.remaining for d in decisions] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
    assert [d.limit for d in decisions] == [10] * 11


def test_burst_reports_reset_and_retry_after(valkey_url: str) -> None:
    decisions = run_takes(valkey_url, "client", 11)

    # A token comes back every 360 s, and the first request leaves one missing.
    first, rejected = decisions[0], decisions[10]
    assert first.reset_seconds == 360.0
    assert first.retry_after_seconds == 0.0
    assert 359.0 < rejected.retry_after_seconds <= 360.0
    assert 3599.0 < rejected.reset_seconds <= 3600.0


def test_concurrent_takes_allow_exactly_the_limit(
    valkey_url: str,
) -> None:
    async def burst() -> list[RateDecision]:
        limiter = ValkeyRateLimiter(valkey_url)
        try:
            takes = (limiter.take("client", 10, HOUR) for _ in range(200))
            return await asyncio.gather(*takes)
        finally:
            await limiter.close()

    decisions = asyncio.run(burst())

    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))


def test_two_processes_share_one_bucket(valkey_url: str) -> None:
    """Two limiters stand for two API processes."""

    async def takes() -> tuple[list[RateDecision], list[RateDecision]]:
        first, second = ValkeyRateLimiter(valkey_url), ValkeyRateLimiter(valkey_url)
        try:
            from_first = [await first.take("client", 10, HOUR) for _ in range(6)]
            from_second = [await second.take("client", 10, HOUR) for _ in range(6)]
            return from_first, from_second
        finally:
            await first.close()
            await second.close()

    from_first, from_second = asyncio.run(takes())

    assert [d.allowed for d in from_first] == [True] * 6
    assert [d.allowed for d in from_second] == [True] * 4 + [False] * 2
    assert [d.remaining for d in from_second] == [3, 2, 1, 0, 0, 0]


def test_keys_have_separate_buckets(valkey_url: str) -> None:
    run_takes(valkey_url, "alice", 2, limit=2)

    alice = run_takes(valkey_url, "alice", 1, limit=2)
    bob = run_takes(valkey_url, "bob", 1, limit=2)

    assert alice[0].allowed is False
    assert bob[0].allowed is True
    assert bob[0].remaining == 1


def test_refill_after_one_token_time_allows_exactly_one(valkey_url: str) -> None:
    async def takes() -> tuple[RateDecision, RateDecision, RateDecision]:
        limiter = ValkeyRateLimiter(valkey_url)
        try:
            # Two per second: a token comes back every 0.5 s.
            await limiter.take("client", 2, 1.0)
            await limiter.take("client", 2, 1.0)
            rejected = await limiter.take("client", 2, 1.0)
            await asyncio.sleep(rejected.retry_after_seconds + 0.05)
            refilled = await limiter.take("client", 2, 1.0)
            after = await limiter.take("client", 2, 1.0)
            return rejected, refilled, after
        finally:
            await limiter.close()

    rejected, refilled, after = asyncio.run(takes())

    assert rejected.allowed is False
    assert 0.4 < rejected.retry_after_seconds <= 0.5
    assert refilled.allowed is True
    assert refilled.remaining == 0
    assert after.allowed is False


def test_bucket_expires_when_it_would_be_full(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)
    # Two per 0.2 s: one request leaves the bucket 0.1 s from full.
    run_takes(valkey_url, "idle", 1, limit=2, window=0.2)
    expiry_ms = client.pttl("stonkmarket:rate:idle")

    time.sleep(0.15)

    assert 0 < expiry_ms <= 100
    assert client.exists("stonkmarket:rate:idle") == 0
    client.close()


def test_emptied_bucket_expires_after_the_whole_window(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)
    run_takes(valkey_url, "client", 10, limit=10, window=60.0)

    expiry_ms = client.pttl("stonkmarket:rate:client")

    assert 59_000 < expiry_ms <= 60_000
    client.close()


def _server_time_us(client: valkey.Valkey) -> int:
    seconds, microseconds = client.time()
    return seconds * 1_000_000 + microseconds


def test_bucket_is_a_hash_of_whole_numbers(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)
    run_takes(valkey_url, "client", 1)

    stored = client.hgetall("stonkmarket:rate:client")
    now_us = _server_time_us(client)

    # Nine of ten tokens left, counted in 1/3 600 000 000 of a token.
    assert stored[b"level"] == b"32400000000"
    assert stored[b"window_us"] == b"3600000000"
    assert stored[b"refilled_at_us"].isdigit()
    assert 0 <= now_us - int(stored[b"refilled_at_us"]) < 1_000_000
    client.close()


def test_stale_bucket_refills_only_to_the_limit(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)
    day_ago_us = _server_time_us(client) - 86_400_000_000
    five_tokens = 5 * 3_600_000_000
    client.hset(
        "stonkmarket:rate:client",
        mapping={
            "level": five_tokens,
            "window_us": 3_600_000_000,
            "refilled_at_us": day_ago_us,
        },
    )

    (decision,) = run_takes(valkey_url, "client", 1)

    assert decision.remaining == 9
    assert decision.reset_seconds == 360.0
    client.close()


def test_refill_time_in_the_future_refills_nothing(valkey_url: str) -> None:
    """A refill time ahead of the clock, as after a failover to a server behind."""
    client = valkey.Valkey.from_url(valkey_url)
    hour_ahead_us = _server_time_us(client) + 3_600_000_000
    client.hset(
        "stonkmarket:rate:client",
        mapping={
            "level": 0,
            "window_us": 3_600_000_000,
            "refilled_at_us": hour_ahead_us,
        },
    )

    (decision,) = run_takes(valkey_url, "client", 1)

    assert decision.allowed is False
    assert decision.retry_after_seconds == 360.0
    assert decision.reset_seconds == 3600.0
    client.close()


def test_bucket_with_exactly_one_token_allows_one(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)
    # A refill time ahead of the clock keeps the level at exactly one token.
    hour_ahead_us = _server_time_us(client) + 3_600_000_000
    client.hset(
        "stonkmarket:rate:client",
        mapping={
            "level": 3_600_000_000,
            "window_us": 3_600_000_000,
            "refilled_at_us": hour_ahead_us,
        },
    )

    first, second = run_takes(valkey_url, "client", 2)

    assert first.allowed is True
    assert first.remaining == 0
    assert first.reset_seconds == 3600.0
    assert second.allowed is False
    client.close()


def test_changed_window_keeps_the_tokens_left(valkey_url: str) -> None:
    run_takes(valkey_url, "client", 1, limit=2, window=10.0)

    # One of two tokens is left, and under the longer window it is still one.
    first, second = run_takes(valkey_url, "client", 2, limit=2, window=20.0)

    assert first.allowed is True
    assert 19.9 < first.reset_seconds <= 20.0
    assert second.allowed is False


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_valkey_falls_back_and_still_limits() -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"

    async def takes() -> list[RateDecision]:
        # With no wait between retries, every take tries Valkey and fails.
        limiter = ValkeyRateLimiter(url, retry_seconds=0.0)
        try:
            return [await limiter.take("client", 10, HOUR) for _ in range(11)]
        finally:
            await limiter.close()

    with capture_logs() as logs:
        decisions = asyncio.run(takes())

    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert 359.0 < decisions[10].retry_after_seconds <= 360.0
    warnings = [entry for entry in logs if entry["event"] == "rate_limiter_fell_back"]
    assert len(warnings) == 1
    assert warnings[0]["log_level"] == "warning"
    assert warnings[0]["error"].startswith("ConnectionError: ")


def test_unreachable_valkey_reports_unavailable_status() -> None:
    async def status_of_closed_port() -> tuple[bool, str | None]:
        limiter = ValkeyRateLimiter(f"redis://127.0.0.1:{_closed_port()}/0")
        status = await limiter.status()
        await limiter.close()
        return status.available, status.error

    available, error = asyncio.run(status_of_closed_port())

    assert available is False
    assert error is not None
    assert error.startswith("ConnectionError: ")


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """The URL and command line of a server on a free port, not yet started."""
    server = shutil.which("valkey-server") or shutil.which("redis-server")
    if server is None:
        pytest.skip("no valkey-server or redis-server to start")
    port = _closed_port()
    command = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--appendonly", "no", "--dir", str(tmp_path)]
    yield f"redis://127.0.0.1:{port}/0", command


def _start(command: list[str], url: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            valkey.Valkey.from_url(url).ping()
            return process
        except valkey.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)


def test_limiter_returns_to_valkey_after_an_outage(
    own_server: tuple[str, list[str]],
) -> None:
    url, command = own_server
    server = _start(command, url)

    async def through_outage() -> list[RateDecision]:
        nonlocal server
        limiter = ValkeyRateLimiter(url, retry_seconds=0.1)
        try:
            decisions = [await limiter.take("client", 10, HOUR) for _ in range(3)]
            server.kill()
            server.wait()
            decisions.append(await limiter.take("client", 10, HOUR))
            server = _start(command, url)
            await asyncio.sleep(0.15)
            decisions.append(await limiter.take("client", 10, HOUR))
            return decisions
        finally:
            await limiter.close()

    try:
        with capture_logs() as logs:
            decisions = asyncio.run(through_outage())
    finally:
        server.kill()
        server.wait()

    # Valkey's bucket, then a full fallback bucket, then a new server's bucket.
    assert [d.remaining for d in decisions] == [9, 8, 7, 9, 9]
    events = [entry["event"] for entry in logs]
    assert events == ["rate_limiter_fell_back", "rate_limiter_recovered"]
