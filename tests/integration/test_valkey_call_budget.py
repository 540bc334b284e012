"""Call budgets: Valkey on the real server, and in process on a fake clock.

At 20 calls a second the slots are 0.05 s apart, so 20 callers that arrive
together wake over at least 19 x 0.05 = 0.95 s. asyncio may fire a timer up to
its clock resolution early, hence a tolerance of 10 ms.
"""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import valkey
import valkey.exceptions

from stonkmarket.infrastructure.call_budget import (
    CallBudgetUnavailableError,
    InProcessCallBudget,
    ValkeyCallBudget,
)

KEY = "stonkmarket:call-budget:yfinance"
TOLERANCE_SECONDS = 0.01


async def wake_time(budget: ValkeyCallBudget) -> float:
    await budget.wait_turn()
    return time.monotonic()


def test_two_processes_share_the_spacing(valkey_url: str) -> None:
    """Two budgets stand for two worker processes."""

    async def batch() -> list[float]:
        first = ValkeyCallBudget(valkey_url, calls_per_second=20)
        second = ValkeyCallBudget(valkey_url, calls_per_second=20)
        try:
            callers = [wake_time(budget) for budget in (first, second) * 10]
            return await asyncio.gather(*callers)
        finally:
            await first.close()
            await second.close()

    wakes = sorted(asyncio.run(batch()))

    assert len(wakes) == 20
    assert wakes[-1] - wakes[0] >= 19 * 0.05 - TOLERANCE_SECONDS


def test_first_call_waits_nothing(valkey_url: str) -> None:
    async def one_call() -> float:
        budget = ValkeyCallBudget(valkey_url, calls_per_second=20)
        try:
            return await budget.wait_turn()
        finally:
            await budget.close()

    assert asyncio.run(one_call()) == 0.0


def test_second_call_waits_about_one_interval(valkey_url: str) -> None:
    async def two_calls() -> float:
        budget = ValkeyCallBudget(valkey_url, calls_per_second=2)
        try:
            await budget.wait_turn()
            return await budget.wait_turn()
        finally:
            await budget.close()

    waited = asyncio.run(two_calls())

    # The gap between the two scripts on the server counts against the wait.
    assert 0.45 < waited <= 0.5


def test_budget_key_expires_when_its_next_slot_passes(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def one_call() -> None:
        budget = ValkeyCallBudget(valkey_url, calls_per_second=20)
        try:
            await budget.wait_turn()
        finally:
            await budget.close()

    asyncio.run(one_call())

    assert 0 < client.pttl(KEY) <= 50
    client.close()


def _closed_port() -> int:
    """Return a local port that nothing listens on, so connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_valkey_raises_unavailable() -> None:
    async def one_call() -> float:
        url = f"redis://127.0.0.1:{_closed_port()}/15"
        budget = ValkeyCallBudget(url, calls_per_second=20)
        try:
            return await budget.wait_turn()
        finally:
            await budget.close()

    with pytest.raises(CallBudgetUnavailableError) as raised:
        asyncio.run(one_call())

    assert str(raised.value).startswith("cannot reach Valkey for the call budget: ")
    assert isinstance(raised.value.__cause__, valkey.exceptions.ConnectionError)


def test_zero_rate_is_rejected() -> None:
    with pytest.raises(
        ValueError,
        match=r"^call budget rate must be a positive number of calls per second, "
        r"got 0$",
    ):
        InProcessCallBudget(calls_per_second=0)


class FakeTime:
    """A clock frozen at 100 s and a sleep that records its delays."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_in_process_callers_wait_one_interval_more_each() -> None:
    fake = FakeTime()
    budget = InProcessCallBudget(2, clock=fake.clock, sleep=fake.sleep)

    async def three_calls() -> list[float]:
        return [await budget.wait_turn() for _ in range(3)]

    waits = asyncio.run(three_calls())

    assert waits == [0.0, 0.5, 1.0]
    assert fake.sleeps == [0.5, 1.0]


def test_in_process_budget_banks_no_slots_while_idle() -> None:
    fake = FakeTime()
    budget = InProcessCallBudget(2, clock=fake.clock, sleep=fake.sleep)
    asyncio.run(budget.wait_turn())
    fake.now += 60.0

    async def two_calls() -> list[float]:
        return [await budget.wait_turn() for _ in range(2)]

    assert asyncio.run(two_calls()) == [0.0, 0.5]
