"""Fundamentals from Yahoo Finance: `Ticker.info` and the latest statements."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import msgspec
import pandas as pd
import yfinance as yf

from stonkmarket.application.errors import PriceSourceError, UnknownTickerError

# Statement lines the normaliser falls back on when `info` lacks a value.
STATEMENT_LINES = (
    "Free Cash Flow",
    "Operating Cash Flow",
    "Total Revenue",
    "Operating Income",
    "Net Income",
    "Stockholders Equity",
    "Total Debt",
    "Current Assets",
    "Current Liabilities",
    "Total Assets",
)


class RawFundamentals(msgspec.Struct, frozen=True, kw_only=True):
    """Yahoo's report on a company, before any normalising."""

    ticker: str
    info: dict[str, Any]
    statements: dict[str, float]


class YahooTicker(Protocol):
    """The part of `yfinance.Ticker` this adapter reads."""

    @property
    def info(self) -> dict[str, Any]: ...
    @property
    def income_stmt(self) -> pd.DataFrame: ...
    @property
    def balance_sheet(self) -> pd.DataFrame: ...
    @property
    def cashflow(self) -> pd.DataFrame: ...


class YFinanceFundamentalsSource:
    """Fetch `info` and the newest annual statement lines of one ticker.

    Blocking: callers on an event loop run `fetch` in a worker thread.
    """

    name = "yfinance"

    def __init__(self, open_ticker: Callable[[str], YahooTicker] = yf.Ticker) -> None:
        self._open_ticker = open_ticker

    def fetch(self, ticker: str) -> RawFundamentals:
        """Return what Yahoo reports; raise UnknownTickerError or PriceSourceError."""
        try:
            handle = self._open_ticker(ticker)
            info = dict(handle.info or {})
            frames = (handle.income_stmt, handle.balance_sheet, handle.cashflow)
        # yfinance lets errors of requests, curl_cffi and pandas escape unwrapped.
        except Exception as exc:
            raise PriceSourceError(
                f"yfinance failed to fetch fundamentals of {ticker!r}: "
                f"{type(exc).__name__}: {exc}; try again later"
            ) from exc
        statements = latest_statement_lines(frames)
        if not _has_values(info) and not statements:
            raise UnknownTickerError(
                f"yfinance has no fundamentals for ticker {ticker!r}; indices and "
                "funds have none, so their quality stays null"
            )
        return RawFundamentals(ticker=ticker, info=info, statements=statements)


def latest_statement_lines(frames: tuple[pd.DataFrame, ...]) -> dict[str, float]:
    """Return the newest finite value of each known line across the statements.

    yfinance statements have one row per line and one column per fiscal
    period, newest first.
    """
    lines: dict[str, float] = {}
    for frame in frames:
        if frame is None or frame.empty:
            continue
        ordered = frame[sorted(frame.columns, reverse=True)]
        for line in STATEMENT_LINES:
            if line in lines or line not in ordered.index:
                continue
            raw = pd.Series(ordered.loc[line].to_numpy().ravel())
            numbers = pd.to_numeric(raw, errors="coerce").astype(float)
            finite = [float(v) for v in numbers if math.isfinite(v)]
            if finite:
                lines[line] = finite[0]
    return lines


def _has_values(info: dict[str, Any]) -> bool:
    # Yahoo returns a stub for an unknown symbol, such as {"trailingPegRatio": None}.
    return any(value is not None for value in info.values())
