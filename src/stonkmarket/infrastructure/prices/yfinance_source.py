"""Daily closes from Yahoo Finance, fetched with the yfinance package."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import yfinance as yf

from stonkmarket.application.errors import PriceSourceError, UnknownTickerError
from stonkmarket.domain.prices import PriceBatch

HistoryDownloader = Callable[[str, dt.date | None, dt.date | None], pd.DataFrame]
"""A call `(ticker, start, end)` that returns daily bars, with `end` exclusive."""


def download_daily_history(
    ticker: str, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    """Download adjusted daily bars from Yahoo, from `start` up to but not `end`."""
    options: dict[str, Any] = {"interval": "1d", "auto_adjust": True, "actions": False}
    if start is None:
        # Without a start yfinance 1.7 fetches one month only, so ask for all of it.
        options["period"] = "max"
    # TODO: yfinance hides network errors by default (config.debug.hide_exceptions)
    # and returns an empty frame, so an outage currently reads as an unknown ticker.
    frame: pd.DataFrame = yf.Ticker(ticker).history(start=start, end=end, **options)
    return frame


class YFinancePriceSource:
    """Fetch daily adjusted closes from Yahoo Finance through the PriceSource port.

    Blocking: callers on an event loop run `fetch` in a worker thread.
    """

    name = "yfinance"

    def __init__(self, download: HistoryDownloader = download_daily_history) -> None:
        self._download = download

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        """Return the bars for `ticker` dated in [start, end], oldest first.

        Raises UnknownTickerError when Yahoo returns no rows and PriceSourceError
        when the download fails or returns a frame without closes or dates.
        """
        frame = self._download_frame(ticker, start, end)
        if len(frame.index) == 0:
            raise UnknownTickerError(
                f"yfinance has no daily prices for ticker {ticker!r}; check the "
                "symbol on finance.yahoo.com"
            )

        close_by_date = _close_by_trading_date(frame, ticker)
        dates = sorted(
            date
            for date in close_by_date
            if (start is None or date >= start) and (end is None or date <= end)
        )
        return PriceBatch(
            ticker=ticker,
            dates=tuple(dates),
            closes=tuple(close_by_date[date] for date in dates),
            source=self.name,
        )

    def _download_frame(
        self, ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        exclusive_end = None if end is None else end + dt.timedelta(days=1)
        try:
            return self._download(ticker, start, exclusive_end)
        # yfinance lets errors of requests, curl_cffi and pandas escape unwrapped,
        # so anything it raises is a failed download.
        except Exception as exc:
            raise PriceSourceError(
                f"yfinance failed to fetch ticker {ticker!r}: "
                f"{type(exc).__name__}: {exc}; try again later"
            ) from exc


def _close_by_trading_date(frame: pd.DataFrame, ticker: str) -> dict[dt.date, float]:
    """Map each trading date to its latest usable close."""
    if "Close" not in frame.columns:
        raise PriceSourceError(
            f"yfinance returned no Close column for ticker {ticker!r}; check that "
            "the installed yfinance still returns OHLC frames"
        )
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise PriceSourceError(
            f"yfinance returned rows without timestamps for ticker {ticker!r}; check "
            "that the installed yfinance still returns a DatetimeIndex"
        )

    closes = pd.to_numeric(frame["Close"], errors="coerce").tolist()
    close_by_date: dict[dt.date, float] = {}
    # sorted() is stable, so of two rows with one timestamp the later row wins.
    rows = sorted(zip(frame.index, closes, strict=True), key=lambda row: row[0])
    for timestamp, close in rows:
        if math.isfinite(close) and close > 0:
            # A bar's date is the exchange's local date. Converting to UTC first
            # would move every Asian bar, stamped at local midnight, a day back.
            close_by_date[timestamp.date()] = float(close)
    return close_by_date
