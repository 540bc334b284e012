"""A projector process killed again and again mid-batch loses and doubles nothing.

The history is stored first without projecting it. Then projector processes
are started and SIGKILLed one after another, each after a random short time,
until 20 kills have landed. One last run, of the real `stonkmarket projections
run` command, brings the views to the head. Its views must equal, row for row,
those a clean rebuild gives.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from stonkmarket.application.commands import (
    AddSymbol,
    ChangeSettings,
    RecordPrices,
    RemoveSymbol,
    UpdateSymbol,
)
from stonkmarket.application.handlers import (
    add_symbol,
    change_settings,
    record_prices,
    remove_symbol,
    update_symbol,
)
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.infrastructure.config import Config
from stonkmarket.infrastructure.database import migrate
from stonkmarket.infrastructure.event_store import EventsourcingStore
from stonkmarket.infrastructure.prices.sample import SamplePriceSource
from stonkmarket.infrastructure.projection_runner import RUNNER_LOCK
from stonkmarket.infrastructure.tables import VIEW_TABLES, projection_tracking
from stonkmarket.interfaces.bootstrap import Container, build

PROJECTOR_SCRIPT = Path(__file__).parent / "processes" / "projector.py"
STONKMARKET_COMMAND = Path(sys.executable).parent / "stonkmarket"

SOURCE = SamplePriceSource()
TICKERS = ("^GSPC", "KO", "PG", "AAPL")
START = dt.date(2018, 7, 1)  # 1132 trading days to 2022-12-28
BARS_PER_COMMAND = 20  # four weeks of trading days

KILLS = 20
SEED = 20_190_101
# Each kill lands this long after the projector starts projecting.
RUN_SECONDS = (0.05, 0.6)
# Small batches, so that most kills land inside one.
BATCH_SIZE = 3
# How long a stopped projector's server backend gets to finish a statement it
# had already received, before the test reads whether a batch is open.
SETTLE_SECONDS = 0.05
PROCESS_START_SECONDS = 60.0
CATCH_UP_SECONDS = 60.0


class Kill(NamedTuple):
    """One SIGKILL of a projector, with when it landed and what it interrupted."""

    after_seconds: float
    lag: int
    mid_batch: bool


class Projector(NamedTuple):
    """A projector process started by the test, and the files it watches."""

    process: subprocess.Popen[bytes]
    go: Path
    ready: Path
    log: Path


def _write_history(store: EventsourcingStore) -> None:
    """Store four-week batches of four tickers and the edits users make between them.

    Nothing is projected. The events are stored directly, as another process
    would store them.
    """
    change_settings(store, ChangeSettings(changes={"benchmark": "^GSPC"}))
    add_symbol(store, AddSymbol(ticker="KO"))
    add_symbol(store, AddSymbol(ticker="PG", min_dip_pct=0.08, min_days=2))
    add_symbol(store, AddSymbol(ticker="AAPL"))
    batches = [SOURCE.fetch(ticker, start=START) for ticker in TICKERS]
    firsts = range(0, len(batches[0]), BARS_PER_COMMAND)
    for number, first in enumerate(firsts):
        for batch in batches:
            part = _slice(batch, first, first + BARS_PER_COMMAND)
            record_prices(store, RecordPrices(batch=part))
        if number == 10:
            update_symbol(store, UpdateSymbol(ticker="KO", min_dip_pct=0.05))
        elif number == 20:
            remove_symbol(store, RemoveSymbol(ticker="PG"))
        elif number == 30:
            add_symbol(store, AddSymbol(ticker="PG", min_days=3))
        elif number == 40:
            change_settings(store, ChangeSettings(changes={"min_dip_abs": 0.08}))
    # The sample's AAPL close on 2020-03-16 is 59.29.
    restated = PriceBatch(
        ticker="AAPL", dates=(dt.date(2020, 3, 16),), closes=(61.0,), source="fix"
    )
    record_prices(store, RecordPrices(batch=restated, reason="vendor correction"))


def _slice(batch: PriceBatch, start: int, stop: int) -> PriceBatch:
    return msgspec.structs.replace(
        batch, dates=batch.dates[start:stop], closes=batch.closes[start:stop]
    )


async def _dump(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    async with container.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in await conn.execute(select(table)))
            for table in (*VIEW_TABLES, projection_tracking)
        }


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": str(data_dir)}


def _start_projector(number: int, environment: dict[str, str], work: Path) -> Projector:
    """Start a projector that imports everything, then waits for its go file."""
    go, ready = work / f"projector-{number}.go", work / f"projector-{number}.ready"
    log = work / f"projector-{number}.log"
    command = [
        sys.executable,
        str(PROJECTOR_SCRIPT),
        f"--batch-size={BATCH_SIZE}",
        "--poll=0.05",
        f"--go={go}",
        f"--ready={ready}",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    return Projector(process, go, ready, log)


async def _wait_until_ready(projector: Projector) -> None:
    deadline = time.monotonic() + PROCESS_START_SECONDS
    while not projector.ready.exists():
        code = projector.process.poll()
        if code is not None:
            pytest.fail(
                f"the projector exited with code {code} before it was ready:\n"
                + projector.log.read_text()
            )
        if time.monotonic() > deadline:
            pytest.fail(f"the projector was not ready within {PROCESS_START_SECONDS} s")
        await asyncio.sleep(0.01)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process, stopped or running, and reap it."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


# The runner holds this advisory lock for exactly as long as its batch
# transaction is open. A bigint key shows as its high half in classid and its
# low half in objid, with objsubid 1.
_OPEN_BATCH = text(
    "SELECT activity.state FROM pg_locks AS locks"
    " JOIN pg_stat_activity AS activity ON activity.pid = locks.pid"
    " WHERE locks.locktype = 'advisory' AND locks.granted"
    " AND locks.objsubid = 1"
    " AND (locks.classid::bigint << 32) | locks.objid::bigint = :key"
    " AND locks.database ="
    " (SELECT oid FROM pg_database WHERE datname = current_database())"
)


async def _batch_is_open(engine: AsyncEngine) -> bool:
    """Return whether a runner's batch transaction is open and waiting for its client.

    The test calls it while the projector is stopped. A backend inside a batch
    is then done with what it had received, so it is `idle in transaction`.
    """
    async with engine.connect() as conn:
        states = list(await conn.scalars(_OPEN_BATCH, {"key": RUNNER_LOCK}))
    return states == ["idle in transaction"]


async def _kill_projectors(
    container: Container, environment: dict[str, str], work: Path
) -> list[Kill]:
    """Start and SIGKILL projectors one after another, KILLS times.

    The next projector is started, and waits for its go file, while the
    current one runs, so that its imports do not count against the run time.
    """
    rng = random.Random(SEED)
    kills: list[Kill] = []
    waiting = _start_projector(0, environment, work)
    started = [waiting]
    try:
        for number in range(KILLS):
            current = waiting
            if number + 1 < KILLS:
                waiting = _start_projector(number + 1, environment, work)
                started.append(waiting)
            current.go.touch()
            await _wait_until_ready(current)
            run_seconds = rng.uniform(*RUN_SECONDS)
            await asyncio.sleep(run_seconds)
            os.kill(current.process.pid, signal.SIGSTOP)
            await asyncio.sleep(SETTLE_SECONDS)
            mid_batch = await _batch_is_open(container.engine)
            lag = max(status.lag for status in await container.runner.status())
            _stop(current.process)
            kills.append(Kill(run_seconds, lag, mid_batch))
    finally:
        for projector in started:
            _stop(projector.process)
    return kills


def _start_command(environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `stonkmarket projections run`, the projector users run."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [str(STONKMARKET_COMMAND), "projections", "run", "--poll", "0.05"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


async def _run_command_until_caught_up(
    container: Container, environment: dict[str, str], work: Path
) -> int:
    """Run `stonkmarket projections run` until the views reach the head.

    Returns the lag the command started from.
    """
    start_lag = max(status.lag for status in await container.runner.status())
    log = work / "projections-run.log"
    process = _start_command(environment, log)
    try:
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while max(status.lag for status in await container.runner.status()):
            code = process.poll()
            if code is not None:
                pytest.fail(f"projections run exited with {code}:\n{log.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"projections run did not catch up in {CATCH_UP_SECONDS} s")
            await asyncio.sleep(0.05)
    finally:
        _stop(process)
    return start_lag


@pytest.mark.slow
def test_projector_killed_mid_batch_matches_rebuild(
    postgres_url: str, tmp_path: Path
) -> None:
    container = build(Config(data_dir=tmp_path / "test", database_url=postgres_url))
    _write_history(container.store)
    head = container.store.head()
    environment = _environment(postgres_url, tmp_path / "projector")

    async def crash_then_rebuild() -> tuple[list[Kill], int, Any, Any]:
        try:
            await migrate(container.config.views_url)
            kills = await _kill_projectors(container, environment, tmp_path)
            final_lag = await _run_command_until_caught_up(
                container, environment, tmp_path
            )
            after_crashes = await _dump(container)
            await container.runner.rebuild()
            clean = await _dump(container)
        finally:
            await container.close()
        return kills, final_lag, after_crashes, clean

    kills, final_lag, after_crashes, clean = asyncio.run(crash_then_rebuild())

    mid_batch = [kill for kill in kills if kill.mid_batch]
    print(f"{len(mid_batch)} of {len(kills)} kills landed mid-batch: {kills}")
    # The settings' and 4 price histories' start events, 1 settings change,
    # 3 adds, 57 batches of 4 tickers, 4 edits and 1 restatement.
    assert head == 5 + 1 + 3 + 57 * 4 + 4 + 1
    assert len(kills) == KILLS
    assert len(mid_batch) >= KILLS // 2
    assert all(kill.lag > 0 for kill in mid_batch)
    assert final_lag > 0
    positions = {position for _, position in after_crashes["projection_tracking"]}
    assert positions == {head}
    assert after_crashes == clean
