"""Measure job runs through the real broker, and the scheduler's tick-to-start delay.

Two `stonkmarket worker` processes (concurrency 4 each) take runs from the
Valkey stream. This process requests `cleanup` runs and reads their events
back from PostgreSQL:

- one at a time: each run requested once the previous one ended; runs per
  second and the median request-to-end time;
- a burst: every run requested at once, and runs ended per second. The job's
  lock lets one run at a time work, so most end `skipped`, as they should.

Beside them, the reference: a task that does nothing, through the same kind
of stream broker, with a receiver in this process. Then a `stonkmarket
scheduler` fires `cleanup` on an every-minute cron for BENCH_TICKS ticks
(default 2, so this part takes up to three minutes), and the delay from each
tick to its run's request and start is printed.

    .venv/bin/python scripts/bench_jobs.py

PostgreSQL: a new database through postgresql://postgres@127.0.0.1:5432/test
(BENCH_POSTGRES_URL), dropped at the end. Valkey: redis://127.0.0.1:6379/14
(BENCH_VALKEY_URL), emptied before and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import valkey
from bench_http import fresh_database
from taskiq.api import run_receiver_task
from taskiq_redis import RedisStreamBroker

from stonkmarket.application.job_commands import ChangeSchedule, RequestRun
from stonkmarket.application.job_handlers import change_schedule, load_run
from stonkmarket.infrastructure.config import load_config
from stonkmarket.infrastructure.logging import configure_logging
from stonkmarket.interfaces.bootstrap import Container, build
from stonkmarket.interfaces.worker.runtime import JobRuntime

VALKEY_URL = os.environ.get("BENCH_VALKEY_URL", "redis://127.0.0.1:6379/14")
TICKS = int(os.environ.get("BENCH_TICKS", "2"))
ONE_AT_A_TIME = 50
BURST = 200
WORKERS = 2


@contextlib.contextmanager
def processes(env: dict[str, str], *commands: list[str]) -> Iterator[None]:
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "stonkmarket", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for command in commands
    ]
    try:
        yield
    finally:
        for process in started:
            process.terminate()
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def ended(container: Container, run_ids: list[UUID]) -> None:
    """Wait until every run has ended, reading the runs' events."""
    waiting = set(run_ids)
    while waiting:
        for run_id in list(waiting):
            run = await asyncio.to_thread(load_run, container.store, run_id)
            if run.finished:
                waiting.discard(run_id)
        if waiting:
            await asyncio.sleep(0.01)


async def one_at_a_time(container: Container) -> tuple[float, float]:
    latencies = []
    started = time.perf_counter()
    for _ in range(ONE_AT_A_TIME):
        requested_at = time.perf_counter()
        receipt = await container.request_run(RequestRun(job="cleanup"))
        await ended(container, [UUID(str(receipt.run_id))])
        latencies.append(time.perf_counter() - requested_at)
    seconds = time.perf_counter() - started
    return ONE_AT_A_TIME / seconds, statistics.median(latencies)


async def burst(container: Container) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    receipts = [
        await container.request_run(RequestRun(job="cleanup")) for _ in range(BURST)
    ]
    run_ids = [UUID(str(r.run_id)) for r in receipts]
    await ended(container, run_ids)
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for run_id in run_ids:
        run = await asyncio.to_thread(load_run, container.store, run_id)
        statuses[run.status.value] = statuses.get(run.status.value, 0) + 1
    return BURST / seconds, statuses


async def reference() -> tuple[float, float]:
    """Time a task that does nothing, through a stream broker, with a local receiver."""
    broker = RedisStreamBroker(VALKEY_URL, queue_name="bench:noop")
    done: asyncio.Queue[float] = asyncio.Queue()

    async def nothing(sent: float) -> None:
        done.put_nowait(time.perf_counter() - sent)

    task = broker.register_task(nothing, task_name="bench.nothing")
    await broker.startup()
    receiver = asyncio.create_task(run_receiver_task(broker, max_async_tasks=8))
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    for _ in range(ONE_AT_A_TIME):
        await task.kiq(time.perf_counter())
        await done.get()
    sequential = ONE_AT_A_TIME / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(BURST):
        await task.kiq(time.perf_counter())
    for _ in range(BURST):
        await done.get()
    bursting = BURST / (time.perf_counter() - started)
    receiver.cancel()
    await asyncio.wait({receiver}, timeout=5)
    await broker.shutdown()
    return sequential, bursting


async def ticks(container: Container) -> list[tuple[float, float]]:
    """(request delay, start delay) of each run the scheduler fired, in seconds."""
    deadline = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    deadline += dt.timedelta(minutes=TICKS, seconds=15)
    await asyncio.sleep((deadline - dt.datetime.now(dt.UTC)).total_seconds())
    await container.runner.catch_up()
    page = await container.jobs.runs("cleanup", 200, None)
    delays = []
    for entry in page.runs:
        run = entry.run
        if run.tick is None or run.started_at is None:
            continue
        delays.append(
            (
                (run.requested_at - run.tick).total_seconds(),
                (run.started_at - run.tick).total_seconds(),
            )
        )
    return delays


async def measure(env: dict[str, str]) -> None:
    container = build(load_config(env))
    await container.start()
    await container.register_jobs()
    runtime = JobRuntime(container)
    await runtime.start()
    container.run_queue = runtime
    try:
        workers = [["worker", "--concurrency", "4"]] * WORKERS
        with processes(env, *workers):
            await asyncio.sleep(8)
            sequential, latency = await one_at_a_time(container)
            bursting, statuses = await burst(container)
        noop_sequential, noop_burst = await reference()
        print(f"\ncleanup runs through the Valkey stream, {WORKERS} worker processes:")
        median = f"median {latency * 1000:.0f} ms from request to end"
        print(f"  one at a time  {sequential:>7.1f} runs/s   ({median})")
        print(f"  burst of {BURST}   {bursting:>7.1f} runs/s   ({statuses})")
        print("reference, a task that does nothing, same broker, receiver in-process:")
        print(f"  one at a time  {noop_sequential:>7.1f} tasks/s")
        print(f"  burst of {BURST}   {noop_burst:>7.1f} tasks/s")

        await container.execute(
            change_schedule, ChangeSchedule(name="cleanup", cron="* * * * *")
        )
        with processes(env, ["worker"], ["scheduler"]):
            delays = await ticks(container)
        print(f"\nscheduler, every-minute cron, {len(delays)} ticks:")
        for requested, started in delays:
            print(
                f"  tick to request {requested * 1000:>6.0f} ms, "
                f"tick to start {started * 1000:>6.0f} ms"
            )
    finally:
        await runtime.close()
        await container.close()


def main() -> None:
    configure_logging(level=logging.WARNING)
    # A receiver cancelled at the end of the reference logs its closed stream.
    logging.getLogger("taskiq").setLevel(logging.CRITICAL)
    valkey.Valkey.from_url(VALKEY_URL).flushdb()
    with fresh_database() as database_url, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "VALKEY_URL": VALKEY_URL,
            "DATA_DIR": str(Path(tmp)),
            "LOG_FORMAT": "json",
            "PRICE_SOURCE": "sample",
        }
        asyncio.run(measure(env))
    valkey.Valkey.from_url(VALKEY_URL).flushdb()


if __name__ == "__main__":
    main()
