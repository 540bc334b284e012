"""Read-model shapes that queries return and projections write."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec

from stonkmarket.domain.adjustment import DataQualityFlag
from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.scoring import Factor


class SymbolView(msgspec.Struct, frozen=True, kw_only=True):
    """A ticker on the watchlist and its own thresholds (null: the default)."""

    ticker: str
    min_dip_pct: float | None
    min_days: int | None
    added_at: dt.datetime
    updated_at: dt.datetime


class Thresholds(msgspec.Struct, frozen=True, kw_only=True):
    """The dip thresholds in force for the ticker: its own, else the settings'."""

    min_dip_abs: float
    min_persist_days: int


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    """The finder's result for one ticker, window and benchmark on one date.

    Fractions are fractions (0.152 is a 15.2 % dip); percentiles and scores
    run from 0 to 100. With the settings of `settings_version` and
    `thresholds`, a client can recompute `should_alert` and `alert_level`.
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
    meaningful: bool
    dip_score: float
    quality_score: float | None
    stability_score: float | None
    final_score: float | None
    alert_level: str
    should_alert: bool
    reason: str
    thresholds: Thresholds
    dip_factors: list[Factor]
    quality_factors: list[Factor] | None
    quality_coverage: float | None
    stability_factors: list[Factor]
    stability_coverage: float
    data_quality: list[DataQualityFlag]
    settings_version: int


class TickerError(msgspec.Struct, frozen=True, kw_only=True):
    """The reason one ticker of a batch has no signal."""

    ticker: str
    error: str
    message: str


class SignalBatch(msgspec.Struct, frozen=True, kw_only=True):
    """Signals of several tickers; the ones that failed are listed with why."""

    signals: list[Signal]
    errors: list[TickerError]


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
    final_score: float | None
    alert_level: str


class ChartPoint(msgspec.Struct, frozen=True):
    date: dt.date
    close: float


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    """Daily closes of one ticker over the last `days` calendar days."""

    ticker: str
    days: int
    points: list[ChartPoint]


class FundamentalsView(msgspec.Struct, frozen=True, kw_only=True):
    """One fundamentals snapshot: what was known about a company on `as_of`."""

    ticker: str
    as_of: dt.date
    source: str
    metrics: FundamentalMetrics
    notes: dict[str, str]


class SettingsView(msgspec.Struct, frozen=True, kw_only=True):
    values: dict[str, Any]
    version: int


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One configuration change: who changed what, from what, to what, when."""

    position: int
    at: dt.datetime
    actor: str
    subject: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    correlation_id: str | None


class SymbolInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Everything known about one watched ticker, for its detail page."""

    symbol: SymbolView
    thresholds: Thresholds
    fundamentals: FundamentalsView | None
    signals: dict[str, Signal]


class HistoryRow(msgspec.Struct, frozen=True, kw_only=True):
    """One moment of a dip: ENTERED, DEEPENED, RECOVERED, EXITED or ALERT_RAISED.

    `max_dip` and `episode_start` are null on alert rows, `final_score` on the
    others.
    """

    ticker: str
    window: int
    date: dt.date
    kind: str
    dip: float
    peak: float
    close: float
    max_dip: float | None
    episode_start: dt.date | None
    final_score: float | None


class AccountView(msgspec.Struct, frozen=True, kw_only=True):
    """An account without its password hash.

    `account_id` stays the same through renames. A token issued before
    `not_before` is revoked; null means none was.
    """

    account_id: UUID
    username: str
    role: str
    not_before: dt.datetime | None
    registered_at: dt.datetime
    updated_at: dt.datetime
