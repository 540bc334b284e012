"""Ports: what the application needs from the outside, as Protocols."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from stonkmarket.domain.prices import PriceBatch


class PriceSource(Protocol):
    """Where daily closes come from (yfinance, the bundled sample, a fake)."""

    name: str

    def fetch(
        self, ticker: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> PriceBatch:
        """Return the bars dated in [start, end], oldest first.

        Raises PriceSourceError when the source fails and UnknownTickerError
        when it has no prices at all for the ticker.
        """
        ...
