"""Read-model shapes that queries return and projections write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class SymbolView(msgspec.Struct, frozen=True, kw_only=True):
    """A ticker on the watchlist and its own thresholds (null: the default)."""

    ticker: str
    min_dip_pct: float | None
    min_days: int | None
    added_at: dt.datetime
    updated_at: dt.datetime


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """The finder's answer for one ticker, window and benchmark on one date.

    Fractions are fractions (0.152 is a 15.2 % dip); `dip_pctl` is 0 to 100.
    """

    ticker: str
    window: int
    benchmark: str
    as_of_date: dt.date
    current_price: float
    peak_stock: float
    peak_date: dt.date
    dip_stock: float
    dip_pctl: float | None
    typical_dip: float | None
    dip_vs_typical: float | None
    persist_days: int
    dip_mkt: float | None
    excess_dip: float | None
    dip_class: str | None
    reason: str
    settings_version: int


class RankingRow(msgspec.Struct, frozen=True, kw_only=True):
    """One watched ticker's place in the dip ranking of a window."""

    rank: int
    ticker: str
    window: int
    as_of_date: dt.date
    current_price: float
    peak_stock: float
    peak_date: dt.date
    dip_stock: float
    dip_pctl: float | None
    persist_days: int
    dip_mkt: float | None
    dip_class: str | None
    in_dip: bool


class ChartPoint(msgspec.Struct, frozen=True):
    date: dt.date
    close: float


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    """Daily closes of one ticker over the last `days` calendar days."""

    ticker: str
    days: int
    points: list[ChartPoint]


class SettingsView(msgspec.Struct, frozen=True, kw_only=True):
    values: dict[str, Any]
    version: int
