"""Retries with full jitter, on a fake sleep and a fixed random number.

With base 1 s and maximum 3 s the ceilings of retries 1 to 4 are 1, 2, 3 and 3
seconds, because the fourth would be 8 s without the cap. A random number of 0.5
then gives delays of 0.5, 1.0, 1.5 and 1.5 seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stonkmarket.application.retrying import backoff_ceiling, with_retries

# database=None keeps hypothesis from writing an example database into the tree.
bounded = settings(max_examples=200, deadline=None, database=None)


class FlakyCall:
    """A call that raises `error_type` on its first `failures` calls, then returns."""

    def __init__(self, failures: int, error_type: type[Exception] = TimeoutError):
        self.failures = failures
        self.error_type = error_type
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error_type(f"failure {self.calls}")
        return "quote"


class Recorder:
    """Fake `sleep` and `on_retry` that record, in order, what they were given."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float]] = []

    async def sleep(self, seconds: float) -> None:
        self.events.append(("sleep", seconds))

    async def on_retry(self, retry: int, error: BaseException, delay: float) -> None:
        self.events.append((f"retry {retry} after {error}", delay))

    @property
    def sleeps(self) -> list[float]:
        return [seconds for event, seconds in self.events if event == "sleep"]


def retry(
    call: Callable[[], Awaitable[str]],
    recorder: Recorder,
    *,
    attempts: int = 5,
    rand: float = 0.5,
) -> str:
    return asyncio.run(
        with_retries(
            call,
            retry_on=(TimeoutError,),
            attempts=attempts,
            base_seconds=1.0,
            max_seconds=3.0,
            on_retry=recorder.on_retry,
            sleep=recorder.sleep,
            rand=lambda: rand,
        )
    )


def test_delays_double_up_to_the_maximum() -> None:
    recorder = Recorder()

    retry(FlakyCall(failures=4), recorder)

    assert recorder.sleeps == [0.5, 1.0, 1.5, 1.5]


def test_delays_scale_with_the_random_number() -> None:
    recorder = Recorder()

    retry(FlakyCall(failures=3), recorder, rand=0.25)

    assert recorder.sleeps == [0.25, 0.5, 0.75]


def test_on_retry_runs_before_each_sleep() -> None:
    recorder = Recorder()

    retry(FlakyCall(failures=2), recorder)

    assert recorder.events == [
        ("retry 1 after failure 1", 0.5),
        ("sleep", 0.5),
        ("retry 2 after failure 2", 1.0),
        ("sleep", 1.0),
    ]


def test_success_after_failures_returns_the_result() -> None:
    call = FlakyCall(failures=2)

    result = retry(call, Recorder())

    assert result == "quote"
    assert call.calls == 3


def test_first_success_makes_one_call_and_no_sleep() -> None:
    call = FlakyCall(failures=0)
    recorder = Recorder()

    retry(call, recorder)

    assert call.calls == 1
    assert recorder.events == []


def test_exhausted_attempts_reraise_the_last_error() -> None:
    call = FlakyCall(failures=10)

    with pytest.raises(TimeoutError, match=r"^failure 3$"):
        retry(call, Recorder(), attempts=3)

    assert call.calls == 3


def test_exhausted_attempts_sleep_between_tries_only() -> None:
    recorder = Recorder()

    with pytest.raises(TimeoutError):
        retry(FlakyCall(failures=10), recorder, attempts=3)

    assert recorder.sleeps == [0.5, 1.0]


def test_error_outside_retry_on_propagates_at_once() -> None:
    call = FlakyCall(failures=10, error_type=ValueError)
    recorder = Recorder()

    with pytest.raises(ValueError, match=r"^failure 1$"):
        retry(call, recorder)

    assert call.calls == 1
    assert recorder.events == []


def test_one_attempt_never_retries() -> None:
    call = FlakyCall(failures=10)

    with pytest.raises(TimeoutError, match=r"^failure 1$"):
        retry(call, Recorder(), attempts=1)

    assert call.calls == 1


def test_zero_attempts_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"^attempts must be at least 1, got 0$"):
        retry(FlakyCall(failures=0), Recorder(), attempts=0)


def test_backoff_ceiling_doubles_from_the_base() -> None:
    ceilings = [backoff_ceiling(n, 0.5, 100.0) for n in range(1, 6)]

    assert ceilings == [0.5, 1.0, 2.0, 4.0, 8.0]


def test_huge_retry_gets_the_max_ceiling() -> None:
    assert backoff_ceiling(100_000, 0.5, 30.0) == 30.0


def test_backoff_ceiling_rejects_retry_zero() -> None:
    with pytest.raises(ValueError, match=r"^retry number must be at least 1, got 0$"):
        backoff_ceiling(0, 1.0, 3.0)


seconds = st.floats(min_value=0, max_value=1e6, allow_nan=False)
randoms = st.floats(min_value=0, max_value=1, exclude_max=True)


@bounded
@given(
    base=seconds,
    maximum=seconds,
    draws=st.lists(randoms, min_size=1, max_size=40),
)
def test_every_delay_lies_between_zero_and_its_ceiling(
    base: float, maximum: float, draws: list[float]
) -> None:
    recorder = Recorder()
    numbers = iter(draws)

    with pytest.raises(TimeoutError):
        asyncio.run(
            with_retries(
                FlakyCall(failures=len(draws) + 1),
                retry_on=(TimeoutError,),
                attempts=len(draws) + 1,
                base_seconds=base,
                max_seconds=maximum,
                sleep=recorder.sleep,
                rand=lambda: next(numbers),
            )
        )

    ceilings = [backoff_ceiling(n, base, maximum) for n in range(1, len(draws) + 1)]
    assert len(recorder.sleeps) == len(draws)
    for delay, ceiling in zip(recorder.sleeps, ceilings, strict=True):
        assert 0 <= delay <= ceiling


@bounded
@given(
    retry_number=st.integers(min_value=1, max_value=5000), base=seconds, maximum=seconds
)
def test_ceiling_never_exceeds_the_maximum(
    retry_number: int, base: float, maximum: float
) -> None:
    assert backoff_ceiling(retry_number, base, maximum) <= maximum
