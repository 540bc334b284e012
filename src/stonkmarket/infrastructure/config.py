"""Settings read from the environment, once, by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from stonkmarket.infrastructure.security_config import (
    SecurityConfig,
    SecurityConfigError,
    load_security,
)


class ConfigError(Exception):
    """Raised when an environment variable contains an unusable value."""


class Config(msgspec.Struct, frozen=True, kw_only=True):
    """Where data lives, where the API listens, and how it guards itself."""

    data_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    log_format: str = "console"
    database_url: str | None = None
    valkey_url: str | None = None
    security: SecurityConfig = SecurityConfig()
    price_source: str = "yfinance"
    source_calls_per_second: float = 1.0
    # Whether an embedded serve process fires the jobs' cron ticks itself.
    # load_config turns it on. A Config built in code, as tests build one,
    # leaves it off, so a tick of the real clock never starts a run in a test.
    schedule_jobs: bool = False

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def shares_jobs(self) -> bool:
        """True when runs go through Valkey to worker processes.

        That needs both servers: the workers share the event store in
        PostgreSQL and the queue in Valkey. Otherwise `serve` runs the jobs.
        """
        return self.database_url is not None and self.valkey_url is not None

    @property
    def event_store_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def views_url(self) -> str:
        if self.database_url is not None:
            url = make_url(self.database_url).set(drivername="postgresql+asyncpg")
            return url.render_as_string(hide_password=False)
        path = str(self.data_dir / "views.sqlite")
        url = URL.create("sqlite+aiosqlite", database=path)
        return url.render_as_string(hide_password=False)


def load_config(environ: Mapping[str, str] | None = None) -> Config:
    """Read every variable that .env.example lists."""
    env = os.environ if environ is None else environ
    port_text = env.get("PORT", "8000")
    is_number = port_text.isascii() and port_text.isdigit()
    if not is_number or not 0 < int(port_text) < 65_536:
        raise ConfigError(f"PORT must be a number from 1 to 65535, got {port_text!r}")
    log_format = env.get("LOG_FORMAT", "console")
    if log_format not in ("console", "json"):
        raise ConfigError(f"LOG_FORMAT must be console or json, got {log_format!r}")
    database_url = env.get("DATABASE_URL") or None
    if database_url is not None:
        _check_database_url(database_url)
    valkey_url = env.get("VALKEY_URL") or None
    if valkey_url is not None:
        _check_valkey_url(valkey_url)
    price_source = env.get("PRICE_SOURCE") or "yfinance"
    if price_source not in PRICE_SOURCES:
        raise ConfigError(
            f"PRICE_SOURCE must be yfinance or sample, got {price_source!r}"
        )
    calls_per_second = _positive_number(env, "SOURCE_CALLS_PER_SECOND", "1")
    try:
        security = load_security(env)
    except SecurityConfigError as exc:
        raise ConfigError(str(exc)) from exc
    return Config(
        database_url=database_url,
        valkey_url=valkey_url,
        security=security,
        data_dir=Path(env.get("DATA_DIR") or "var"),
        host=env.get("HOST", "127.0.0.1"),
        port=int(port_text),
        log_format=log_format,
        price_source=price_source,
        source_calls_per_second=calls_per_second,
        schedule_jobs=True,
    )


PRICE_SOURCES = ("yfinance", "sample")


def _positive_number(env: Mapping[str, str], name: str, default: str) -> float:
    text = env.get(name) or default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.01 <= value <= 1000:
        raise ConfigError(f"{name} must be a number from 0.01 to 1000, got {text!r}")
    return value


def _check_database_url(url: str) -> None:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        raise ConfigError(
            "DATABASE_URL must be a PostgreSQL URL with a database name, such as "
            "postgresql://user:password@127.0.0.1:5432/stonkmarket"
        )


def _check_valkey_url(url: str) -> None:
    scheme = url.partition("://")[0]
    if scheme not in ("redis", "rediss", "valkey", "valkeys", "unix"):
        raise ConfigError(
            "VALKEY_URL must be a Valkey URL such as redis://127.0.0.1:6379/0, "
            f"got scheme {scheme!r}"
        )
