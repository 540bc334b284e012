from __future__ import annotations

import datetime as dt

import pytest

from stonkmarket.application.errors import UnknownTickerError
from stonkmarket.infrastructure.prices.sample import SamplePriceSource

pytestmark = pytest.mark.slow

STOCKS = (
    "AAPL",
    "AMD",
    "BAC",
    "BBY",
    "CVX",
    "GE",
    "HD",
    "JNJ",
    "JPM",
    "KO",
    "LLY",
    "MRK",
    "MSFT",
    "PEP",
    "PFE",
    "PG",
    "RRC",
    "UNH",
    "WMT",
    "XOM",
)


@pytest.fixture(scope="module")
def sample() -> SamplePriceSource:
    return SamplePriceSource()


def test_tickers_are_twenty_stocks_in_file_order(sample: SamplePriceSource) -> None:
    assert sample.tickers() == STOCKS


def test_benchmark_is_sp500_index(sample: SamplePriceSource) -> None:
    assert sample.benchmark == "^GSPC"


@pytest.mark.parametrize("ticker", [*STOCKS, "^GSPC"])
def test_every_series_has_all_bars(sample: SamplePriceSource, ticker: str) -> None:
    batch = sample.fetch(ticker)

    assert len(batch) == 8313
    assert len(batch.closes) == 8313
    assert batch.dates[0] == dt.date(1990, 1, 2)
    assert batch.dates[-1] == dt.date(2022, 12, 28)


def test_last_date_is_newest_bar(sample: SamplePriceSource) -> None:
    assert sample.last_date() == dt.date(2022, 12, 28)


@pytest.mark.parametrize(
    ("date", "close"),
    [(dt.date(2009, 3, 9), 676.53), (dt.date(2008, 5, 19), 1426.63)],
)
def test_index_close_matches_source_text(
    sample: SamplePriceSource, date: dt.date, close: float
) -> None:
    batch = sample.fetch("^GSPC", start=date, end=date)

    assert batch.dates == (date,)
    assert batch.closes == (close,)


def test_start_and_end_are_inclusive(sample: SamplePriceSource) -> None:
    batch = sample.fetch("^GSPC", start=dt.date(2009, 3, 9), end=dt.date(2009, 3, 13))

    assert batch.dates == (
        dt.date(2009, 3, 9),
        dt.date(2009, 3, 10),
        dt.date(2009, 3, 11),
        dt.date(2009, 3, 12),
        dt.date(2009, 3, 13),
    )
    assert batch.closes == (676.53, 719.6, 721.36, 750.74, 756.55)


def test_start_alone_keeps_the_tail(sample: SamplePriceSource) -> None:
    batch = sample.fetch("AAPL", start=dt.date(2022, 12, 27))

    assert batch.dates == (dt.date(2022, 12, 27), dt.date(2022, 12, 28))
    assert batch.closes == (129.652, 125.674)


def test_end_alone_keeps_the_head(sample: SamplePriceSource) -> None:
    batch = sample.fetch("AAPL", end=dt.date(1990, 1, 3))

    assert batch.dates == (dt.date(1990, 1, 2), dt.date(1990, 1, 3))
    assert batch.closes == (0.264, 0.266)


def test_range_between_bars_is_empty(sample: SamplePriceSource) -> None:
    # 2009-03-14 and 2009-03-15 are a Saturday and a Sunday.
    batch = sample.fetch("^GSPC", start=dt.date(2009, 3, 14), end=dt.date(2009, 3, 15))

    assert batch.dates == ()
    assert batch.closes == ()


def test_ticker_lookup_ignores_case(sample: SamplePriceSource) -> None:
    batch = sample.fetch("aapl", end=dt.date(1990, 1, 2))

    assert batch.ticker == "AAPL"
    assert batch.closes == (0.264,)


def test_batch_names_sample_source(sample: SamplePriceSource) -> None:
    batch = sample.fetch("^GSPC", end=dt.date(1990, 1, 2))

    assert batch.source == "sample"
    assert batch.closes == (359.69,)


def test_unknown_ticker_is_rejected(sample: SamplePriceSource) -> None:
    with pytest.raises(UnknownTickerError) as caught:
        sample.fetch("TSLA")

    assert caught.value.message == (
        "the bundled sample has no prices for ticker 'TSLA'; use one of ^GSPC, "
        "AAPL, AMD, BAC, BBY, CVX, GE, HD, JNJ, JPM, KO, LLY, MRK, MSFT, PEP, PFE, "
        "PG, RRC, UNH, WMT, XOM, or the yfinance source"
    )
