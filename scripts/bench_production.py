"""Measure the production profile on PostgreSQL: bar ingest, replay and appends.

Each figure is a count over the wall seconds of one run. It times the bars of
the bundled sample recorded per second through RecordPrices, without and with
projecting them, and the events per second of a rebuild of every projection.
Then it times events appended per second through the command handlers by one
writer process, and by four at once.

    .venv/bin/python scripts/bench_production.py

It creates the database stonkmarket_bench_<random> through the admin URL
postgresql://postgres@127.0.0.1:5432/test, or BENCH_POSTGRES_URL when set, and
drops it at the end, also when a measure fails.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import platform
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import psycopg
import psycopg.sql
from sqlalchemy.engine import make_url

from stonkmarket.application.commands import (
    AddSymbol,
    ChangeSettings,
    RecordPrices,
    UpdateSymbol,
)
from stonkmarket.application.event_store import EventStore
from stonkmarket.application.handlers import (
    add_symbol,
    change_settings,
    record_prices,
    update_symbol,
)
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.interfaces.bootstrap import build
from stonkmarket.interfaces.cli.demo import load_sample

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
ACTOR = "system:bench"
WRITER_PROCESSES = (1, 4)
# Each command replays all events of its symbol, because the store takes no
# snapshots. So the changes are spread over many symbols, because one symbol
# changed hundreds of times would measure that replay instead of the append.
SYMBOLS_PER_WRITER = 50
CHANGES_PER_SYMBOL = 25
START_TIMEOUT_SECONDS = 60.0
FINISH_TIMEOUT_SECONDS = 600.0


def print_row(label: str, value: float) -> None:
    print(f"{label:<62}{value:>12.1f}")


def print_note(text: str) -> None:
    print(textwrap.fill(text, width=74, initial_indent="  ", subsequent_indent="  "))


@contextmanager
def bench_database(admin_url: str) -> Iterator[tuple[str, str]]:
    """Create a database, yield its URL and the server version, then drop it."""
    url = make_url(admin_url).set(drivername="postgresql")
    name = f"stonkmarket_bench_{uuid.uuid4().hex[:12]}"
    database = psycopg.sql.Identifier(name)
    conninfo = url.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as admin:
        row = admin.execute("SHOW server_version").fetchone()
        version = "unknown" if row is None else str(row[0])
        admin.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(database))
        try:
            yield url.set(database=name).render_as_string(hide_password=False), version
        finally:
            drop = psycopg.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(database))


def print_header(admin_url: str, server_version: str) -> None:
    url = make_url(admin_url)
    print(
        f"machine: {len(os.sched_getaffinity(0))} CPUs available (nproc) of "
        f"{os.cpu_count()}, {platform.machine()}, Python {platform.python_version()}"
    )
    print(f"PostgreSQL {server_version} at {url.host}:{url.port or 5432}")
    print("every figure is one run: a count over wall seconds")
    print(f"{'measure':<62}{'value':>12}")


async def measure_bar_ingest(config: Config) -> None:
    """Record the whole sample with its tickers watched, then project it."""
    source = SamplePriceSource()
    batches = [source.fetch(t) for t in (source.benchmark, *source.tickers())]
    container = build(config)
    await container.start()
    try:
        # Watch the stocks and set the benchmark as the demo does, so projecting
        # the bars computes each stock's signals and dip history.
        settings = {"benchmark": source.benchmark, "missing_quality": "skip"}
        change_settings(container.store, ChangeSettings(changes=settings, actor=ACTOR))
        for ticker in source.tickers():
            add_symbol(container.store, AddSymbol(ticker=ticker, actor=ACTOR))
        await container.runner.catch_up()

        started = time.perf_counter()
        for batch in batches:
            record_prices(container.store, RecordPrices(batch=batch, actor=ACTOR))
        write_seconds = time.perf_counter() - started
        await container.runner.catch_up()
        total_seconds = time.perf_counter() - started
    finally:
        await container.close()

    bars = sum(len(batch) for batch in batches)
    print(f"bundled sample through RecordPrices, {bars:,} bars, one command a ticker")
    print_row("  bars recorded/s, commands only", bars / write_seconds)
    print_row("  bars recorded/s, commands and projection", bars / total_seconds)
    print_note(
        f"The commands took {write_seconds:.2f} s and the projection catch-up"
        f" {total_seconds - write_seconds:.2f} s. The {len(batches) - 1} stocks are"
        f" watched and {source.benchmark} is the benchmark, as in the demo."
    )


async def measure_replay(config: Config) -> None:
    """Load the sample unless it is stored, then rebuild every projection."""
    source = SamplePriceSource()
    tickers = (source.benchmark, *source.tickers())
    container = build(config)
    await container.start()
    try:
        stored = await load_sample(container, source)
        head = container.store.head()
        started = time.perf_counter()
        applied = await container.runner.rebuild()
        seconds = time.perf_counter() - started
    finally:
        await container.close()
    if applied != head:
        raise RuntimeError(
            f"rebuild replayed {applied} events, not the {head} stored. Rerun it"
            " with no other process writing to the benchmark database."
        )

    bars = sum(len(source.fetch(ticker)) for ticker in tickers)
    print(f"runner.rebuild() over the loaded sample, {head} events")
    print_row("  events replayed/s", head / seconds)
    print_row("  bars replayed/s", bars / seconds)
    print_note(
        f"The rebuild took {seconds:.2f} s. Before it, load_sample stored {stored}"
        f" more commands. {len(tickers)} of the events hold the {bars:,} bars, each"
        " one ticker's whole history, so a few events take most of the time."
    )


def change_symbols(store: EventStore, tickers: list[str]) -> None:
    """Add each ticker, then change their thresholds in turn, one event per command."""
    for ticker in tickers:
        add_symbol(store, AddSymbol(ticker=ticker, actor=ACTOR))
    for change in range(CHANGES_PER_SYMBOL):
        for ticker in tickers:
            days = 1 + change % 2
            update_symbol(
                store, UpdateSymbol(ticker=ticker, min_days=days, actor=ACTOR)
            )


def run_writer(
    config: Config, tickers: list[str], barrier: Barrier, done: Queue[str]
) -> None:
    """Run `change_symbols` in this process once every writer waits at `barrier`.

    Puts "" on `done` after the last command, or the error when one fails.
    """
    configure_logging(level=logging.WARNING)
    try:
        container = build(config)
        try:
            barrier.wait(START_TIMEOUT_SECONDS)
            change_symbols(container.store, tickers)
            done.put("")
        finally:
            asyncio.run(container.close())
    except Exception as exc:
        barrier.abort()
        done.put(f"the writer of {tickers[0]} to {tickers[-1]} failed: {exc!r}")
        raise


def time_writers(config: Config, writers: list[list[str]]) -> float:
    """Run one writer process per ticker list, all at once, and return the seconds."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(writers) + 1)
    done: Queue[str] = context.Queue()
    processes = [
        context.Process(target=run_writer, args=(config, tickers, barrier, done))
        for tickers in writers
    ]
    for process in processes:
        process.start()
    try:
        try:
            barrier.wait(START_TIMEOUT_SECONDS)
        except threading.BrokenBarrierError:
            raise RuntimeError(
                "a writer process failed or was not ready within"
                f" {START_TIMEOUT_SECONDS:g} s. Its traceback is printed above."
            ) from None
        started = time.perf_counter()
        for _ in processes:
            error = done.get(timeout=FINISH_TIMEOUT_SECONDS)
            if error:
                raise RuntimeError(error)
        return time.perf_counter() - started
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join()


def measure_appends(config: Config) -> None:
    container = build(config)
    print(
        f"writer processes, each: AddSymbol of {SYMBOLS_PER_WRITER} tickers, then"
        f" {CHANGES_PER_SYMBOL} UpdateSymbol of each"
    )
    try:
        for count in WRITER_PROCESSES:
            writers = [
                [f"W{count}-{writer}-{n}" for n in range(SYMBOLS_PER_WRITER)]
                for writer in range(count)
            ]
            before = container.store.head()
            seconds = time_writers(config, writers)
            events = container.store.head() - before
            print_row(f"  events appended/s, {count} at once", events / seconds)
            print_note(f"{events:,} events in {seconds:.2f} s")
    finally:
        asyncio.run(container.close())


def main() -> None:
    configure_logging(level=logging.WARNING)
    admin_url = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)
    started = time.perf_counter()
    with (
        bench_database(admin_url) as (database_url, server_version),
        tempfile.TemporaryDirectory() as folder,
    ):
        config = Config(database_url=database_url, data_dir=Path(folder))
        print_header(admin_url, server_version)
        asyncio.run(measure_bar_ingest(config))
        # The rebuild runs before the writers, so it replays the sample alone,
        # not their thousands of small symbol events.
        asyncio.run(measure_replay(config))
        measure_appends(config)
    print(f"run time {time.perf_counter() - started:.1f} s, database dropped")


if __name__ == "__main__":
    main()
