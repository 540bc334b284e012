"""Ports: what the application needs from the outside, as Protocols."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from uuid import UUID

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


class PasswordHasher(Protocol):
    """Hashes passwords and checks passwords against stored hashes."""

    @property
    def dummy_hash(self) -> str:
        """A hash of no account's password, made with the current parameters.

        Checking a password against it costs what checking an account's hash
        costs, so an unknown username is refused as slowly as a wrong password.
        """
        ...

    def hash(self, password: str) -> str:
        """Return a new salted hash of `password`."""
        ...

    def verify(self, password_hash: str, password: str) -> bool:
        """Return True when `password` matches; False on a mismatch or bad hash."""
        ...

    def needs_rehash(self, password_hash: str) -> bool:
        """Return True when the hash was made with other than the current parameters."""
        ...


class RunQueue(Protocol):
    """Hands requested job runs to the workers."""

    async def enqueue(self, run_id: UUID) -> None:
        """Queue the run `run_id`; a worker performs it once."""
        ...
