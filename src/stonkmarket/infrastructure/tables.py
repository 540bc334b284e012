"""Read-model tables. The schema changes only through Alembic migrations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in UTC on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=dt.UTC)


metadata = MetaData()

TICKER = String(15)

symbols = Table(
    "symbols",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("min_dip_pct", Float, nullable=True),
    Column("min_days", Integer, nullable=True),
    Column("added_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

price_bars = Table(
    "price_bars",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("close", Float, nullable=False),
)

dipfinder_settings = Table(
    "dipfinder_settings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("knobs", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)

_MEASUREMENT_COLUMNS = (
    ("as_of_date", Date, False),
    ("current_price", Float, False),
    ("peak_stock", Float, False),
    ("peak_date", Date, False),
    ("dip_stock", Float, False),
    ("dip_pctl", Float, True),
    ("persist_days", Integer, False),
    ("dip_mkt", Float, True),
    ("dip_class", String(20), True),
)


def _measurement_columns() -> list[Column[object]]:
    return [
        Column(name, kind, nullable=nullable)
        for name, kind, nullable in _MEASUREMENT_COLUMNS
    ]


dip_states = Table(
    "dip_states",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("window", Integer, primary_key=True),
    *_measurement_columns(),
    Column("in_dip", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

dipfinder_signals = Table(
    "dipfinder_signals",
    metadata,
    Column("ticker", TICKER, nullable=False),
    Column("window", Integer, nullable=False),
    Column("benchmark", TICKER, nullable=False),
    *_measurement_columns(),
    Column("typical_dip", Float, nullable=True),
    Column("dip_vs_typical", Float, nullable=True),
    Column("excess_dip", Float, nullable=True),
    Column("reason", Text, nullable=False),
    Column("settings_version", Integer, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("ticker", "window", "benchmark", "as_of_date"),
)

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

VIEW_TABLES = (symbols, price_bars, dipfinder_settings, dip_states, dipfinder_signals)
