"""The job context: the container, the sources, the lock and the call budget."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from stonkmarket.application.call_budget import CallBudget
from stonkmarket.application.job_locks import JobLock
from stonkmarket.application.ports import PriceSource
from stonkmarket.infrastructure.prices.yfinance_fundamentals import RawFundamentals
from stonkmarket.interfaces.bootstrap import Container


class FundamentalsSource(Protocol):
    """A source of fundamentals snapshots (yfinance, or a fake)."""

    name: str

    def fetch(self, ticker: str) -> RawFundamentals: ...


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently a rate-limited call is tried again."""

    attempts: int = 4
    base_seconds: float = 2.0
    max_seconds: float = 60.0


@dataclass(kw_only=True)
class JobContext:
    """Everything a run needs; one per worker process (or per serve process)."""

    container: Container
    prices: PriceSource
    fundamentals: FundamentalsSource
    lock: JobLock
    budget: CallBudget
    worker: str = field(default_factory=lambda: worker_name())
    retry: RetryPolicy = RetryPolicy()
    lock_seconds: float = 60.0
    renew_seconds: float = 20.0
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    # The runs in progress in this process, so that stopping can wait for them.
    running: set[asyncio.Task[Any]] = field(default_factory=set)


def worker_name() -> str:
    """Name this process in run logs: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"
