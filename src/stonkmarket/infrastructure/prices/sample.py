"""Daily closes bundled with the package, for demos and offline runs.

`sample_prices.csv.gz` holds adjusted closes of 20 S&P 500 stocks and of the
S&P 500 index (`^GSPC`) from 1990-01-02 to 2022-12-28, one column per ticker.
It comes from the datasets shipped in the skfolio wheel (BSD-3-Clause) and is
rebuilt with `scripts/build_sample.py`.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt
import pandas as pd

from stonkmarket.application.errors import UnknownTickerError
from stonkmarket.domain.prices import PriceBatch

_SAMPLE_FILE = "sample_prices.csv.gz"


@dataclass(frozen=True, slots=True)
class _SampleTable:
    """The parsed sample: one date axis and one column of closes per ticker."""

    dates: tuple[dt.date, ...]
    days: npt.NDArray[np.datetime64]
    columns: tuple[str, ...]
    closes: dict[str, npt.NDArray[np.float64]]


def _load_table() -> _SampleTable:
    """Read and parse the bundled file."""
    resource = resources.files(__package__).joinpath(_SAMPLE_FILE)
    frame = pd.read_csv(
        io.BytesIO(resource.read_bytes()), compression="gzip", index_col="date"
    )
    days = pd.to_datetime(frame.index, format="%Y-%m-%d").to_numpy("datetime64[D]")
    return _SampleTable(
        dates=tuple(day.item() for day in days),
        days=days,
        columns=tuple(str(column) for column in frame.columns),
        closes={
            str(column): frame[column].to_numpy(dtype=np.float64)
            for column in frame.columns
        },
    )


class SamplePriceSource:
    """Serve the bundled sample through the PriceSource port, without network."""

    name = "sample"
    benchmark: str = "^GSPC"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: _SampleTable | None = None

    def tickers(self) -> tuple[str, ...]:
        """Return the stock tickers in the sample, in file order, without ^GSPC."""
        return tuple(c for c in self._table().columns if c != self.benchmark)

    def last_date(self) -> dt.date:
        """Return the date of the newest bar in the sample."""
        return self._table().dates[-1]

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        """Return the sample's bars for `ticker` dated in [start, end], oldest first.

        Raises UnknownTickerError when the sample has no column for the ticker.
        """
        table = self._table()
        column = self._column_name(table, ticker)
        first = 0 if start is None else _first_index_on_or_after(table.days, start)
        stop = len(table.days) if end is None else _first_index_after(table.days, end)

        closes = table.closes[column][first:stop]
        # Zero, negative, NaN and infinite closes are missing values, not prices.
        keep = np.isfinite(closes) & (closes > 0)
        dates = table.dates[first:stop]
        return PriceBatch(
            ticker=column,
            dates=tuple(date for date, kept in zip(dates, keep, strict=True) if kept),
            closes=tuple(closes[keep].tolist()),
            source=self.name,
        )

    def _table(self) -> _SampleTable:
        # The lock keeps two worker threads from parsing the file twice.
        with self._lock:
            if self._loaded is None:
                self._loaded = _load_table()
            return self._loaded

    def _column_name(self, table: _SampleTable, ticker: str) -> str:
        for column in table.columns:
            if column.upper() == ticker.upper():
                return column
        raise UnknownTickerError(
            f"the bundled sample has no prices for ticker {ticker!r}; "
            f"use one of {', '.join(table.columns)}, or the yfinance source"
        )


def _first_index_on_or_after(days: npt.NDArray[np.datetime64], date: dt.date) -> int:
    return int(np.searchsorted(days, np.datetime64(date, "D"), side="left"))


def _first_index_after(days: npt.NDArray[np.datetime64], date: dt.date) -> int:
    return int(np.searchsorted(days, np.datetime64(date, "D"), side="right"))
