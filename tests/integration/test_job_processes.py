"""Schedulers and workers as separate processes on the local PostgreSQL and Redis.

Each test starts the real `stonkmarket worker` and `stonkmarket scheduler`
commands (or the test worker over a slow sample source) and reads the runs
they recorded back from the event store and the job views.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest

from stonkmarket.application.commands import AddSymbol
from stonkmarket.application.handlers import add_symbol
from stonkmarket.application.job_commands import ChangeSchedule, RequestRun
from stonkmarket.application.job_handlers import change_schedule
from stonkmarket.application.job_views import JobRunView
from stonkmarket.domain.price_history import PriceHistory
from stonkmarket.interfaces.bootstrap import Container
from stonkmarket.interfaces.worker.runtime import JobRuntime
from stonkmarket.interfaces.worker.scheduler import Scheduler
from tests.integration.job_support import (
    JOB_WORKER,
    Processes,
    iter_minutes,
    run_of,
    service_env,
    wait_until,
    with_container,
)

SCHEDULERS = ("scheduler-1", "scheduler-2", "scheduler-3")
WORKERS = ("worker-1", "worker-2")
TICKERS = ["JNJ", "KO", "PG"]


@pytest.fixture
def env(postgres_url: str, valkey_url: str, tmp_path: Path) -> dict[str, str]:
    return service_env(postgres_url, valkey_url, tmp_path / "data")


@pytest.fixture
def processes(env: dict[str, str], tmp_path: Path) -> Processes:
    started = Processes(env, tmp_path)
    yield started
    started.stop_all()


def cleanup_runs(env: dict[str, str]) -> list[JobRunView]:
    async def read(container: Container) -> list[JobRunView]:
        await container.runner.catch_up()
        page = await container.jobs.runs("cleanup", 100, None)
        return [entry.run for entry in page.runs]

    runs: list[JobRunView] = with_container(env, read)
    return runs


def every_minute_cleanup_only(env: dict[str, str]) -> None:
    async def change(container: Container) -> None:
        await container.execute(
            change_schedule,
            ChangeSchedule(name="cleanup", cron="* * * * *", actor="test"),
        )
        for name in ("ingest_prices", "refresh_fundamentals"):
            await container.execute(
                change_schedule, ChangeSchedule(name=name, enabled=False, actor="test")
            )

    with_container(env, change)


@pytest.mark.slow
def test_three_schedulers_run_each_tick_once(
    env: dict[str, str], processes: Processes
) -> None:
    every_minute_cleanup_only(env)
    # Start early in a minute, so every scheduler is up before the next tick.
    while dt.datetime.now(dt.UTC).second > 25:
        time.sleep(1)
    for name in WORKERS:
        processes.start(name, "-m", "stonkmarket", "worker")
    for name in SCHEDULERS:
        processes.start(name, "-m", "stonkmarket", "scheduler")
    for name in SCHEDULERS:
        processes.wait_for_log(name, "scheduler_started", limit_seconds=30)
    starts = [
        dt.datetime.fromisoformat(line["since"])
        for name in SCHEDULERS
        for line in processes.log_lines(name)
        if line["event"] == "scheduler_started"
    ]
    ticks = list(iter_minutes(max(starts), 3))
    assert min(starts) > ticks[0] - dt.timedelta(minutes=1)

    time.sleep((ticks[-1] - dt.datetime.now(dt.UTC)).total_seconds() + 10)
    for name in SCHEDULERS:
        processes.stop(name)
    wait_until(lambda: all(r.finished_at for r in cleanup_runs(env)), 60, "runs to end")

    runs = sorted(cleanup_runs(env), key=lambda run: run.position)
    assert [run.tick for run in runs] == ticks
    assert [run.status for run in runs] == ["succeeded"] * 3
    fired = [
        line
        for name in SCHEDULERS
        for line in processes.log_lines(name)
        if line["event"] == "job_tick_fired"
    ]
    assert len(fired) == 3


def watch_tickers(env: dict[str, str]) -> None:
    async def watch(container: Container) -> None:
        for ticker in TICKERS:
            await container.execute(add_symbol, AddSymbol(ticker=ticker, actor="t"))

    with_container(env, watch)


def request_ingest(env: dict[str, str]) -> UUID:
    """Request an ingest of the tickers through the Valkey queue."""

    async def request(container: Container) -> UUID:
        runtime = JobRuntime(container)
        await runtime.start()
        container.run_queue = runtime
        try:
            receipt = await container.request_run(
                RequestRun(job="ingest_prices", params={"tickers": TICKERS})
            )
        finally:
            await runtime.close()
        return UUID(str(receipt.run_id))

    run_id: UUID = with_container(env, request)
    return run_id


def ingest_under_way(
    env: dict[str, str], processes: Processes, **worker_env: str
) -> UUID:
    """Start the test worker, request an ingest, and wait for its first ticker."""
    processes.start("worker-1", str(JOB_WORKER), **worker_env)
    processes.wait_for_log("worker-1", "worker_started")
    watch_tickers(env)
    run_id = request_ingest(env)
    wait_until(
        lambda: any("bars" in line.message for line in run_of(env, run_id).log),
        60,
        "the first ticker to be recorded",
    )
    return run_id


def bars_recorded(env: dict[str, str]) -> Counter[str]:
    """How many BarsRecorded events each ticker has."""

    async def count(container: Container) -> Counter[str]:
        events = container.store.events_after(0, 100_000)
        return Counter(
            event.ticker
            for _, event in events
            if isinstance(event, PriceHistory.BarsRecorded)
        )

    counted: Counter[str] = with_container(env, count)
    return counted


def sweep_with_short_lock(env: dict[str, str]) -> None:
    async def sweep(container: Container) -> None:
        runtime = JobRuntime(container, lock_seconds=3.0)
        scheduler = Scheduler(runtime, requeue_after=dt.timedelta(0))
        try:
            await scheduler.sweep(dt.datetime.now(dt.UTC))
        finally:
            await runtime.close()

    with_container(env, sweep)


def test_killed_worker_fails_run_without_doubled_bars(
    env: dict[str, str], processes: Processes
) -> None:
    first = ingest_under_way(env, processes, SOURCE_DELAY_SECONDS="2", LOCK_SECONDS="3")

    processes.kill("worker-1")
    time.sleep(3.5)
    sweep_with_short_lock(env)

    killed = run_of(env, first).run
    assert killed.status == "failed"
    assert killed.error is not None
    assert killed.error.endswith(
        "stopped during attempt 1: its lock expired without the run ending; "
        "request the job again"
    )
    recorded_before_kill = set(bars_recorded(env))
    assert recorded_before_kill
    assert recorded_before_kill < set(TICKERS)

    processes.start("worker-2", str(JOB_WORKER), SOURCE_IGNORES_START="1")
    processes.wait_for_log("worker-2", "worker_started")
    second = request_ingest(env)
    wait_until(lambda: run_of(env, second).run.finished_at is not None, 60, "run 2")

    again = run_of(env, second).run
    assert again.status == "succeeded"
    assert again.summary is not None
    outcomes = again.summary["tickers"]
    assert {t for t, o in outcomes.items() if o == "unchanged"} == recorded_before_kill
    assert bars_recorded(env) == Counter(dict.fromkeys(TICKERS, 1))


def test_stopped_worker_fails_a_long_run_at_once(
    env: dict[str, str], processes: Processes
) -> None:
    # Three tickers of 6 s each: more than the 8 s a stopping worker waits.
    run_id = ingest_under_way(env, processes, SOURCE_DELAY_SECONDS="6")

    processes.stop("worker-1", grace_seconds=30)

    stopped = run_of(env, run_id).run
    assert stopped.status == "failed"
    assert stopped.error is not None
    assert stopped.error.endswith(
        "was stopped during the run; bars and snapshots recorded before it stay "
        "recorded; request the job again for the rest"
    )


def test_stopped_worker_lets_a_short_run_end(
    env: dict[str, str], processes: Processes
) -> None:
    run_id = ingest_under_way(env, processes, SOURCE_DELAY_SECONDS="1")

    processes.stop("worker-1", grace_seconds=30)

    assert run_of(env, run_id).run.status == "succeeded"
    assert bars_recorded(env) == Counter(dict.fromkeys(TICKERS, 1))
