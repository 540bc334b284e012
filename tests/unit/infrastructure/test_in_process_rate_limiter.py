"""The in-process token bucket, on a clock the tests move by hand.

With a limit of 10 requests per 60 s a token comes back every 6 s. After k
requests at one instant the bucket is full again in 6k seconds, and an empty
bucket has a token again in 6 s.
"""

from __future__ import annotations

import asyncio
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.application.rate_limits import RateDecision
from stonkmarket.infrastructure.rate_limiter import InProcessRateLimiter

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=200, deadline=None, database=None)


class FakeClock:
    """A monotonic clock in seconds that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def take(
    limiter: InProcessRateLimiter, key: str, limit: int, window_seconds: float
) -> RateDecision:
    return asyncio.run(limiter.take(key, limit, window_seconds))


def take_burst(
    limiter: InProcessRateLimiter, count: int, limit: int = 10, window: float = 60
) -> list[RateDecision]:
    return [take(limiter, "client", limit, window) for _ in range(count)]


def test_burst_of_limit_is_allowed_then_rejected() -> None:
    limiter = InProcessRateLimiter(clock=FakeClock())

    decisions = take_burst(limiter, 11)

    assert [d.allowed for d in decisions] == [True] * 10 + [False]
    assert [d.remaining for d in decisions] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
    assert [d.limit for d in decisions] == [10] * 11


def test_reset_grows_six_seconds_per_request() -> None:
    limiter = InProcessRateLimiter(clock=FakeClock())

    decisions = take_burst(limiter, 11)

    expected = [6.0, 12.0, 18.0, 24.0, 30.0, 36.0, 42.0, 48.0, 54.0, 60.0, 60.0]
    assert [d.reset_seconds for d in decisions] == expected


def test_rejected_request_reports_wait_for_one_token() -> None:
    limiter = InProcessRateLimiter(clock=FakeClock())

    decisions = take_burst(limiter, 11)

    assert [d.retry_after_seconds for d in decisions[:10]] == [0.0] * 10
    assert decisions[10].retry_after_seconds == 6.0


def test_refill_after_one_token_time_allows_exactly_one() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock)
    take_burst(limiter, 10)

    clock.now += 6.0
    first, second = take_burst(limiter, 2)

    assert first == RateDecision(
        allowed=True, limit=10, remaining=0, reset_seconds=60.0, retry_after_seconds=0.0
    )
    assert second == RateDecision(
        allowed=False,
        limit=10,
        remaining=0,
        reset_seconds=60.0,
        retry_after_seconds=6.0,
    )


def test_half_a_token_is_not_enough() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock)
    take_burst(limiter, 10)

    clock.now += 3.0
    (decision,) = take_burst(limiter, 1)

    # Half a token is back: 3 s more for a whole one, 57 s until all ten are.
    assert decision == RateDecision(
        allowed=False,
        limit=10,
        remaining=0,
        reset_seconds=57.0,
        retry_after_seconds=3.0,
    )


def test_remaining_counts_whole_tokens_after_partial_refill() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock)
    take_burst(limiter, 4, limit=4, window=2)

    # One token every 0.5 s: 1.25 s brings back 2.5 tokens, the request takes
    # one, and the 2.5 missing tokens take 1.25 s to come back.
    clock.now += 1.25
    (decision,) = take_burst(limiter, 1, limit=4, window=2)

    assert decision.allowed is True
    assert decision.remaining == 1
    assert decision.reset_seconds == 1.25


def test_retry_after_rounds_up_to_a_whole_microsecond() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock)
    start = clock.now
    take_burst(limiter, 3, limit=3, window=1)

    (rejected,) = take_burst(limiter, 1, limit=3, window=1)
    clock.now = start + 0.333333
    (too_early,) = take_burst(limiter, 1, limit=3, window=1)
    clock.now = start + 0.333334
    (on_time,) = take_burst(limiter, 1, limit=3, window=1)

    # A token takes 1/3 s, that is 333 333.3 µs, so 333 334 µs is the first
    # whole microsecond at which one is back.
    assert rejected.retry_after_seconds == 0.333334
    assert too_early.allowed is False
    assert too_early.retry_after_seconds == 0.000001
    assert on_time.allowed is True


def test_long_idle_fills_bucket_only_to_limit() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock)
    take_burst(limiter, 10)

    clock.now += 10_000.0
    decisions = take_burst(limiter, 11)

    assert [d.allowed for d in decisions] == [True] * 10 + [False]


def test_keys_have_separate_buckets() -> None:
    limiter = InProcessRateLimiter(clock=FakeClock())
    take(limiter, "alice", 1, 60)

    alice = take(limiter, "alice", 1, 60)
    bob = take(limiter, "bob", 1, 60)

    assert alice.allowed is False
    assert bob.allowed is True


def test_changed_window_keeps_the_tokens_left() -> None:
    limiter = InProcessRateLimiter(clock=FakeClock())
    take(limiter, "client", 2, 10)

    # One of two tokens is left, and under the longer window it is still one.
    first = take(limiter, "client", 2, 20)
    second = take(limiter, "client", 2, 20)

    assert first.allowed is True
    assert first.reset_seconds == 20.0
    assert second.allowed is False


def test_max_keys_drops_least_recently_used() -> None:
    limiter = InProcessRateLimiter(clock=FakeClock(), max_keys=2)
    for key in ("a", "b", "c"):
        take(limiter, key, 1, 60)

    a_again = take(limiter, "a", 1, 60)
    c_again = take(limiter, "c", 1, 60)

    assert limiter.bucket_count == 2
    assert a_again.allowed is True  # "a" was dropped, so its bucket is full
    assert c_again.allowed is False


def test_full_buckets_are_dropped_at_the_next_sweep() -> None:
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock, sweep_seconds=60.0)
    take(limiter, "idle", 10, 6)  # full again 0.6 s later
    take(limiter, "busy", 1, 3600)  # full again an hour later

    clock.now += 59.0
    take(limiter, "other", 10, 6)
    count_before_sweep = limiter.bucket_count
    clock.now += 1.0
    take(limiter, "other", 10, 6)

    assert count_before_sweep == 3
    assert limiter.bucket_count == 2


@pytest.mark.parametrize(
    ("limit", "window_seconds", "message"),
    [
        (0, 60.0, "rate limit must be at least 1 request, got 0"),
        (10, 0.0, "rate limit window must be a positive number of seconds, got 0.0"),
        (
            10,
            float("nan"),
            "rate limit window must be a positive number of seconds, got nan",
        ),
        (10, 1e-7, "rate limit window must be at least 1 microsecond, got 1e-07 s"),
        (
            100_000_000,
            86_400.0,
            "rate limit of 100000000 requests per 86400.0 s is too large: the limit "
            "times the window in microseconds must not exceed 2**53; use a smaller "
            "limit or a shorter window",
        ),
    ],
)
def test_invalid_limit_or_window_is_rejected(
    limit: int, window_seconds: float, message: str
) -> None:
    limiter = InProcessRateLimiter(clock=FakeClock())

    with pytest.raises(ValueError) as raised:
        take(limiter, "client", limit, window_seconds)

    assert str(raised.value) == message


@st.composite
def request_plans(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """Draw a limit, a window in µs and request times in µs, bursts included."""
    limit = draw(st.integers(min_value=1, max_value=8))
    window_us = draw(st.integers(min_value=1, max_value=5_000)) * 1_000
    gap = st.one_of(st.just(0), st.integers(min_value=0, max_value=2 * window_us))
    gaps = draw(st.lists(gap, min_size=1, max_size=60))
    times, now = [], 0
    for step in gaps:
        now += step
        times.append(now)
    return limit, window_us, times


def allowed_times(limit: int, window_us: int, times: list[int]) -> list[int]:
    """Return the times of the requests that a fresh limiter allowed."""
    clock = FakeClock()
    limiter = InProcessRateLimiter(clock=clock)
    allowed = []
    for at in times:
        clock.now = at / 1_000_000
        if take(limiter, "client", limit, window_us / 1_000_000).allowed:
            allowed.append(at)
    return allowed


@bounded
@given(request_plans())
def test_no_interval_allows_more_than_the_bucket_refills(
    plan: tuple[int, int, list[int]],
) -> None:
    limit, window_us, times = plan

    allowed = allowed_times(limit, window_us, times)

    # Every interval's allowed requests lie between two allowed ones, so
    # checking the intervals between allowed requests covers all intervals.
    for first in range(len(allowed)):
        for last in range(first, len(allowed)):
            count = last - first + 1
            length_us = allowed[last] - allowed[first]
            assert count <= limit + Fraction(length_us * limit, window_us)


@bounded
@given(request_plans())
def test_decisions_match_an_exact_fraction_bucket(
    plan: tuple[int, int, list[int]],
) -> None:
    limit, window_us, times = plan
    tokens, last_at, expected = Fraction(limit), times[0], []
    for at in times:
        tokens = min(
            Fraction(limit), tokens + Fraction((at - last_at) * limit, window_us)
        )
        last_at = at
        expected.append(at if tokens >= 1 else None)
        if tokens >= 1:
            tokens -= 1

    allowed = allowed_times(limit, window_us, times)

    assert allowed == [at for at in expected if at is not None]
