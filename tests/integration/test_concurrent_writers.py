"""Writer processes racing each other while a projector process tails the store."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import psycopg.sql
import pytest
from sqlalchemy import func, select

from stonkmarket.application.commands import AddSymbol, ChangeSettings, SymbolReceipt
from stonkmarket.application.handlers import add_symbol, change_settings
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.database import migrate
from stonkmarket.infrastructure.tables import (
    VIEW_TABLES,
    audit_log,
    price_bars,
    projection_tracking,
    symbols,
)
from stonkmarket.interfaces.bootstrap import Container, build

PROCESSES = Path(__file__).parent / "processes"
PROJECTOR, WRITER = str(PROCESSES / "projector.py"), str(PROCESSES / "writer.py")
START_SECONDS = 60.0
WRITE_SECONDS = 90.0
CATCH_UP_SECONDS = 60.0

# Each writer process adds its own tickers and records their closes from
# 2022-01-03 (the sample's first trading day of 2022) to 2022-12-28, 249 bars,
# 10 bars a command, so 25 commands per ticker. ^GSPC is made the benchmark, so
# each of its batches recomputes the signals of every watched ticker, and the
# rows depend on the order the writers' events were stored in.
PRICE_WRITERS = (("^GSPC", "AAPL"), ("BAC", "KO"), ("CVX", "PG"), ("HD", "JNJ"))
PRICE_START = "2022-01-01"
BARS_PER_COMMAND = 10


class Started(NamedTuple):
    """A process started by the test, and the files it watches and writes."""

    process: subprocess.Popen[bytes]
    go: Path
    ready: Path
    result: Path
    log: Path


def _start(name: str, command: list[str], database_url: str, work: Path) -> Started:
    """Run `command` plus the go, ready (and for a writer, result) file options.

    Each script of processes/ creates its ready file, then waits for its go file.
    """
    go, ready = work / f"{name}.go", work / f"{name}.ready"
    result, log = work / f"{name}.json", work / f"{name}.log"
    options = [f"--go={go}", f"--ready={ready}"]
    if command[0] == WRITER:
        options += [f"--result={result}"]
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(work / name),
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, *command, *options],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Started(process, go, ready, result, log)


@contextmanager
def _processes() -> Iterator[list[Started]]:
    """Yield a list to start processes into, and SIGKILL and reap them on exit."""
    started: list[Started] = []
    try:
        yield started
    finally:
        for child in started:
            if child.process.poll() is None:
                os.kill(child.process.pid, signal.SIGKILL)
            child.process.wait(timeout=10)


async def _wait_for(paths: list[Path], started: list[Started]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while not all(path.exists() for path in paths):
        for child in started:
            code = child.process.poll()
            if code not in (None, 0):
                pytest.fail(
                    f"{child.log.name}: exit code {code}\n{child.log.read_text()}"
                )
        if time.monotonic() > deadline:
            pytest.fail(f"{paths} were not all created within {START_SECONDS} s")
        await asyncio.sleep(0.01)


async def _start_projector(
    database_url: str,
    work: Path,
    started: list[Started],
    *,
    batch_size: int,
    poll_seconds: float,
) -> Started:
    projector = _start(
        "projector",
        [PROJECTOR, f"--batch-size={batch_size}", f"--poll={poll_seconds}"],
        database_url,
        work,
    )
    started.append(projector)
    projector.go.touch()
    await _wait_for([projector.ready], started)
    return projector


async def _race_writers(
    container: Container, writers: list[Started], started: list[Started]
) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """Let every writer go at once, and return their results and samples.

    The samples are the projector's position and lag, read while they wrote.
    """
    await _wait_for([writer.ready for writer in writers], started)
    for writer in writers:
        writer.go.touch()
    samples: list[tuple[int, int]] = []
    deadline = time.monotonic() + WRITE_SECONDS
    while any(writer.process.poll() is None for writer in writers):
        if time.monotonic() > deadline:
            pytest.fail(f"the writers did not finish within {WRITE_SECONDS} s")
        statuses = await container.runner.status()
        samples.append(
            (min(s.position for s in statuses), max(s.lag for s in statuses))
        )
        await asyncio.sleep(0.02)
    for writer in writers:
        if writer.process.returncode != 0:
            pytest.fail(f"{writer.log.name}: exit code {writer.process.returncode}")
    return [json.loads(writer.result.read_text()) for writer in writers], samples


async def _wait_until_caught_up(container: Container, projector: Started) -> None:
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while any(status.lag for status in await container.runner.status()):
        if projector.process.poll() is not None:
            pytest.fail(f"the projector exited:\n{projector.log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the projector did not catch up in {CATCH_UP_SECONDS} s")
        await asyncio.sleep(0.05)


async def _dump(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    async with container.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in await conn.execute(select(table)))
            for table in (*VIEW_TABLES, projection_tracking)
        }


@pytest.mark.slow
def test_projector_with_four_writers_loses_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    container = build(Config(data_dir=tmp_path / "test", database_url=postgres_url))
    change_settings(container.store, ChangeSettings(changes={"benchmark": "^GSPC"}))

    async def write_project_rebuild() -> dict[str, Any]:
        try:
            await migrate(container.config.views_url)
            with _processes() as started:
                projector = await _start_projector(
                    postgres_url, tmp_path, started, batch_size=5, poll_seconds=0.01
                )
                writers = [
                    _start(
                        f"writer-{number}",
                        [
                            WRITER,
                            "prices",
                            f"--tickers={','.join(tickers)}",
                            f"--start={PRICE_START}",
                            f"--chunk={BARS_PER_COMMAND}",
                        ],
                        postgres_url,
                        tmp_path,
                    )
                    for number, tickers in enumerate(PRICE_WRITERS)
                ]
                started.extend(writers)
                results, samples = await _race_writers(container, writers, started)
                await _wait_until_caught_up(container, projector)
            async with container.engine.connect() as conn:
                watched = list(
                    await conn.scalars(
                        select(symbols.c.ticker)
                        .where(symbols.c.removed.is_(False))
                        .order_by(symbols.c.ticker)
                    )
                )
                counted = select(price_bars.c.ticker, func.count()).group_by(
                    price_bars.c.ticker
                )
                bars = {ticker: n for ticker, n in await conn.execute(counted)}
            projected = await _dump(container)
            await container.runner.rebuild()
            rebuilt = await _dump(container)
            head = container.store.head()
        finally:
            await container.close()
        return {
            "results": results,
            "samples": samples,
            "watched": watched,
            "bars": bars,
            "projected": projected,
            "rebuilt": rebuilt,
            "head": head,
        }

    outcome = asyncio.run(write_project_rebuild())

    results = outcome["results"]
    written_tickers = sorted(t for result in results for t in result["tickers"])
    written_bars = {t: n for result in results for t, n in result["bars"].items()}
    written_positions = {p for result in results for p in result["positions"]}
    head = outcome["head"]
    assert written_tickers == sorted(t for pair in PRICE_WRITERS for t in pair)
    assert outcome["watched"] == written_tickers
    assert written_bars == dict.fromkeys(written_tickers, 249)
    assert outcome["bars"] == written_bars
    # The settings' start and change events are positions 1 and 2. The writers
    # stored the rest: per ticker an add, the price history's start and 25
    # batches, where a receipt returns the position of the batch, not the start.
    assert head == 2 + 8 * (1 + 1 + 25)
    assert len(written_positions) == 8 * (1 + 25)
    assert written_positions <= set(range(3, head + 1))
    assert any(position > 0 for position, _ in outcome["samples"])
    positions = {
        position for _, position in outcome["projected"]["projection_tracking"]
    }
    assert positions == {head}
    assert outcome["projected"] == outcome["rebuilt"]


# What the next test relies on. The runner reads `notification_id > position`
# and moves its position to the last id it read. So it would skip for ever an
# event whose transaction commits after a transaction holding a higher id was
# read. eventsourcing's PostgreSQL recorder prevents that, because each insert
# transaction first takes `LOCK TABLE ... IN EXCLUSIVE MODE` on the events
# table (PostgresApplicationRecorder._lock_table, eventsourcing 9.5), so ids are
# issued in commit order. The recorder skips the lock when
# POSTGRES_ENABLE_DB_FUNCTIONS is set, which postgres_env does not do. The test
# also relies on no insert failing after it drew an id, which would leave a
# hole with no event. Each writer changes only its own symbol, so no two
# inserts conflict.
#
# Every event here is a symbol event, and the audit projection writes one row
# per symbol event at its position, so the audit rows list the positions the
# runner applied. Both writers start each command on the same clock tick, so
# their inserts collide, while the runner, one event a batch, polls at the
# head. With the table lock patched out of the writers and 0 to 3 ms spent in
# each insert transaction after its id was drawn, this test missed 3 to 5
# positions in each of 3 tries.
TICK_SECONDS = 0.04


@pytest.mark.slow
def test_tailing_runner_skips_no_position(postgres_url: str, tmp_path: Path) -> None:
    container = build(Config(data_dir=tmp_path / "test", database_url=postgres_url))
    changes = 100

    async def race() -> dict[str, Any]:
        try:
            await migrate(container.config.views_url)
            with _processes() as started:
                projector = await _start_projector(
                    postgres_url, tmp_path, started, batch_size=1, poll_seconds=0.001
                )
                writers = [
                    _start(
                        f"writer-{ticker}",
                        [
                            WRITER,
                            "thresholds",
                            f"--tickers={ticker}",
                            f"--changes={changes}",
                            f"--tick={TICK_SECONDS}",
                        ],
                        postgres_url,
                        tmp_path,
                    )
                    for ticker in ("KO", "PG")
                ]
                started.extend(writers)
                results, samples = await _race_writers(container, writers, started)
                await _wait_until_caught_up(container, projector)
            async with container.engine.connect() as conn:
                audited = list(
                    await conn.scalars(
                        select(audit_log.c.position).order_by(audit_log.c.position)
                    )
                )
            head = container.store.head()
        finally:
            await container.close()
        return {
            "results": results,
            "samples": samples,
            "audited": audited,
            "head": head,
        }

    outcome = asyncio.run(race())

    head = outcome["head"]
    ko, pg = (set(result["positions"]) for result in outcome["results"])
    in_order = sorted(ko | pg)
    switches = sum((a in ko) != (b in ko) for a, b in pairwise(in_order))
    assert head == 2 * (1 + changes)
    assert in_order == list(range(1, head + 1))
    # The writers' events interleave, so their inserts really raced.
    assert switches >= 20
    # Some samples must find the runner at the head while the writers wrote,
    # because only there can it skip a position. On a loaded machine the
    # runner trails more often, so the check counts such samples instead of
    # requiring a share of them.
    lags = [lag for _, lag in outcome["samples"]]
    assert lags.count(0) >= 10
    assert outcome["audited"] == list(range(1, head + 1))


def test_writer_waits_for_open_insert_transaction(
    postgres_url: str, tmp_path: Path
) -> None:
    container = build(Config(data_dir=tmp_path / "test", database_url=postgres_url))
    recorder = container.store.app.recorder
    events_table = psycopg.sql.Identifier(
        recorder.datastore.schema, recorder.events_table_name
    )
    receipts: list[SymbolReceipt] = []
    writer = threading.Thread(
        target=lambda: receipts.append(
            add_symbol(container.store, AddSymbol(ticker="KO"))
        ),
        daemon=True,
    )

    with psycopg.connect(postgres_url) as other_insert:
        other_insert.execute(
            psycopg.sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(events_table)
        )
        writer.start()
        waiting = _wait_for_lock_wait(postgres_url)
        head_while_locked = container.store.head()
        alive_while_locked = writer.is_alive()
        other_insert.commit()
    writer.join(timeout=10)
    head_after = container.store.head()
    container.store.close()

    assert waiting == "LOCK TABLE"
    assert (alive_while_locked, head_while_locked) == (True, 0)
    assert [receipt.position for receipt in receipts] == [1]
    assert head_after == 1


def _wait_for_lock_wait(database_url: str) -> str:
    """Return the start of the statement that a backend waits for a lock in."""
    deadline = time.monotonic() + 5
    with psycopg.connect(database_url, autocommit=True) as observer:
        while time.monotonic() < deadline:
            row = observer.execute(
                "SELECT query FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchone()
            if row is not None:
                return str(row[0])[: len("LOCK TABLE")]
            time.sleep(0.01)
    return "no backend waited on a lock"
