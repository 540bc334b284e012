"""The fundamentals adapter on recorded shapes of yfinance output.

The statements below are shaped as yfinance 1.x returns them: one row per
line name, one column per fiscal year end, newest first. The numbers are
invented.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from stonkmarket.application.errors import PriceSourceError, UnknownTickerError
from stonkmarket.infrastructure.prices.yfinance_fundamentals import (
    YFinanceFundamentalsSource,
    latest_statement_lines,
)

YEARS = [pd.Timestamp("2024-09-30"), pd.Timestamp("2023-09-30")]


def _statement(rows: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, index=YEARS).T


class RecordedTicker:
    def __init__(self, info: dict[str, Any], frames: list[pd.DataFrame]) -> None:
        self.info = info
        self.income_stmt, self.balance_sheet, self.cashflow = frames


INCOME = _statement({"Total Revenue": [3.9e11, 3.8e11], "Net Income": [9.4e10, 9.7e10]})
BALANCE = _statement(
    {"Stockholders Equity": [5.7e10, float("nan")], "Total Debt": [1.1e11, 1.2e11]}
)
CASHFLOW = _statement({"Free Cash Flow": [float("nan"), 9.9e10]})


def test_newest_finite_value_of_each_line_is_taken() -> None:
    lines = latest_statement_lines((INCOME, BALANCE, CASHFLOW))

    assert lines == {
        "Total Revenue": 3.9e11,
        "Net Income": 9.4e10,
        "Stockholders Equity": 5.7e10,
        "Total Debt": 1.1e11,
        "Free Cash Flow": 9.9e10,
    }


def test_columns_are_ordered_by_date_not_position() -> None:
    oldest_first = INCOME[list(reversed(INCOME.columns))]

    lines = latest_statement_lines((oldest_first,))

    assert lines["Total Revenue"] == 3.9e11


def test_fetch_returns_info_and_statement_lines() -> None:
    info = {"marketCap": 3.0e12, "debtToEquity": 150.0}
    source = YFinanceFundamentalsSource(
        lambda ticker: RecordedTicker(info, [INCOME, BALANCE, CASHFLOW])
    )

    raw = source.fetch("AAPL")

    assert raw.ticker == "AAPL"
    assert raw.info == info
    assert raw.statements["Free Cash Flow"] == 9.9e10


def test_ticker_without_anything_is_unknown() -> None:
    empty = pd.DataFrame()
    source = YFinanceFundamentalsSource(
        lambda ticker: RecordedTicker({"trailingPegRatio": None}, [empty] * 3)
    )

    with pytest.raises(UnknownTickerError, match="no fundamentals for ticker 'ZZZZ'"):
        source.fetch("ZZZZ")


def test_download_error_becomes_source_error() -> None:
    def broken(ticker: str) -> RecordedTicker:
        raise ConnectionError("connection reset")

    source = YFinanceFundamentalsSource(broken)

    with pytest.raises(
        PriceSourceError,
        match="yfinance failed to fetch fundamentals of 'AAPL': ConnectionError",
    ):
        source.fetch("AAPL")
