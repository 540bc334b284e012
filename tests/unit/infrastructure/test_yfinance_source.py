from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import yfinance

from stonkmarket.application.errors import PriceSourceError, UnknownTickerError
from stonkmarket.infrastructure.prices.yfinance_source import (
    YFinancePriceSource,
    download_daily_history,
)

FIXTURES = Path(__file__).parents[2] / "fixtures" / "yfinance"
NEW_YORK = "America/New_York"
TOKYO = "Asia/Tokyo"
COLUMN_TYPES = {
    "Open": "float64",
    "High": "float64",
    "Low": "float64",
    "Close": "float64",
    "Adj Close": "float64",
    "Volume": "int64",
}


def load_history(name: str, timezone: str) -> pd.DataFrame:
    """Rebuild a recorded frame with the index and column types yfinance returns."""
    frame = pd.read_csv(FIXTURES / name, index_col="Date", dtype=COLUMN_TYPES)
    # yfinance returns its empty frame with a plain object index, not a dated one.
    if len(frame.index) == 0:
        return frame
    index = pd.to_datetime(frame.index, utc=True).tz_convert(timezone).as_unit("s")
    frame.index = index.rename("Date")
    return frame


def source_returning(frame: pd.DataFrame) -> YFinancePriceSource:
    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        return frame

    return YFinancePriceSource(download=download)


def test_loader_rebuilds_yfinance_index() -> None:
    frame = load_history("dst_week.csv", NEW_YORK)

    assert str(frame.index.dtype) == "datetime64[s, America/New_York]"
    assert frame.index.name == "Date"
    assert list(frame.columns) == ["Open", "High", "Low", "Close", "Volume"]
    assert frame.index[3] == pd.Timestamp("2024-03-11 00:00", tz=NEW_YORK)


def test_bar_dates_are_exchange_dates_across_dst() -> None:
    source = source_returning(load_history("dst_week.csv", NEW_YORK))

    batch = source.fetch("AAPL")

    assert batch.dates == (
        dt.date(2024, 3, 6),
        dt.date(2024, 3, 7),
        dt.date(2024, 3, 8),
        dt.date(2024, 3, 11),
        dt.date(2024, 3, 12),
        dt.date(2024, 3, 13),
    )


def test_closes_come_from_close_column() -> None:
    source = source_returning(load_history("dst_week.csv", NEW_YORK))

    batch = source.fetch("AAPL")

    assert batch.closes == (100.5, 101.25, 102.0, 103.75, 104.5, 105.25)


def test_batch_names_ticker_and_source() -> None:
    source = source_returning(load_history("dst_week.csv", NEW_YORK))

    batch = source.fetch("AAPL")

    assert batch.ticker == "AAPL"
    assert batch.source == "yfinance"


def test_tokyo_bars_keep_tokyo_dates() -> None:
    source = source_returning(load_history("tokyo_week.csv", TOKYO))

    batch = source.fetch("7203.T")

    assert batch.dates == (
        dt.date(2024, 3, 11),
        dt.date(2024, 3, 12),
        dt.date(2024, 3, 13),
        dt.date(2024, 3, 14),
        dt.date(2024, 3, 15),
    )


@pytest.mark.parametrize(
    "date",
    [
        pytest.param(dt.date(2024, 4, 2), id="nan"),
        pytest.param(dt.date(2024, 4, 3), id="zero"),
        pytest.param(dt.date(2024, 4, 4), id="negative"),
        pytest.param(dt.date(2024, 4, 5), id="infinite"),
    ],
)
def test_unusable_close_is_dropped(date: dt.date) -> None:
    source = source_returning(load_history("unusable_closes.csv", NEW_YORK))

    batch = source.fetch("AAPL")

    assert date not in batch.dates


def test_usable_closes_survive_unusable_neighbours() -> None:
    source = source_returning(load_history("unusable_closes.csv", NEW_YORK))

    batch = source.fetch("AAPL")

    assert batch.dates == (dt.date(2024, 4, 1), dt.date(2024, 4, 8))
    assert batch.closes == (100.5, 102.0)


def test_duplicate_date_keeps_latest_bar() -> None:
    source = source_returning(load_history("duplicate_date.csv", NEW_YORK))

    batch = source.fetch("AAPL")

    assert batch.dates == (
        dt.date(2024, 4, 9),
        dt.date(2024, 4, 10),
        dt.date(2024, 4, 11),
    )
    assert batch.closes == (110.0, 111.5, 112.0)


def test_unsorted_frame_comes_out_oldest_first() -> None:
    frame = load_history("dst_week.csv", NEW_YORK).iloc[::-1]
    source = source_returning(frame)

    batch = source.fetch("AAPL")

    assert batch.closes == (100.5, 101.25, 102.0, 103.75, 104.5, 105.25)


def test_start_and_end_are_inclusive() -> None:
    source = source_returning(load_history("dst_week.csv", NEW_YORK))

    batch = source.fetch("AAPL", start=dt.date(2024, 3, 7), end=dt.date(2024, 3, 12))

    assert batch.dates == (
        dt.date(2024, 3, 7),
        dt.date(2024, 3, 8),
        dt.date(2024, 3, 11),
        dt.date(2024, 3, 12),
    )


def test_downloader_gets_exclusive_end() -> None:
    calls: list[tuple[str, dt.date | None, dt.date | None]] = []

    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        calls.append((ticker, start, end))
        return load_history("dst_week.csv", NEW_YORK)

    source = YFinancePriceSource(download=download)

    source.fetch("AAPL", start=dt.date(2024, 3, 7), end=dt.date(2024, 3, 12))

    assert calls == [("AAPL", dt.date(2024, 3, 7), dt.date(2024, 3, 13))]


def test_downloader_gets_open_range_unchanged() -> None:
    calls: list[tuple[str, dt.date | None, dt.date | None]] = []

    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        calls.append((ticker, start, end))
        return load_history("dst_week.csv", NEW_YORK)

    source = YFinancePriceSource(download=download)

    source.fetch("AAPL")

    assert calls == [("AAPL", None, None)]


def test_empty_frame_is_unknown_ticker() -> None:
    source = source_returning(load_history("empty.csv", NEW_YORK))

    with pytest.raises(UnknownTickerError) as caught:
        source.fetch("NOPE")

    assert caught.value.message == (
        "yfinance has no daily prices for ticker 'NOPE'; "
        "check the symbol on finance.yahoo.com"
    )


def test_downloader_error_becomes_price_source_error() -> None:
    failure = ConnectionError("connection reset by peer")

    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        raise failure

    source = YFinancePriceSource(download=download)

    with pytest.raises(PriceSourceError) as caught:
        source.fetch("AAPL")

    assert caught.value.message == (
        "yfinance failed to fetch ticker 'AAPL': "
        "ConnectionError: connection reset by peer; try again later"
    )
    assert caught.value.__cause__ is failure


def test_frame_without_close_is_price_source_error() -> None:
    frame = load_history("dst_week.csv", NEW_YORK).drop(columns=["Close"])
    source = source_returning(frame)

    with pytest.raises(PriceSourceError) as caught:
        source.fetch("AAPL")

    assert caught.value.message == (
        "yfinance returned no Close column for ticker 'AAPL'; "
        "check that the installed yfinance still returns OHLC frames"
    )


def test_frame_without_timestamps_is_price_source_error() -> None:
    frame = load_history("dst_week.csv", NEW_YORK).reset_index(drop=True)
    source = source_returning(frame)

    with pytest.raises(PriceSourceError) as caught:
        source.fetch("AAPL")

    assert caught.value.message == (
        "yfinance returned rows without timestamps for ticker 'AAPL'; "
        "check that the installed yfinance still returns a DatetimeIndex"
    )


class RecordingTicker:
    """Stand-in for yfinance.Ticker that stores the history() request."""

    requests: ClassVar[list[tuple[str, dict[str, object]]]] = []

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker

    def history(self, **options: object) -> pd.DataFrame:
        RecordingTicker.requests.append((self.ticker, options))
        return load_history("dst_week.csv", NEW_YORK)


@pytest.fixture
def recording_ticker(monkeypatch: pytest.MonkeyPatch) -> type[RecordingTicker]:
    RecordingTicker.requests = []
    monkeypatch.setattr(yfinance, "Ticker", RecordingTicker)
    return RecordingTicker


def test_default_download_asks_for_adjusted_daily_bars(
    recording_ticker: type[RecordingTicker],
) -> None:
    download_daily_history("AAPL", dt.date(2024, 3, 7), dt.date(2024, 3, 13))

    assert recording_ticker.requests == [
        (
            "AAPL",
            {
                "start": dt.date(2024, 3, 7),
                "end": dt.date(2024, 3, 13),
                "interval": "1d",
                "auto_adjust": True,
                "actions": False,
            },
        )
    ]


def test_default_download_without_start_asks_for_max(
    recording_ticker: type[RecordingTicker],
) -> None:
    download_daily_history("AAPL", None, None)

    assert recording_ticker.requests == [
        (
            "AAPL",
            {
                "start": None,
                "end": None,
                "interval": "1d",
                "auto_adjust": True,
                "actions": False,
                "period": "max",
            },
        )
    ]
