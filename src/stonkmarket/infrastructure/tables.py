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
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
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
    # A removed symbol keeps its row, so adding it again keeps `added_at`.
    Column("removed", Boolean, nullable=False),
)

price_bars = Table(
    "price_bars",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("close", Float, nullable=False),
    # The source's own adjusted close, when it reports one.
    Column("reference_close", Float, nullable=True),
)

corporate_actions = Table(
    "corporate_actions",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("value", Float, nullable=False),
)

dipfinder_settings = Table(
    "dipfinder_settings",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("knobs", JSON, nullable=False),
)

fundamentals = Table(
    "fundamentals",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("as_of", Date, primary_key=True),
    Column("source", String(40), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("notes", JSON, nullable=False),
)

dip_states = Table(
    "dip_states",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("as_of_date", Date, nullable=False),
    Column("current_price", Float, nullable=False),
    Column("peak_stock", Float, nullable=False),
    Column("peak_date", Date, nullable=False),
    Column("dip_stock", Float, nullable=False),
    Column("dip_pctl", Float, nullable=True),
    Column("persist_days", Integer, nullable=False),
    Column("dip_mkt", Float, nullable=True),
    Column("dip_class", String(20), nullable=True),
    Column("in_dip", Boolean, nullable=False),
    Column("final_score", Float, nullable=True),
    Column("alert_level", String(10), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# One row per signal computed. `body` is the whole signal as JSON, so a stored
# signal reads back equal to a computed one; the other columns serve lookups.
dipfinder_signals = Table(
    "dipfinder_signals",
    metadata,
    Column("ticker", TICKER, nullable=False),
    Column("window", Integer, nullable=False),
    Column("benchmark", TICKER, nullable=False),
    Column("as_of_date", Date, nullable=False),
    Column("settings_version", Integer, nullable=False),
    Column("dip_stock", Float, nullable=False),
    Column("final_score", Float, nullable=True),
    Column("alert_level", String(10), nullable=False),
    Column("body", Text, nullable=False),
    Column("computed_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint(
        "ticker", "window", "benchmark", "as_of_date", "settings_version"
    ),
)

dip_history = Table(
    "dip_history",
    metadata,
    Column("ticker", TICKER, primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("date", Date, primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("dip", Float, nullable=False),
    Column("peak", Float, nullable=False),
    Column("close", Float, nullable=False),
    Column("max_dip", Float, nullable=True),
    Column("episode_start", Date, nullable=True),
    Column("final_score", Float, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("subject", String(64), nullable=False, index=True),
    Column("action", String(40), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("correlation_id", String(64), nullable=True),
)

# Accounts without their password hashes, which stay in the events.
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", Uuid, primary_key=True),
    Column("username", String(32), nullable=False),
    Column("role", String(10), nullable=False),
    # Tokens issued before this instant are revoked; null when none was.
    Column("not_before", UtcDateTime, nullable=True),
    Column("registered_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("username", name="uq_accounts_username"),
)

# Tokens logged out before they expired; a token here is refused.
revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    Column("account_id", Uuid, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("logged_out_at", UtcDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("description", String(200), nullable=False),
    # Null for a job that runs only on demand.
    Column("cron", String(120), nullable=True),
    Column("timezone", String(64), nullable=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("job", String(40), nullable=False),
    Column("trigger", String(10), nullable=False),
    Column("tick", UtcDateTime, nullable=True),
    Column("status", String(10), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("params", JSON, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("correlation_id", String(64), nullable=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("started_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("worker", String(120), nullable=True),
    Column("error", Text, nullable=True),
    Column("summary", JSON, nullable=True),
    # Position of the Requested event: the order of runs and the page cursor.
    Column("position", BigInteger, nullable=False, unique=True),
    Index("ix_job_runs_job_position", "job", "position"),
)

job_logs = Table(
    "job_logs",
    metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("position", BigInteger, primary_key=True),
    Column("at", UtcDateTime, nullable=False),
    Column("level", String(10), nullable=False),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=True),
)

projection_tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

VIEW_TABLES = (
    symbols,
    price_bars,
    corporate_actions,
    dipfinder_settings,
    fundamentals,
    dip_states,
    dipfinder_signals,
    dip_history,
    audit_log,
    accounts,
    revoked_tokens,
    jobs,
    job_runs,
    job_logs,
)
