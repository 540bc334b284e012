from __future__ import annotations

import asyncio
import datetime as dt

from stonkmarket.application.errors import UnknownTickerError
from stonkmarket.infrastructure.prices.yfinance_fundamentals import RawFundamentals
from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.cli.fundamentals import refresh_fundamentals


class RecordedSource:
    name = "recorded"

    def fetch(self, ticker: str) -> RawFundamentals:
        if ticker == "^GSPC":
            raise UnknownTickerError("yfinance has no fundamentals for ticker '^GSPC'")
        info = {"debtToEquity": 150.0, "marketCap": 2.0e11}
        return RawFundamentals(ticker=ticker, info=info, statements={})


def test_each_ticker_is_recorded_or_reported(container: Container) -> None:
    async def refresh_twice() -> tuple[dict[str, str], dict[str, str], object]:
        await container.start()
        source = RecordedSource()
        day = dt.date(2024, 5, 1)
        first = await refresh_fundamentals(container, source, ["KO", "^GSPC"], day)
        second = await refresh_fundamentals(container, source, ["KO"], day)
        snapshot = await container.queries.fundamentals("KO")
        await container.close()
        return first, second, snapshot

    first, second, snapshot = asyncio.run(refresh_twice())

    assert first == {
        "KO": "recorded",
        "^GSPC": "failed: yfinance has no fundamentals for ticker '^GSPC'",
    }
    assert second == {"KO": "unchanged"}
    assert snapshot is not None
    assert snapshot.metrics.debt_to_equity == 1.5
    assert snapshot.metrics.market_cap == 2.0e11
