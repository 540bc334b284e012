"""The job runtime of a process: its broker, its task, and its job context.

Every process that requests runs (API, scheduler) or performs them (worker,
or the embedded serve process) builds one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from uuid import UUID

import structlog
from taskiq import (
    AsyncBroker,
    AsyncTaskiqDecoratedTask,
    Context,
    TaskiqDepends,
)

from stonkmarket.application.errors import UnknownTickerError
from stonkmarket.application.ports import PriceSource
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.call_budget import InProcessCallBudget, ValkeyCallBudget
from stonkmarket.infrastructure.job_lock import InProcessJobLock, ValkeyJobLock
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.infrastructure.prices.yfinance_fundamentals import (
    RawFundamentals,
    YFinanceFundamentalsSource,
)
from stonkmarket.infrastructure.prices.yfinance_source import YFinancePriceSource
from stonkmarket.infrastructure.task_broker import make_broker
from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.worker.context import FundamentalsSource, JobContext
from stonkmarket.interfaces.worker.lifecycle import perform_run
from stonkmarket.interfaces.worker.work import JOBS

log = structlog.get_logger(__name__)
RUN_JOB = "stonkmarket.run_job"
# Together under the 15 s that Compose and most supervisors wait after SIGTERM.
DRAIN_SECONDS = 8.0
CANCEL_SECONDS = 4.0


# taskiq injects the task's context through this default.
TASK_CONTEXT: Any = TaskiqDepends()


async def run_job(run_id: str, context: Context = TASK_CONTEXT) -> str:
    """The one task: perform the run `run_id`; return the status it ended with."""
    job_context: JobContext = context.state.job_context
    return await perform_run(job_context, UUID(run_id), JOBS)


class YFinanceAsTraded:
    """Yahoo's closes as traded with its splits and dividends, for ingesting.

    One attempt per call: the job retries rate limits itself, within the
    cluster's call budget.
    """

    name = "yfinance"

    def __init__(self) -> None:
        self.source = YFinancePriceSource(attempts=1)

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        raw = self.source.fetch_raw(ticker, start, end)
        return PriceBatch(
            ticker=raw.ticker,
            dates=raw.dates,
            closes=raw.closes,
            source=raw.source,
            reference_closes=raw.adjusted_closes,
            actions=tuple(raw.actions),
        )


class SampleFundamentals:
    """The bundled sample's fundamentals: none, so no job leaves the machine."""

    name = "sample"

    def fetch(self, ticker: str) -> RawFundamentals:
        raise UnknownTickerError(
            f"the bundled sample has no fundamentals for {ticker}; "
            "set PRICE_SOURCE=yfinance to fetch them from Yahoo",
            field="ticker",
        )


def price_source(name: str) -> PriceSource:
    """Return the price source PRICE_SOURCE names."""
    return SamplePriceSource() if name == "sample" else YFinanceAsTraded()


def fundamentals_source(name: str) -> FundamentalsSource:
    """Return the fundamentals source that goes with PRICE_SOURCE."""
    return SampleFundamentals() if name == "sample" else YFinanceFundamentalsSource()


class JobRuntime:
    """The broker, the run task, and what runs need, for one process."""

    def __init__(
        self,
        container: Container,
        *,
        prices: PriceSource | None = None,
        fundamentals: FundamentalsSource | None = None,
        broker: AsyncBroker | None = None,
        **context_options: Any,
    ) -> None:
        config = container.config
        self.container = container
        shared_url = config.valkey_url if config.shares_jobs else None
        self.broker = broker or make_broker(shared_url)
        self.task: AsyncTaskiqDecoratedTask[Any, Any] = self.broker.register_task(
            run_job,
            task_name=RUN_JOB,
        )
        rate = config.source_calls_per_second
        self.context = JobContext(
            container=container,
            prices=prices or price_source(config.price_source),
            fundamentals=fundamentals or fundamentals_source(config.price_source),
            lock=(
                InProcessJobLock()
                if config.valkey_url is None
                else ValkeyJobLock(config.valkey_url)
            ),
            budget=(
                InProcessCallBudget(rate)
                if config.valkey_url is None
                else ValkeyCallBudget(config.valkey_url, calls_per_second=rate)
            ),
            **context_options,
        )
        self.broker.state.job_context = self.context

    async def start(self) -> None:
        await self.broker.startup()

    async def enqueue(self, run_id: UUID) -> None:
        """Hand the run to a worker."""
        await self.task.kiq(str(run_id))

    async def close(self) -> None:
        """Let runs in progress end, then disconnect.

        Runs get DRAIN_SECONDS to end. The rest are cancelled and each
        records that its worker stopped, within CANCEL_SECONDS, so none is
        left `running` for a sweep to find.
        """
        running = set(self.context.running)
        if running:
            _, late = await asyncio.wait(running, timeout=DRAIN_SECONDS)
            for task in late:
                task.cancel()
            if late:
                _, stuck = await asyncio.wait(late, timeout=CANCEL_SECONDS)
                log.warning("job_runs_interrupted", runs=len(late), stuck=len(stuck))
        await self.broker.shutdown()
        await self.context.lock.close()
        await self.context.budget.close()
