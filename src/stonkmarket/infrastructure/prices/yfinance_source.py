"""Daily closes and corporate actions from Yahoo Finance, fetched with yfinance."""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pandas as pd
import structlog
import yfinance as yf
from yfinance.exceptions import YFRateLimitError

from stonkmarket.application.errors import (
    PriceSourceError,
    SourceRateLimitedError,
    UnknownTickerError,
)
from stonkmarket.domain.adjustment import CorporateAction
from stonkmarket.domain.errors import InvalidTickerError
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.domain.series import FloatArray
from stonkmarket.domain.tickers import normalise_ticker

log = structlog.get_logger(__name__)

HistoryDownloader = Callable[[str, dt.date | None, dt.date | None], pd.DataFrame]
"""A call `(ticker, start, end)` that returns daily bars, with `end` exclusive."""

# Yahoo rejects bursts of requests with HTTP 429. Waits of about 1, 2 and 4
# seconds before the second, third and fourth attempt let a short burst pass.
DEFAULT_ATTEMPTS = 4
RETRY_BASE_SECONDS = 1.0

# US exchanges close at 16:00 and settle the final close within minutes, so a bar
# for today before 16:30 exchange time is provisional.
# NOTE: one time serves every exchange. The London closing auction runs until
# 16:35, so a London bar fetched between 16:30 and 16:35 is taken as final.
MARKET_CLOSE = dt.time(16, 30)


def download_daily_history(
    ticker: str, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    """Download adjusted daily bars from Yahoo, from `start` up to but not `end`."""
    return _history(ticker, start, end, auto_adjust=True, actions=False)


def download_raw_daily_history(
    ticker: str, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    """Download daily bars with Adj Close, Dividends and Stock Splits from Yahoo."""
    return _history(ticker, start, end, auto_adjust=False, actions=True)


def _history(
    ticker: str, start: dt.date | None, end: dt.date | None, **options: Any
) -> pd.DataFrame:
    options["interval"] = "1d"
    if start is None:
        # Without a start yfinance 1.7 fetches one month only, so ask for all of it.
        options["period"] = "max"
    # TODO: yfinance hides network errors by default (config.debug.hide_exceptions)
    # and returns an empty frame, so an outage currently reads as an unknown ticker.
    frame: pd.DataFrame = yf.Ticker(ticker).history(start=start, end=end, **options)
    return frame


class RawPrices(msgspec.Struct, frozen=True, kw_only=True):
    """Daily closes of one ticker as traded, with the source's corporate actions.

    `closes` are as traded, each on the share basis of its own day, so
    `clean_prices` can adjust them through `actions`. `adjusted_closes` are the
    source's split- and dividend-adjusted closes, aligned with `dates` and None
    where missing, or None when the source sent none. Dates are the exchange's
    trading dates.
    """

    ticker: str
    dates: tuple[dt.date, ...]
    closes: tuple[float, ...]
    adjusted_closes: tuple[float | None, ...] | None
    actions: list[CorporateAction]
    source: str


class YFinancePriceSource:
    """Fetch daily closes from Yahoo Finance through the PriceSource port.

    Blocking: callers on an event loop run `fetch` in a worker thread. A rate
    limit is retried `attempts` times in all, with exponential backoff and jitter.
    `now` must return an aware datetime, and `jitter` a number in [0, 1).
    """

    name = "yfinance"

    def __init__(
        self,
        download: HistoryDownloader = download_daily_history,
        *,
        download_raw: HistoryDownloader = download_raw_daily_history,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        attempts: int = DEFAULT_ATTEMPTS,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts}")
        self._download = download
        self._download_raw = download_raw
        self._now = now
        self._sleep = sleep
        self._jitter = jitter
        self._attempts = attempts

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        """Return the adjusted bars for `ticker` dated in [start, end], oldest first.

        Raises UnknownTickerError when Yahoo returns no rows and PriceSourceError
        when the download fails or returns a frame without closes or dates.
        """
        bars, _ = self._final_bars(self._download, ticker, start, end)
        return PriceBatch(
            ticker=ticker,
            dates=tuple(bars.index),
            closes=tuple(bars["Close"].tolist()),
            source=self.name,
        )

    def fetch_raw(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> RawPrices:
        """Return the as-traded bars and corporate actions dated in [start, end].

        Yahoo's Close is already adjusted for splits (its historical-data pages state
        "Close price adjusted for splits"), and so are its dividends: it reports
        Apple's 0.82 dividend of August 2020 as 0.205, after the 4:1 split that
        followed. Both are multiplied back through the splits in the frame.
        Raises as `fetch` does.
        """
        # NOTE: a split after `end` is not in the frame, so with a past `end` the
        # closes stay on the basis of that later split.
        bars, events = self._final_bars(self._download_raw, ticker, start, end)
        dates = list(bars.index)
        splits = _positive_by_date(events, "Stock Splits")
        as_traded = bars["Close"].to_numpy() * _later_splits(dates, splits)
        adjusted = None
        if "Adj Close" in bars.columns:
            adjusted = tuple(_usable_or_none(bars["Adj Close"]))
        return RawPrices(
            ticker=ticker,
            dates=tuple(dates),
            closes=tuple(as_traded.tolist()),
            adjusted_closes=adjusted,
            actions=_corporate_actions(events),
            source=self.name,
        )

    def _final_bars(
        self,
        download: HistoryDownloader,
        ticker: str,
        start: dt.date | None,
        end: dt.date | None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the final bars and all rows dated in [start, end], by trading date.

        The bars are one row per date with a usable Close, the last of its date,
        without a provisional bar for today. All rows are kept for their corporate
        actions, which Yahoo may report on a date without a usable close.
        """
        symbol = _yahoo_symbol(ticker)
        frame = self._download_frame(download, symbol, start, end)
        frame = _select_ticker(frame, symbol)
        if len(frame.index) == 0:
            raise UnknownTickerError(
                f"yfinance has no daily prices for ticker {ticker!r}; check the "
                "symbol on finance.yahoo.com"
            )
        frame = frame.sort_index(kind="stable")
        timestamps = _timestamps(frame, ticker)
        today, closed = self._exchange_today(timestamps)
        # A bar's date is the exchange's local date. Converting to UTC first
        # would move every Asian bar, stamped at local midnight, a day back.
        dates = pd.Index([timestamp.date() for timestamp in timestamps])
        in_range = _in_range(dates, start, end)
        events = frame[in_range].set_axis(dates[in_range])

        close = pd.to_numeric(frame["Close"], errors="coerce").to_numpy()
        usable = np.isfinite(close) & (close > 0) & in_range
        if not closed:
            usable &= dates != today
        bars = frame[usable].set_axis(dates[usable]).assign(Close=close[usable])
        return bars[~bars.index.duplicated(keep="last")], events

    def _exchange_today(self, index: pd.DatetimeIndex) -> tuple[dt.date, bool]:
        """Return today's date at the exchange and whether its market has closed.

        Frames in UTC (crypto, which trades until midnight) and frames without a
        timezone (`yf.download` drops it from daily bars) count as UTC, and their
        bar for today stays provisional all day.
        """
        if index.tz is None or str(index.tz) == "UTC":
            return self._now().astimezone(dt.UTC).date(), False
        local_now = self._now().astimezone(index.tz)
        return local_now.date(), local_now.time() >= MARKET_CLOSE

    def _download_frame(
        self,
        download: HistoryDownloader,
        symbol: str,
        start: dt.date | None,
        end: dt.date | None,
    ) -> pd.DataFrame:
        exclusive_end = None if end is None else end + dt.timedelta(days=1)
        rate_limit: Exception | None = None
        for attempt in range(1, self._attempts + 1):
            try:
                return download(symbol, start, exclusive_end)
            except YFRateLimitError as exc:
                rate_limit = exc
                if attempt < self._attempts:
                    self._wait_for_retry(symbol, attempt)
            # yfinance lets errors of requests, curl_cffi and pandas escape
            # unwrapped, so anything else it raises is a failed download.
            except Exception as exc:
                raise PriceSourceError(
                    f"yfinance failed to fetch ticker {symbol!r}: "
                    f"{type(exc).__name__}: {exc}; try again later"
                ) from exc
        raise SourceRateLimitedError(
            f"Yahoo is rate limiting requests: ticker {symbol!r} failed "
            f"{self._attempts} times in a row; retry in a few minutes"
        ) from rate_limit

    def _wait_for_retry(self, symbol: str, attempt: int) -> None:
        # Jitter spreads the retries of concurrent fetches, so they do not all hit
        # Yahoo again at the same moment.
        delay = RETRY_BASE_SECONDS * 2 ** (attempt - 1) * (0.5 + self._jitter())
        log.warning(
            "yfinance_rate_limited",
            ticker=symbol,
            attempt=attempt,
            retry_in_s=round(delay, 3),
        )
        self._sleep(delay)


def _yahoo_symbol(ticker: str) -> str:
    """Return the ticker in Yahoo form, `BRK.B` as `BRK-B`, or unchanged if invalid."""
    try:
        return normalise_ticker(ticker)
    except InvalidTickerError:
        # Yahoo has no prices for a malformed ticker, which reads as unknown.
        return ticker


def _in_range(
    dates: pd.Index[Any], start: dt.date | None, end: dt.date | None
) -> npt.NDArray[np.bool_]:
    in_range = np.ones(len(dates), dtype=bool)
    if start is not None:
        in_range &= dates >= start
    if end is not None:
        in_range &= dates <= end
    return in_range


def _select_ticker(frame: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """Return the columns of one ticker from a batch download's two-level columns.

    `yf.download` labels columns ("Close", "AAPL"), or ("AAPL", "Close") when
    grouped by ticker, and pads each ticker with empty rows on the others' dates.
    """
    columns = frame.columns
    if not isinstance(columns, pd.MultiIndex):
        return frame
    for level in range(columns.nlevels):
        is_symbol = columns.get_level_values(level) == symbol
        if is_symbol.any():
            selected = frame.loc[:, is_symbol]
            selected.columns = columns[is_symbol].droplevel(level)
            return selected.dropna(how="all")
    return frame.iloc[0:0, 0:0]


def _timestamps(frame: pd.DataFrame, ticker: str) -> pd.DatetimeIndex:
    """Return the frame's index after checking that the frame has closes."""
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
    return frame.index


def _positive_by_date(events: pd.DataFrame, column: str) -> dict[dt.date, float]:
    """Return the finite positive values of an event column, the last of each date.

    Yahoo writes 0 in Dividends and Stock Splits on days without an event.
    """
    if column not in events.columns:
        return {}
    values = pd.to_numeric(events[column], errors="coerce").tolist()
    return {
        date: float(value)
        for date, value in zip(events.index.tolist(), values, strict=True)
        if math.isfinite(value) and value > 0
    }


def _later_splits(dates: list[dt.date], splits: dict[dt.date, float]) -> FloatArray:
    """Return, for every date, the product of the ratios of the splits after it."""
    factors = np.ones(len(dates))
    day_numbers = np.array([date.toordinal() for date in dates], dtype=np.int64)
    for split_date, ratio in splits.items():
        factors[day_numbers < split_date.toordinal()] *= ratio
    return factors


def _corporate_actions(events: pd.DataFrame) -> list[CorporateAction]:
    """Return the splits and dividends on the basis of their own day, by date."""
    splits = _positive_by_date(events, "Stock Splits")
    dividends = _positive_by_date(events, "Dividends")
    as_traded = _later_splits(list(dividends), splits)
    actions = [
        CorporateAction(date=date, kind="split", value=ratio)
        for date, ratio in splits.items()
    ]
    actions += [
        CorporateAction(date=date, kind="dividend", value=float(cash * factor))
        for (date, cash), factor in zip(dividends.items(), as_traded, strict=True)
    ]
    return sorted(actions, key=lambda action: action.date)


def _usable_or_none(values: pd.Series[Any]) -> list[float | None]:
    numbers = pd.to_numeric(values, errors="coerce").tolist()
    return [
        float(number) if math.isfinite(number) and number > 0 else None
        for number in numbers
    ]
