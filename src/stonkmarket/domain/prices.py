"""Daily closing prices as they travel between sources and the domain."""

from __future__ import annotations

import datetime as dt

import msgspec

from stonkmarket.domain.adjustment import CorporateAction


class PriceBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Daily closes of one ticker, oldest first, as a source reported them.

    `closes` are the closes as the source reported them: as traded when the
    batch carries its corporate `actions`, already adjusted otherwise (the
    bundled sample). `reference_closes`, when given, are the source's own
    adjusted closes, which tell a corporate action the source knows of from a
    real move. Dates are the exchange's trading dates.
    """

    ticker: str
    dates: tuple[dt.date, ...]
    closes: tuple[float, ...]
    source: str
    reference_closes: tuple[float | None, ...] | None = None
    actions: tuple[CorporateAction, ...] = ()

    def __len__(self) -> int:
        return len(self.dates)
