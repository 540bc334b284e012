from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
import yfinance
from yfinance.exceptions import YFRateLimitError

from stonkmarket.application.errors import (
    PriceSourceError,
    SourceRateLimitedError,
    UnknownTickerError,
)
from stonkmarket.domain.adjustment import CorporateAction, clean_prices
from stonkmarket.infrastructure.prices.yfinance_source import (
    YFinancePriceSource,
    download_daily_history,
    download_raw_daily_history,
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
    "Dividends": "float64",
    "Stock Splits": "float64",
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


def test_default_raw_download_asks_for_actions(
    recording_ticker: type[RecordingTicker],
) -> None:
    download_raw_daily_history("AAPL", None, dt.date(2024, 3, 13))

    assert recording_ticker.requests == [
        (
            "AAPL",
            {
                "start": None,
                "end": dt.date(2024, 3, 13),
                "interval": "1d",
                "auto_adjust": False,
                "actions": True,
                "period": "max",
            },
        )
    ]


# Raw closes and corporate actions


def raw_source_returning(frame: pd.DataFrame) -> YFinancePriceSource:
    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        return frame

    return YFinancePriceSource(download_raw=download)


def test_loader_rebuilds_raw_columns() -> None:
    frame = load_history("split_dividend_week.csv", NEW_YORK)

    assert list(frame.columns) == [
        "Open",
        "High",
        "Low",
        "Close",
        "Adj Close",
        "Volume",
        "Dividends",
        "Stock Splits",
    ]
    assert str(frame["Stock Splits"].dtype) == "float64"


def test_raw_closes_are_as_traded() -> None:
    source = raw_source_returning(load_history("split_dividend_week.csv", NEW_YORK))

    raw = source.fetch_raw("AAPL")

    assert raw.dates == (
        dt.date(2024, 6, 3),
        dt.date(2024, 6, 4),
        dt.date(2024, 6, 5),
        dt.date(2024, 6, 6),
        dt.date(2024, 6, 7),
    )
    assert raw.closes == (200.0, 199.0, 204.0, 103.0, 104.0)


def test_raw_actions_are_parsed() -> None:
    source = raw_source_returning(load_history("split_dividend_week.csv", NEW_YORK))

    raw = source.fetch_raw("AAPL")

    assert raw.actions == [
        CorporateAction(date=dt.date(2024, 6, 4), kind="dividend", value=0.5),
        CorporateAction(date=dt.date(2024, 6, 6), kind="split", value=2.0),
    ]


def test_raw_adjusted_closes_come_from_adj_close() -> None:
    source = raw_source_returning(load_history("split_dividend_week.csv", NEW_YORK))

    raw = source.fetch_raw("AAPL")

    assert raw.adjusted_closes == (99.75, 99.5, 102.0, 103.0, 104.0)
    assert raw.ticker == "AAPL"
    assert raw.source == "yfinance"


def test_raw_prices_clean_to_adj_close() -> None:
    source = raw_source_returning(load_history("split_dividend_week.csv", NEW_YORK))
    raw = source.fetch_raw("AAPL")

    clean = clean_prices(
        raw.dates,
        raw.closes,
        actions=raw.actions,
        reference_closes=raw.adjusted_closes,
    )

    assert clean.series.closes.tolist() == pytest.approx(
        [99.75, 99.5, 102.0, 103.0, 104.0], abs=1e-9
    )
    assert clean.flags == []


def test_raw_range_filters_actions() -> None:
    source = raw_source_returning(load_history("split_dividend_week.csv", NEW_YORK))

    raw = source.fetch_raw("AAPL", start=dt.date(2024, 6, 5))

    assert raw.closes == (204.0, 103.0, 104.0)
    assert raw.actions == [
        CorporateAction(date=dt.date(2024, 6, 6), kind="split", value=2.0)
    ]


def test_raw_event_row_without_prices() -> None:
    source = raw_source_returning(load_history("future_dividend.csv", NEW_YORK))

    raw = source.fetch_raw("AAPL")

    assert raw.dates == (dt.date(2024, 8, 5), dt.date(2024, 8, 6), dt.date(2024, 8, 7))
    assert raw.adjusted_closes == (50.0, 51.0, 52.0)
    assert raw.actions == [
        CorporateAction(date=dt.date(2024, 8, 9), kind="dividend", value=0.26)
    ]


def test_raw_frame_without_adj_close() -> None:
    source = raw_source_returning(load_history("dst_week.csv", NEW_YORK))

    raw = source.fetch_raw("AAPL")

    assert raw.closes == (100.5, 101.25, 102.0, 103.75, 104.5, 105.25)
    assert raw.adjusted_closes is None
    assert raw.actions == []


def test_raw_missing_adj_close_is_none() -> None:
    frame = load_history("split_dividend_week.csv", NEW_YORK)
    frame.loc[frame.index[1], "Adj Close"] = float("nan")
    source = raw_source_returning(frame)

    raw = source.fetch_raw("AAPL")

    assert raw.adjusted_closes == (99.75, None, 102.0, 103.0, 104.0)


def test_raw_empty_frame_is_unknown_ticker() -> None:
    source = raw_source_returning(load_history("empty.csv", NEW_YORK))

    with pytest.raises(UnknownTickerError) as caught:
        source.fetch_raw("NOPE")

    assert caught.value.message == (
        "yfinance has no daily prices for ticker 'NOPE'; "
        "check the symbol on finance.yahoo.com"
    )


# Batch downloads and ticker spelling


def load_batch(name: str) -> pd.DataFrame:
    """Rebuild a recorded yf.download frame: two-level columns, no timezone."""
    frame = pd.read_csv(FIXTURES / name, header=[0, 1], index_col=0)
    frame.index = pd.to_datetime(frame.index).as_unit("s").rename("Date")
    frame.columns = frame.columns.set_names(["Price", "Ticker"])
    return frame


def test_loader_rebuilds_batch_columns() -> None:
    frame = load_batch("batch_download.csv")

    assert frame.columns.names == ["Price", "Ticker"]
    assert list(frame.columns.get_level_values("Price")[:2]) == ["Close", "Close"]
    assert list(frame.columns.get_level_values("Ticker")[:2]) == ["AAPL", "BRK-B"]
    assert isinstance(frame.index, pd.DatetimeIndex)
    assert frame.index.tz is None


def test_batch_frame_selects_ticker() -> None:
    source = source_returning(load_batch("batch_download.csv"))

    batch = source.fetch("AAPL")

    assert batch.closes == (169.0, 169.5, 170.5, 172.5)


def test_share_class_is_looked_up_with_dash() -> None:
    source = source_returning(load_batch("batch_download.csv"))

    batch = source.fetch("BRK.B")

    assert batch.ticker == "BRK.B"
    assert batch.dates == (
        dt.date(2024, 3, 6),
        dt.date(2024, 3, 7),
        dt.date(2024, 3, 11),
    )
    assert batch.closes == (401.5, 404.0, 406.5)


def test_ticker_grouped_batch_frame() -> None:
    frame = load_batch("batch_download.csv").swaplevel(axis=1)
    source = source_returning(frame)

    batch = source.fetch("BRK.B")

    assert batch.closes == (401.5, 404.0, 406.5)


def test_batch_frame_without_ticker_is_unknown() -> None:
    source = source_returning(load_batch("batch_download.csv"))

    with pytest.raises(UnknownTickerError) as caught:
        source.fetch("MSFT")

    assert caught.value.message == (
        "yfinance has no daily prices for ticker 'MSFT'; "
        "check the symbol on finance.yahoo.com"
    )


def test_downloader_gets_yahoo_symbol() -> None:
    calls: list[tuple[str, dt.date | None, dt.date | None]] = []

    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        calls.append((ticker, start, end))
        return load_batch("batch_download.csv")

    source = YFinancePriceSource(download=download)

    source.fetch("BRK.B")

    assert calls == [("BRK-B", None, None)]


# Rate limits


class FlakyDownload:
    """Downloader that raises a rate limit `failures` times, then returns a frame."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def __call__(
        self, ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        self.calls += 1
        if self.calls <= self.failures:
            raise YFRateLimitError()
        return load_history("dst_week.csv", NEW_YORK)


def retrying_source(
    download: FlakyDownload, delays: list[float], jitter: float = 0.5, attempts: int = 4
) -> YFinancePriceSource:
    return YFinancePriceSource(
        download=download,
        download_raw=download,
        sleep=delays.append,
        jitter=lambda: jitter,
        attempts=attempts,
    )


def test_rate_limit_is_retried_with_backoff() -> None:
    delays: list[float] = []
    download = FlakyDownload(failures=2)
    source = retrying_source(download, delays)

    batch = source.fetch("AAPL")

    assert delays == [1.0, 2.0]
    assert download.calls == 3
    assert len(batch) == 6


@pytest.mark.parametrize(
    ("jitter", "expected"),
    [
        pytest.param(0.0, [0.5, 1.0, 2.0], id="least"),
        pytest.param(0.75, [1.25, 2.5, 5.0], id="more"),
    ],
)
def test_jitter_scales_backoff(jitter: float, expected: list[float]) -> None:
    delays: list[float] = []
    source = retrying_source(FlakyDownload(failures=3), delays, jitter=jitter)

    source.fetch("AAPL")

    assert delays == expected


def test_raw_fetch_retries_rate_limit() -> None:
    delays: list[float] = []
    source = retrying_source(FlakyDownload(failures=1), delays)

    raw = source.fetch_raw("AAPL")

    assert delays == [1.0]
    assert len(raw.dates) == 6


def test_lasting_rate_limit_is_rate_limited_error() -> None:
    delays: list[float] = []
    download = FlakyDownload(failures=10)
    source = retrying_source(download, delays)

    with pytest.raises(SourceRateLimitedError) as caught:
        source.fetch("AAPL")

    assert caught.value.message == (
        "Yahoo is rate limiting requests: ticker 'AAPL' failed 4 times in a row; "
        "retry in a few minutes"
    )
    assert isinstance(caught.value.__cause__, YFRateLimitError)
    assert download.calls == 4
    assert delays == [1.0, 2.0, 4.0]


def test_attempts_are_configurable() -> None:
    delays: list[float] = []
    download = FlakyDownload(failures=10)
    source = retrying_source(download, delays, attempts=2)

    with pytest.raises(PriceSourceError):
        source.fetch("AAPL")

    assert download.calls == 2
    assert delays == [1.0]


def test_other_errors_are_not_retried() -> None:
    delays: list[float] = []
    calls: list[str] = []

    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        calls.append(ticker)
        raise ConnectionError("connection reset by peer")

    source = YFinancePriceSource(download=download, sleep=delays.append)

    with pytest.raises(PriceSourceError):
        source.fetch("AAPL")

    assert calls == ["AAPL"]
    assert delays == []


def test_zero_attempts_rejected() -> None:
    with pytest.raises(ValueError) as caught:
        YFinancePriceSource(attempts=0)

    assert str(caught.value) == "attempts must be at least 1, got 0"


# Provisional bars


def source_at(frame: pd.DataFrame, now: dt.datetime) -> YFinancePriceSource:
    def download(
        ticker: str, start: dt.date | None, end: dt.date | None
    ) -> pd.DataFrame:
        return frame

    return YFinancePriceSource(
        download=download, download_raw=download, now=lambda: now
    )


def new_york_time(hour: int, minute: int, day: int = 13) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=ZoneInfo(NEW_YORK))


def test_todays_bar_before_close_is_dropped() -> None:
    source = source_at(load_history("dst_week.csv", NEW_YORK), new_york_time(16, 29))

    batch = source.fetch("AAPL")

    assert batch.dates[-1] == dt.date(2024, 3, 12)
    assert len(batch) == 5


def test_todays_bar_after_close_is_kept() -> None:
    source = source_at(load_history("dst_week.csv", NEW_YORK), new_york_time(16, 30))

    batch = source.fetch("AAPL")

    assert batch.dates[-1] == dt.date(2024, 3, 13)
    assert len(batch) == 6


def test_yesterdays_bar_is_final() -> None:
    now = new_york_time(9, 0, day=14)
    source = source_at(load_history("dst_week.csv", NEW_YORK), now)

    batch = source.fetch("AAPL")

    assert batch.dates[-1] == dt.date(2024, 3, 13)


@pytest.mark.parametrize(
    ("utc_time", "last_date"),
    [
        # 20:00 UTC is 16:00 in New York, which moved to UTC-4 on 10 March.
        pytest.param(dt.time(20, 0), dt.date(2024, 3, 12), id="before-close"),
        pytest.param(dt.time(20, 30), dt.date(2024, 3, 13), id="after-close"),
    ],
)
def test_utc_clock_read_in_exchange_time(utc_time: dt.time, last_date: dt.date) -> None:
    now = dt.datetime.combine(dt.date(2024, 3, 13), utc_time, tzinfo=dt.UTC)
    source = source_at(load_history("dst_week.csv", NEW_YORK), now)

    batch = source.fetch("AAPL")

    assert batch.dates[-1] == last_date


def test_tokyo_bar_before_close_is_dropped() -> None:
    # 06:00 UTC is 15:00 in Tokyo on Friday 15 March.
    now = dt.datetime(2024, 3, 15, 6, 0, tzinfo=dt.UTC)
    source = source_at(load_history("tokyo_week.csv", TOKYO), now)

    batch = source.fetch("7203.T")

    assert batch.dates[-1] == dt.date(2024, 3, 14)


def test_frame_without_timezone_keeps_today_provisional() -> None:
    now = dt.datetime(2024, 3, 11, 23, 0, tzinfo=dt.UTC)
    source = source_at(load_batch("batch_download.csv"), now)

    batch = source.fetch("AAPL")

    assert batch.dates[-1] == dt.date(2024, 3, 8)


def test_raw_fetch_drops_provisional_bar() -> None:
    now = dt.datetime(2024, 6, 7, 12, 0, tzinfo=ZoneInfo(NEW_YORK))
    source = source_at(load_history("split_dividend_week.csv", NEW_YORK), now)

    raw = source.fetch_raw("AAPL")

    assert raw.dates[-1] == dt.date(2024, 6, 6)
    assert raw.adjusted_closes == (99.75, 99.5, 102.0, 103.0)


def test_utc_frame_keeps_today_provisional() -> None:
    # Crypto trades until midnight UTC, so 23:00 is still before its close.
    now = dt.datetime(2024, 3, 13, 23, 0, tzinfo=dt.UTC)
    source = source_at(load_history("crypto_week.csv", "UTC"), now)

    raw = source.fetch_raw("BTC-USD")

    assert raw.dates == (dt.date(2024, 3, 11), dt.date(2024, 3, 12))
