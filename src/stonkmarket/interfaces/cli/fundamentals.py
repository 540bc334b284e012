"""Fetching fundamentals and recording them through the ordinary command."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Protocol

from stonkmarket.application.commands import RecordFundamentals
from stonkmarket.application.errors import ApplicationError
from stonkmarket.application.handlers import record_fundamentals
from stonkmarket.infrastructure.prices.yfinance_fundamentals import RawFundamentals
from stonkmarket.interfaces.bootstrap import Container

FUNDAMENTALS_ACTOR = "system:fundamentals"


class FundamentalsSource(Protocol):
    name: str

    def fetch(self, ticker: str) -> RawFundamentals: ...


async def refresh_fundamentals(
    container: Container,
    source: FundamentalsSource,
    tickers: list[str],
    fetched_on: dt.date,
) -> dict[str, str]:
    """Fetch and record each ticker's fundamentals; return the outcome per ticker.

    A ticker that fails is reported and the others go on.
    """
    outcomes: dict[str, str] = {}
    for ticker in tickers:
        try:
            raw = await asyncio.to_thread(source.fetch, ticker)
            receipt = await container.execute(
                record_fundamentals,
                RecordFundamentals(
                    ticker=ticker,
                    as_of=fetched_on,
                    source=source.name,
                    info=raw.info,
                    statements=raw.statements,
                    actor=FUNDAMENTALS_ACTOR,
                ),
            )
        except ApplicationError as exc:
            outcomes[ticker] = f"failed: {exc.message}"
        else:
            outcomes[ticker] = "recorded" if receipt.position else "unchanged"
    return outcomes
