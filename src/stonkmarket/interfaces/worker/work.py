"""The work of each job.

A ticker that fails is reported in the run's log and summary and makes the
run partial, while the other tickers go on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from stonkmarket.application.commands import RecordFundamentals, RecordPrices
from stonkmarket.application.errors import (
    ApplicationError,
    NotFoundError,
    SourceRateLimitedError,
)
from stonkmarket.application.handlers import record_fundamentals, record_prices
from stonkmarket.application.job_commands import ExpireSignals
from stonkmarket.application.job_handlers import expire_signals
from stonkmarket.application.retrying import with_retries
from stonkmarket.domain.dips import WINDOWS
from stonkmarket.domain.errors import DomainError
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.interfaces.worker.context import JobContext
from stonkmarket.interfaces.worker.lifecycle import Outcome, RunLog, Work

T = TypeVar("T")
SIGNAL_LIFETIME = dt.timedelta(days=7)
TickerWork = Callable[[str], Awaitable[str]]


async def throttled(
    context: JobContext, log: RunLog, ticker: str, call: Callable[[], T]
) -> T:
    """Make one source call in a thread, within the cluster's call budget,
    retrying rate limits with backoff and jitter; each retry is logged."""

    async def attempt() -> T:
        await context.budget.wait_turn()
        return await asyncio.to_thread(call)

    async def note_retry(retry: int, error: BaseException, delay: float) -> None:
        await log.write(
            f"{ticker}: rate limited, retry {retry} in {delay:.1f} s",
            {"ticker": ticker, "retry": retry, "delay_s": round(delay, 3)},
            level="warning",
        )

    policy = context.retry
    return await with_retries(
        attempt,
        retry_on=(SourceRateLimitedError,),
        attempts=policy.attempts,
        base_seconds=policy.base_seconds,
        max_seconds=policy.max_seconds,
        on_retry=note_retry,
    )


async def each_ticker(
    tickers: list[str], log: RunLog, work: TickerWork, what: str
) -> Outcome:
    """Do `work` for every ticker; failures are logged and make the run partial."""
    outcomes: dict[str, str] = {}
    for ticker in tickers:
        try:
            outcomes[ticker] = await work(ticker)
        except (ApplicationError, DomainError) as exc:
            outcomes[ticker] = f"failed: {exc.message}"
            await log.write(f"{ticker}: {exc.message}", {"ticker": ticker}, "error")
        else:
            await log.write(f"{ticker}: {outcomes[ticker]}", {"ticker": ticker})
    failed = sorted(t for t, o in outcomes.items() if o.startswith("failed"))
    summary: dict[str, Any] = {"tickers": outcomes}
    if not failed:
        return Outcome(summary=summary)
    error = f"{what} failed for {len(failed)} of {len(tickers)} tickers: " + ", ".join(
        failed
    )
    return Outcome(summary=summary, error=error, partial=len(failed) < len(tickers))


async def _watched(context: JobContext, params: dict[str, Any]) -> list[str]:
    if "tickers" in params:
        return list(params["tickers"])
    return [s.ticker for s in await context.container.queries.symbols()]


async def ingest_prices(
    context: JobContext, params: dict[str, Any], log: RunLog
) -> Outcome:
    """Fetch the bars after each ticker's last one, and the benchmark's."""
    queries = context.container.queries
    benchmark = str((await queries.settings()).values["benchmark"])
    tickers = await _watched(context, params)
    if "tickers" not in params and benchmark not in tickers:
        tickers = [benchmark, *tickers]
    await log.write(f"fetching {len(tickers)} tickers from {context.prices.name}")

    async def ingest(ticker: str) -> str:
        last = await context.container.queries.views.last_bar_date(ticker)
        start = None if last is None else last + dt.timedelta(days=1)
        batch: PriceBatch = await throttled(
            context, log, ticker, lambda: context.prices.fetch(ticker, start)
        )
        if len(batch) == 0:
            return "up to date"
        receipt = await context.container.execute(
            record_prices,
            RecordPrices(batch=batch, actor=log.actor, correlation_id=str(log.run_id)),
        )
        return f"{len(batch)} bars" if receipt.position else "unchanged"

    return await each_ticker(tickers, log, ingest, "ingest_prices")


async def refresh_fundamentals(
    context: JobContext, params: dict[str, Any], log: RunLog
) -> Outcome:
    """Fetch and record a fundamentals snapshot of each watched ticker."""
    tickers = await _watched(context, params)
    today = context.now().date()

    async def refresh(ticker: str) -> str:
        raw = await throttled(
            context, log, ticker, lambda: context.fundamentals.fetch(ticker)
        )
        receipt = await context.container.execute(
            record_fundamentals,
            RecordFundamentals(
                ticker=ticker,
                as_of=today,
                source=context.fundamentals.name,
                info=raw.info,
                statements=raw.statements,
                actor=log.actor,
                correlation_id=str(log.run_id),
            ),
        )
        return "recorded" if receipt.position else "unchanged"

    return await each_ticker(tickers, log, refresh, "refresh_fundamentals")


async def cleanup(context: JobContext, params: dict[str, Any], log: RunLog) -> Outcome:
    """Expire signals computed more than 7 days ago, and expired logouts."""
    before = context.now() - SIGNAL_LIFETIME
    await context.container.execute(
        expire_signals,
        ExpireSignals(run_id=log.run_id, before=before, actor=log.actor),
    )
    return Outcome(summary={"expired_before": before.isoformat()})


async def dipfinder_run(
    context: JobContext, params: dict[str, Any], log: RunLog
) -> Outcome:
    """Compute afresh the signals of the given tickers and windows; log each one.

    Each signal is computed from the bars as of the ticker's last one, not
    read from the stored signals.
    """
    tickers = await _watched(context, params)
    windows = list(params.get("windows", WINDOWS))
    queries = context.container.queries

    async def compute(ticker: str) -> str:
        last = await queries.views.last_bar_date(ticker)
        if last is None:
            raise NotFoundError(f"no prices recorded for {ticker}", field="tickers")
        parts = []
        for window in windows:
            signal = await queries.signal(ticker, window, as_of=last)
            score = (
                "no score"
                if signal.final_score is None
                else f"score {signal.final_score:.1f}"
            )
            dip = f"dip {signal.dip_stock * 100:.1f} %"
            parts.append(f"{window} d: {dip}, {score}, {signal.alert_level}")
        return "; ".join(parts)

    return await each_ticker(tickers, log, compute, "dipfinder_run")


async def rebuild_projections(
    context: JobContext, params: dict[str, Any], log: RunLog
) -> Outcome:
    """Empty every view and replay every event."""
    replayed = await context.container.runner.rebuild("all")
    return Outcome(summary={"events_replayed": replayed})


JOBS: dict[str, Work] = {
    "ingest_prices": ingest_prices,
    "refresh_fundamentals": refresh_fundamentals,
    "cleanup": cleanup,
    "dipfinder_run": dipfinder_run,
    "rebuild_projections": rebuild_projections,
}
