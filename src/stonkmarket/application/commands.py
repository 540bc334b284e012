"""Commands: the changes a user or a job requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from stonkmarket.application.views import SymbolView
from stonkmarket.domain.prices import PriceBatch


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """The actor behind a command, and its request or job run."""

    actor: str = "anonymous"
    correlation_id: str | None = None


class AddSymbol(Command, frozen=True, kw_only=True):
    ticker: str
    min_dip_pct: float | None = None
    min_days: int | None = None


class UpdateSymbol(Command, frozen=True, kw_only=True):
    ticker: str
    min_dip_pct: float | None = None
    min_days: int | None = None


class RemoveSymbol(Command, frozen=True, kw_only=True):
    ticker: str


class RecordPrices(Command, frozen=True, kw_only=True):
    batch: PriceBatch
    reason: str | None = None


class ChangeSettings(Command, frozen=True, kw_only=True):
    """Change some knobs; `expected_version`, when given, must be the current one."""

    changes: dict[str, Any]
    expected_version: int | None = None


class RecordFundamentals(Command, frozen=True, kw_only=True):
    """Record what a source reported about a company on `as_of`.

    `info` is shaped like yfinance's `Ticker.info`; `statements` maps statement
    line names (such as "Free Cash Flow") to their latest annual values.
    """

    ticker: str
    as_of: dt.date
    source: str
    info: dict[str, Any]
    statements: dict[str, Any] | None = None


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What a handler returns: the subject and the position of its last event.

    `position` is 0 when the command changed nothing, so no reader needs to wait
    for the read models.
    """

    subject: str
    position: int


class SymbolReceipt(Receipt, frozen=True, kw_only=True):
    """A receipt with the symbol as this command left it."""

    symbol: SymbolView
