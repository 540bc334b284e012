"""Daily closing prices as they travel between sources and the domain."""

from __future__ import annotations

import datetime as dt

import msgspec


class PriceBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Daily closes of one ticker, oldest first, as a source reported them.

    `closes` are split- and dividend-adjusted closes, the series dips are
    measured on. Dates are the exchange's trading dates.
    """

    ticker: str
    dates: tuple[dt.date, ...]
    closes: tuple[float, ...]
    source: str

    def __len__(self) -> int:
        return len(self.dates)
