"""The `stonkmarket` command."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TypeVar

import click
import msgspec
import psycopg
import uvicorn
from eventsourcing.persistence import PersistenceError as EventStoreError
from redis.exceptions import RedisError
from rich.console import Console
from sqlalchemy.exc import DBAPIError as DatabaseError

from stonkmarket.application.errors import ApplicationError
from stonkmarket.domain.dips import WINDOWS
from stonkmarket.domain.errors import DomainError
from stonkmarket.infrastructure.config import Config, ConfigError, load_config
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.infrastructure.prices.yfinance_fundamentals import (
    YFinanceFundamentalsSource,
)
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.cli.demo import load_sample
from stonkmarket.interfaces.cli.fundamentals import refresh_fundamentals
from stonkmarket.interfaces.cli.tables import ranking_table, signal_table
from stonkmarket.interfaces.http.app import create_app
from stonkmarket.interfaces.http.dips import DEFAULT_WINDOW
from stonkmarket.interfaces.worker.processes import run_scheduler, run_worker
from stonkmarket.interfaces.worker.runtime import JobRuntime
from stonkmarket.interfaces.worker.scheduler import Scheduler

T = TypeVar("T")
# Wide enough for the ranking when the output is a pipe or a file.
console = Console(width=None if sys.stdout.isatty() else 100)

window_option = click.option(
    "--window",
    type=click.Choice([str(w) for w in WINDOWS]),
    default=str(DEFAULT_WINDOW),
    show_default=True,
    help="Calendar days the peak is taken over.",
)
as_of_option = click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Measure as of this date (YYYY-MM-DD); default: the latest bar.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def _with_container(work: Callable[[Container], Awaitable[T]]) -> T:
    config: Config = click.get_current_context().obj

    async def run() -> T:
        container = _build(config)
        try:
            await container.start()
            return await work(container)
        finally:
            await container.close()

    try:
        return asyncio.run(run())
    except (DomainError, ApplicationError) as exc:
        raise click.ClickException(exc.message) from exc
    except (OSError, DatabaseError, EventStoreError) as exc:
        raise _unusable_data_dir(config, exc) from exc


def _build(config: Config) -> Container:
    try:
        return build(config)
    except (OSError, DatabaseError, EventStoreError) as exc:
        raise _unusable_data_dir(config, exc) from exc


def _unusable_data_dir(config: Config, exc: Exception) -> click.ClickException:
    return click.ClickException(
        f"cannot use the data folder {str(config.data_dir)!r} ({exc}); "
        "set DATA_DIR to a writable folder"
    )


def _date(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


@click.group()
@click.pass_context
def cli(context: click.Context) -> None:
    """Find stocks trading well below their recent peak."""
    try:
        context.obj = load_config()
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    configure_logging(context.obj.log_format)


@cli.command()
def demo() -> None:
    """Load the bundled sample (20 stocks and ^GSPC) and print its ranking."""
    source = SamplePriceSource()
    started = time.perf_counter()
    changed = _with_container(lambda c: load_sample(c, source))
    seconds = time.perf_counter() - started
    console.print(
        f"Sample loaded in {seconds:.1f} s "
        f"({changed} changes stored; 0 means it was already loaded)."
    )
    rows = _with_container(lambda c: c.queries.ranking(DEFAULT_WINDOW))
    console.print(ranking_table(rows, DEFAULT_WINDOW))


@cli.group()
def projections() -> None:
    """Inspect, run or rebuild the read-model projections."""


@projections.command("status")
def projections_status() -> None:
    """Print each projection's position and lag behind the event store."""
    statuses = _with_container(lambda c: c.runner.status())
    for status in statuses:
        console.print(
            f"{status.name:<20} position {status.position:>8}  "
            f"head {status.head:>8}  lag {status.lag:>6}"
        )


@projections.command("rebuild")
@click.argument("name", default="all")
def projections_rebuild(name: str) -> None:
    """Empty the views and replay every event (NAME: all, or any projection)."""

    replayed = _with_container(lambda c: c.runner.rebuild(name))
    console.print(f"Rebuilt every view from {replayed} events.")


@projections.command("run")
@click.option("--poll", default=0.5, show_default=True, help="Seconds between polls.")
def projections_run(poll: float) -> None:
    """Keep the views current in this process until stopped (a projector)."""

    async def run(container: Container) -> None:
        await container.runner.run_forever(poll_seconds=poll)

    _with_container(run)


@cli.command()
def migrate() -> None:
    """Bring the read-model schema up to date (serve and demo also do it)."""

    async def nothing(container: Container) -> None:
        return None

    _with_container(nothing)
    console.print("The read-model schema is up to date.")


@cli.command()
@click.pass_obj
def serve(config: Config) -> None:
    """Serve the REST API on HOST:PORT (default 127.0.0.1:8000)."""
    app = create_app(_build(config))
    console.print(f"API docs: http://{config.host}:{config.port}/api/docs")
    # proxy_headers off: X-Forwarded-For is read by the app, from TRUSTED_PROXIES
    # only; uvicorn would otherwise believe it from any local peer.
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_config=None,
        proxy_headers=False,
    )


@cli.command()
@click.option(
    "--concurrency",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Runs performed at the same time.",
)
@click.pass_obj
def worker(config: Config, concurrency: int) -> None:
    """Perform job runs from the Valkey queue until stopped.

    Needs DATABASE_URL and VALKEY_URL.
    """
    _needs_shared_jobs(config, "worker")
    _run_job_process(
        config, lambda runtime: run_worker(runtime, concurrency=concurrency)
    )


@cli.command()
@click.pass_obj
def scheduler(config: Config) -> None:
    """Request each job's runs at its cron times until stopped.

    Needs DATABASE_URL and VALKEY_URL. Any number may run at once: each tick
    runs once.
    """
    _needs_shared_jobs(config, "scheduler")
    _run_job_process(config, lambda runtime: run_scheduler(Scheduler(runtime)))


def _needs_shared_jobs(config: Config, command: str) -> None:
    if not config.shares_jobs:
        raise click.UsageError(
            f"{command} needs DATABASE_URL and VALKEY_URL: without both, "
            "`stonkmarket serve` runs the jobs and their schedule in its own process"
        )


def _run_job_process(
    config: Config, process: Callable[[JobRuntime], Coroutine[None, None, None]]
) -> None:
    """Run a worker or scheduler; a server it cannot reach is a one-line error."""
    try:
        runtime = JobRuntime(build(config))
        asyncio.run(process(runtime))
    except (OSError, psycopg.Error, DatabaseError, EventStoreError, RedisError) as exc:
        raise click.ClickException(
            f"cannot reach PostgreSQL or Valkey ({type(exc).__name__}: {exc}); "
            "check DATABASE_URL and VALKEY_URL and that both servers answer"
        ) from exc


@cli.command()
@click.argument("tickers", nargs=-1)
def fundamentals(tickers: tuple[str, ...]) -> None:
    """Fetch fundamentals from Yahoo Finance and record them (all watched if none).

    Needs the network. Each snapshot is dated today (UTC).
    """
    source = YFinanceFundamentalsSource()
    today = dt.datetime.now(dt.UTC).date()

    async def fetch(container: Container) -> dict[str, str]:
        chosen = list(tickers) or [s.ticker for s in await container.queries.symbols()]
        return await refresh_fundamentals(container, source, chosen, today)

    for ticker, outcome in _with_container(fetch).items():
        console.print(f"{ticker}: {outcome}")


@cli.command()
@as_of_option
@window_option
@json_option
def rank(as_of: dt.datetime | None, window: str, as_json: bool) -> None:
    """Print the dip ranking of the watched tickers."""
    rows = _with_container(lambda c: c.queries.ranking(int(window), _date(as_of)))
    if as_json:
        click.echo(msgspec.json.encode(rows).decode())
    else:
        console.print(ranking_table(rows, int(window)))


@cli.command()
@click.argument("ticker")
@window_option
@as_of_option
@click.option("--benchmark", default=None, help="Ticker the market dip is read from.")
@json_option
def signal(
    ticker: str,
    window: str,
    as_of: dt.datetime | None,
    benchmark: str | None,
    as_json: bool,
) -> None:
    """Print the signal of one ticker."""
    result = _with_container(
        lambda c: c.queries.signal(ticker, int(window), benchmark, _date(as_of))
    )
    if as_json:
        click.echo(msgspec.json.encode(result).decode())
    else:
        console.print(result.reason)
        console.print(signal_table(result))
